"""The desk's subcommands: lint, stats, proof, diff, offprints."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path


def _lint(args: argparse.Namespace) -> int:
    from publisher.desk.lint import lint

    report = lint(args.target, fix=args.fix)
    print(report.format())
    return 0 if args.exit_zero or not report.findings else 1


def _stats(args: argparse.Namespace) -> int:
    from publisher.desk.stats import as_csv, as_json, as_table, stats, write_fee_sheet
    from publisher.output import output_stem

    issue, out_dir, pdf = _issue_pdf(args)
    items, total = stats(issue, pdf)
    print(as_json(items, total) if args.json else as_csv(items, total) if args.csv
          else as_table(items, total))
    if issue.fees:
        sheet = write_fee_sheet(items, out_dir / f"{output_stem(issue)}-fees.csv")
        logging.getLogger(__name__).info("wrote %s", sheet)
    return 0


def _issue_pdf(args: argparse.Namespace):
    """The issue, its output folder and its PDF (`_pdf`)."""
    issue, out_dir = _issue_out(args)
    return issue, out_dir, _pdf(args, issue, out_dir)


def _issue_out(args: argparse.Namespace):
    from publisher.source.load import load_issue

    issue = load_issue(args.issue)
    return issue, args.output or Path("build") / args.issue.resolve().name


def _pdf(args: argparse.Namespace, issue, out_dir: Path) -> Path:
    """--pdf, made from the issue's texts as they are, else OUT/<issue>.pdf brought up to
    date with the sources."""
    from publisher.desk.layout import require_texts
    from publisher.desk.stats import pdf_for

    if args.pdf:
        require_texts(args.pdf, issue)
    return args.pdf or pdf_for(issue, out_dir)


def _proof(args: argparse.Namespace) -> int:
    from publisher.desk.layout import read_pdf
    from publisher.desk.proof import keep_proof, proof_paths, refuse_kept_round
    from publisher.output import output_stem

    issue, out_dir = _issue_out(args)
    target, sheet = proof_paths(out_dir, output_stem(issue), args.round)
    # A mistyped round, or one already kept, is refused before the build, not after it.
    refuse_kept_round(target, args.force)
    pdf = _pdf(args, issue, out_dir)
    keep_proof(pdf, list(read_pdf(pdf).page_labels), target, sheet, force=args.force)
    print(f"{args.round}: {target}\ncontact sheet: {sheet}")
    return 0


def _diff(args: argparse.Namespace) -> int:
    from publisher.desk.diff import diff, mark
    from publisher.desk.layout import LaidOutIssue
    from publisher.errors import PublisherError

    # A mistyped folder would take the marked proof where nobody looks for it.
    if args.output and not args.output.parent.is_dir():
        raise PublisherError("no such folder for the marked proof", args.output.parent)
    new = LaidOutIssue(args.new)
    report = diff(LaidOutIssue(args.old), new)
    print(report.format())
    if args.output:
        mark(args.new, report, args.output)
        print(f"marked: {args.output}")
    return 0


def _offprints(args: argparse.Namespace) -> int:
    from publisher.desk.layout import LaidOutIssue
    from publisher.desk.offprints import offprints

    issue, out_dir, pdf = _issue_pdf(args)
    laid_out = LaidOutIssue(pdf)
    for path in offprints(issue, laid_out, out_dir):
        print(path)
    return 0


def add_commands(commands) -> None:
    """Add the desk's subcommands to the `publisher` parser's subparsers."""
    from publisher.desk import LINT_RULES

    lint = commands.add_parser(
        "lint", help="copy-editing checks for simplified Chinese on an issue's sources",
        description="Check an issue's sources (or one article) for copy-editing slips and print "
        "each as `path:line:col: rule: message: found → suggestion`. Rules: "
        + "; ".join(f"{name} ({what})" for name, what in LINT_RULES.items())
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

    stats = commands.add_parser(
        "stats", help="counts per item and for the issue: characters, lines, 版面字数, fees",
        description="Per item and for the issue: Han characters, all characters, paragraphs and "
        "jieba words from the sources; folios, printed lines and 版面字数 (characters per line × "
        "printed lines, title lines and short last lines counted full) from the PDF; with "
        "`fees: {per_thousand: 100}` in issue.yaml, the fee per item, and a fee sheet per "
        "author written to OUT/<issue>-fees.csv. The PDF is OUT/<issue>.pdf, built first when "
        "missing or older than the sources, unless --pdf names one.")
    stats.add_argument("issue", type=Path, metavar="ISSUE_DIR")
    _pdf_options(stats)
    form = stats.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print JSON")
    form.add_argument("--csv", action="store_true", help="print CSV")
    stats.set_defaults(run=_stats)

    proof = commands.add_parser(
        "proof", help="keep a proof round's PDF and a contact sheet under OUT/proofs/",
        description="Keep the issue's PDF as proof round ROUND (一校, 二校, 三校 …): "
        "OUT/proofs/<issue>-ROUND.pdf and a contact sheet of all pages in spreads, "
        "OUT/proofs/<issue>-ROUND-contact.png. A kept round is not replaced without --force.")
    proof.add_argument("issue", type=Path, metavar="ISSUE_DIR")
    proof.add_argument("--round", required=True, metavar="ROUND", help="e.g. 一校")
    proof.add_argument("--force", action="store_true", help="replace a kept proof of ROUND")
    _pdf_options(proof)
    proof.set_defaults(run=_proof)

    compare = commands.add_parser(
        "diff", help="what changed between two proofs, page by page",
        description="Compare two PDFs of an issue page by page (pages matched by folio): one "
        "line per changed page, `page <folio>: edited|re-flowed`, with the changed lines "
        "before → after, and the count of changed plates. -o writes a copy of NEW with the "
        "changed lines highlighted.")
    compare.add_argument("old", type=Path, metavar="OLD.pdf")
    compare.add_argument("new", type=Path, metavar="NEW.pdf")
    compare.add_argument("-o", "--output", type=Path, metavar="MARKED.pdf",
                         help="write NEW with the changed lines highlighted")
    compare.set_defaults(run=_diff)

    cut = commands.add_parser(
        "offprints",
        help="单篇抽印: one PDF per article, speech and editorial, cut from the issue PDF",
        description="Cut one PDF per item with pages of its own (articles, speeches, "
        "editorials) from the issue PDF into OUT/offprints/NNN-slug.pdf, with the item's "
        "title, author and keywords, the printed folios as page labels, and its bookmarks.")
    cut.add_argument("issue", type=Path, metavar="ISSUE_DIR")
    _pdf_options(cut)
    cut.set_defaults(run=_offprints)


def _pdf_options(command) -> None:
    command.add_argument("--pdf", type=Path, metavar="PATH",
                         help="use this PDF of the issue (default: OUT/<issue>.pdf, built "
                         "first when missing or older than the sources)")
    command.add_argument("-o", "--output", type=Path, metavar="OUT",
                         help="output folder (default: build/<issue folder name>)")
