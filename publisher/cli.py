"""The `publisher` command. A PublisherError is printed as `path:line: message` and exits 1;
any other exception is a bug and keeps its traceback."""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import NoReturn

from publisher.errors import IssueErrors, PublisherError

logger = logging.getLogger(__name__)


def _build(args: argparse.Namespace) -> int:
    """The build, made by the warm process where one answers (`publisher.server`), else here;
    a build made here starts one for the next."""
    from publisher import server

    wanted = _wanted(args)
    if server.serving():
        _refuse_cold(args, wanted)
    elif server.enabled() and (code := server.served(args.argv)) is not None:
        return code
    from publisher.build import build, output_folder

    if args.strict:
        from publisher.source.load import load_issue

        _reviewed(load_issue(args.issue), strict=True)
    build(args.issue, args.output, **wanted, embed_fonts=args.embed_fonts, strict=args.strict)
    if server.enabled() and not server.serving():
        server.start(args.issue, output_folder(args.issue, args.output), press=wanted["press"])
    return 0


def _refuse_cold(args: argparse.Namespace, wanted: dict[str, bool]) -> None:
    """In the warm process: hand back a build that would lay out the sections anew (the EPUB's
    too: its page list reads the print layout's), which wants the command's pool of workers
    and the memory this process holds."""
    from publisher import server
    from publisher.build import output_folder, sections_cached

    if not sections_cached(args.issue, output_folder(args.issue, args.output),
                           press=wanted["press"]):
        raise server.Cold
    logger.info("building in the warm process (pid %d)", os.getpid())


QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


def _one_warm_process() -> None:
    """`watch` and `preview` lay out in their own process unless $PUBLISHER_WORKERS says
    otherwise: an edit lays out one section, fastest where fonts and jieba stay warm, and a
    pool beside warm jieba would not fit the memory budget."""
    os.environ.setdefault("PUBLISHER_WORKERS", "1")


def _an_issue_folder(root: Path) -> None:
    from publisher.source.load import missing_folder

    if (missing := missing_folder(root)) is not None:
        raise missing


def _watch(args: argparse.Namespace) -> int:
    from publisher.watch import report, watch

    _an_issue_folder(args.issue)
    _one_warm_process()
    try:
        watch(args.issue, args.output, on_build=report, **_wanted(args))
    except KeyboardInterrupt:
        pass
    return 0


def _preview(args: argparse.Namespace) -> int:
    from publisher.preview import serve

    _an_issue_folder(args.issue)
    _one_warm_process()
    try:
        serve(args.issue, args.output, port=args.port)
    except KeyboardInterrupt:
        pass
    return 0


def _server(args: argparse.Namespace) -> int:
    from publisher import server

    print("publisher: the warm process was stopped" if server.stop()
          else "publisher: no warm process was running")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from publisher.source.load import load_issue

    issue = load_issue(args.issue)
    notes = _reviewed(issue, strict=args.strict)
    to_review = f", {notes} to review" if notes else ""
    print(f"{args.issue}: {len(issue.articles)} items in {len(issue.columns)} columns, "
          f"no errors{to_review}")
    return 0


def _reviewed(issue, *, strict: bool) -> int:
    """Print the importer's `review:` notes still in the sources as warnings; with `strict`,
    they stop the command. Return how many there are."""
    from publisher.source.load import review_notes

    notes = review_notes(issue)
    for note in notes:
        print(note, file=sys.stderr)
    if strict and notes:
        raise PublisherError(f"publisher: {len(notes)} review note(s) left: check those items, "
                             "remove the notes, then build (--strict)")
    return len(notes)


def _import_text(args: argparse.Namespace) -> int:
    from publisher.importer import import_text

    report = import_text(args.text, args.output, force=args.force, magazine=args.magazine,
                         label=args.label, encoding=args.encoding)
    print("\n".join(report.lines()))
    return 0


def _check(args: argparse.Namespace) -> int:
    from publisher.check import check_pdf

    report = check_pdf(args.pdf)
    print(report.format())
    return 0 if report.passed else 1


def _catalog(args: argparse.Namespace) -> int:
    from publisher.catalog.site import build_catalog

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    summary = build_catalog(args.library, args.output, jobs=args.jobs, scheduler=args.scheduler,
                            progress=progress)
    print("\n".join(summary.lines()))
    return 0 if summary.ok else 1


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a number of processes, 1 or more: {text}")
    return int(text)


def _output_options(command: argparse.ArgumentParser) -> None:
    """The issue and the outputs asked of it, the same for `build` and `watch`."""
    command.add_argument("issue", type=Path, metavar="ISSUE_DIR")
    command.add_argument("-o", "--output", type=Path, metavar="OUT",
                         help="output folder (default: build/<issue folder name>)")
    command.add_argument("--pdf", action="store_true", help="build the PDF")
    command.add_argument("--epub", action="store_true", help="build the EPUB")
    command.add_argument("--press", action="store_true",
                         help="the printer's PDF (2015-10-press.pdf) in place of the print "
                         "one: bleed, crop marks, PDF/X, pages in fours")


def _wanted(args: argparse.Namespace) -> dict[str, bool]:
    """Which outputs to build: with neither --pdf nor --epub, both; --press asks for the PDF
    (the printer's), with --epub too."""
    both = not (args.pdf or args.epub)
    return {"pdf": args.pdf or args.press or both, "epub": args.epub or both,
            "press": args.press}


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="publisher", description="Build an issue of a Chinese magazine, kept as a folder "
        "of Markdown files, into a print-ready PDF and an EPUB; check, lint, count and proof it, "
        "and publish a library of issues as a catalogue.")
    top.add_argument("-q", "--quiet", action="store_true",
                     help="print errors and warnings only, no progress or other information "
                     "(what a command is asked for, such as lint's findings, still prints)")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build an issue into PDF and/or EPUB")
    _output_options(build)
    build.add_argument("--embed-fonts", action="store_true", help="embed subset fonts in the EPUB")
    build.add_argument("--strict", action="store_true",
                       help="refuse to build while items still carry the importer's review notes, "
                       "and fail, writing nothing, on any layout problem the PDF build reports")
    build.set_defaults(run=_build)

    watch = commands.add_parser("watch", help="build, then rebuild whenever a source, layout "
                                "or font file changes (Ctrl-C stops)")
    _output_options(watch)
    watch.set_defaults(run=_watch)

    preview = commands.add_parser("preview", help="show the issue's pages in a browser, "
                                  "rebuilt and reloaded after every change (127.0.0.1 only)")
    preview.add_argument("issue", type=Path, metavar="ISSUE_DIR")
    preview.add_argument("-o", "--output", type=Path, metavar="OUT",
                         help="output folder for the PDF (default: build/<issue folder name>)")
    preview.add_argument("--port", type=int, default=8011,
                         help="port on 127.0.0.1 (default 8011; 0 picks a free one)")
    preview.set_defaults(run=_preview)

    warm = commands.add_parser(
        "server", help="the warm process that makes builds after the first: stop it",
        description="After a build, `publisher build` leaves a process with everything loaded "
        "that makes the next builds of this user's (an edit: about a second); it ends after "
        "$PUBLISHER_SERVER_IDLE seconds (default 900) without a build. PUBLISHER_SERVER=0 "
        "builds without it.")
    warm.add_argument("action", choices=["stop"], help="end it now")
    warm.set_defaults(run=_server)

    validate = commands.add_parser("validate", help="check an issue's sources, write nothing")
    validate.add_argument("issue", type=Path, metavar="ISSUE_DIR")
    validate.add_argument("--strict", action="store_true",
                          help="fail while items still carry the importer's review notes")
    validate.set_defaults(run=_validate)

    imports = commands.add_parser("import-text",
                                  help="turn text extracted from a printed issue into sources")
    imports.add_argument("text", type=Path, metavar="TEXT_FILE")
    imports.add_argument("-o", "--output", type=Path, metavar="ISSUE_DIR", required=True,
                         help="issue folder to write")
    imports.add_argument("--force", action="store_true",
                         help="replace an existing issue.yaml and articles/*.md")
    imports.add_argument("--magazine", help="the masthead, which extracted text lacks")
    imports.add_argument("--label", help="issue label such as 2015·10, if the text has none")
    # GB18030 holds GBK and GB2312, in which Chinese Windows saves plain text.
    imports.add_argument("--encoding", choices=("utf-8", "gb18030"), default="utf-8",
                         help="what the text is saved in: utf-8 (the default), or gb18030 for "
                         "a text saved in GBK or GB2312, as Chinese Windows saves it")
    imports.set_defaults(run=_import_text)

    check = commands.add_parser(
        "check", help="measure the Chinese typesetting rules on a built PDF",
        description="Measure the house style's Chinese typesetting rules on a built PDF: 1 no "
        "closing mark at a line start or opening mark at a line end, 2 no split —— or ……, 4 full "
        "lines flush with the column edge, 5 adjacent punctuation in 1.5em, 6 at least ⅛em "
        "between Han and Latin or digits, 7 no one-character last line or lone last line at a "
        "column top, 8 no missing glyph and every font embedded, 9 body lines on the page's line "
        "grid; and, counted but not yet failing, 10 loose lines (a gap between Han characters "
        "widened by more than 0.1em). Prints each violation with page, column and line text, "
        "the total per rule and the share of flush full lines; exits 1 when rules 1, 2, 4, 8 "
        "or 9 have any violation.")
    check.add_argument("pdf", type=Path, metavar="PDF")
    check.set_defaults(run=_check)

    catalog = commands.add_parser(
        "catalog", help="build a library of issues into a site: OPDS catalogue, phone page, "
        "EPUBs, screen PDFs, annual indexes",
        description="Build every issue under LIBRARY_DIR (folders with an issue.yaml) into a "
        "static site: per issue the EPUB, a screen PDF, the cover and a page with its 目录; an "
        "OPDS 1.2 catalogue; index.html for phones; each year's annual index. Only issues whose "
        "sources, layouts or fonts changed are rebuilt. Exits 1 if any issue failed.")
    catalog.add_argument("library", type=Path, metavar="LIBRARY_DIR")
    catalog.add_argument("-o", "--output", type=Path, metavar="SITE_DIR", required=True,
                         help="the site's folder (kept between runs: it remembers what it holds)")
    where = catalog.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive, metavar="N",
                       help="issues built at once in local processes (default: the cores)")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="send the builds to this Dask distributed scheduler's workers")
    catalog.set_defaults(run=_catalog)

    from publisher.desk.cli import add_commands

    add_commands(commands)
    return top


class Terminated(BaseException):
    """SIGTERM, raised where the program is, like KeyboardInterrupt for Ctrl-C."""


def _stop(signum, frame) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="publisher: %(message)s",
        stream=sys.stderr,
    )
    # After a kill -9, Python's resource tracker frees the section pool's semaphores itself:
    # it need not warn about them (its process takes the flag when it starts).
    if QUIET_TRACKER not in sys.warnoptions:
        sys.warnoptions.append(QUIET_TRACKER)
    # SIGTERM unwinds like Ctrl-C, so that temporary files are removed on the way out.
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("publisher: stopped (Ctrl-C)", file=sys.stderr)
        return 130
    except Terminated:
        print("publisher: stopped (SIGTERM)", file=sys.stderr)
        return 143
    except IssueErrors as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"publisher: {len(exc.errors)} problem(s) found", file=sys.stderr)
        return 1
    except PublisherError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader stopped reading (`publisher check … | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def run() -> NoReturn:
    """The `publisher` command: `main`, then an end without Python's teardown, which spent
    0.6 s after every build freeing its objects one by one (the system frees a process at
    once). What must happen at exit happens first, in Python's order: the wait for threads
    with the end of process pools, the exit handlers (logging's, the end of helper
    processes), the flush of the output streams."""
    code = main()
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # the reader stopped reading: nothing more to say to it
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
