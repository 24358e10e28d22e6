"""The desk's subcommands: lint, stats, proof, diff, offprints."""

from __future__ import annotations

import argparse
from pathlib import Path


def _lint(args: argparse.Namespace) -> int:
    from publisher.desk.lint import lint

    report = lint(args.target, fix=args.fix)
    print(report.format())
    return 0 if args.exit_zero or not report.findings else 1


def add_commands(commands) -> None:
    """Add the desk's subcommands to the `publisher` parser's subparsers."""
    from publisher.desk.lint import RULES

    lint = commands.add_parser(
        "lint", help="copy-editing checks for simplified Chinese on an issue's sources",
        description="Check an issue's sources (or one article) for copy-editing slips and print "
        "each as `path:line:col: rule: message: found → suggestion`. Rules: "
        + "; ".join(f"{name} ({what})" for name, what in RULES.items())
        + ". Switch rules off for an issue with `lint: {disable: [rule, …]}` in issue.yaml, for "
        "one body line with a line `[//]: # (lint: disable rule …)` before it, for a front matter "
        "line with `# lint: disable rule …` at its end. Exits 1 when there are findings.")
    lint.add_argument("target", type=Path, metavar="ISSUE_DIR|FILE")
    lint.add_argument("--fix", action="store_true",
                      help="apply the mechanical fixes (half-width marks, full-width digits, "
                      "typed dashes and ellipses, doubled marks, spaces in the body) and list "
                      "the rest")
    lint.add_argument("--exit-zero", action="store_true", help="exit 0 even with findings")
    lint.set_defaults(run=_lint)
