"""The 目录's page numbers, drawn by the furniture over a 目录 laid out without them
(publisher.pdf.toc_numbers), print as laying the 目录 out with its numbers prints them: each
digit in the same place, font, size and colour, whatever the layouts' rules for them."""

from __future__ import annotations

import contextlib
import logging
import shutil

import pytest

from tests.conftest import BUILD_WARNINGS, ROOTS, SAMPLE, build_logged


def _chars(pdf_path, pages: range, bottom: float) -> list[list[tuple]]:
    """Each page's characters above `bottom` (pt from the top): text, place, font, size and
    colour; not spaces, which carry no ink (WeasyPrint draws the space that ends a table
    cell's text in some layouts and not in others)."""
    import pdfplumber

    with pdfplumber.open(pdf_path) as pdf:
        return [sorted((c["text"], round(c["x0"], 2), round(c["top"], 2),
                        c["fontname"].partition("+")[2], round(c["size"], 2),
                        tuple(round(v, 2) for v in c["non_stroking_color"]))
                       for c in pdf.pages[index].chars if c["text"] != " " and c["top"] < bottom)
                for index in pages]


def _pixels(pdf_path, pages: range, out) -> list[bytes]:
    """The pages rendered (poppler, 50 dpi), as RGB bytes: what a reader sees, so a number that
    is clipped or painted over differs."""
    import subprocess

    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", str(pages[0] + 1), "-l",
                    str(pages[-1] + 1), str(pdf_path), str(out)], check=True)
    return [Image.open(png).convert("RGB").tobytes()
            for png in sorted(out.parent.glob(f"{out.name}-*.png"))]


def _compared(root, built, tmp_path, monkeypatch) -> tuple[list, list]:
    """The characters of the built PDF's 目录 pages above their folios, with the pages as
    rendered, and the same of the front pages laid out again with the 目录's numbers as text
    (`toc_folios`, the folios the build gave the items), as builds did before the furniture
    drew them."""
    from publisher.context import resolve
    from publisher.pdf.grid import MM, Grid
    from publisher.pdf.sections import Job, lay_out, lay_out_issue
    from publisher.pdf.weasyprint import fontshare
    from publisher.source.load import load_issue

    context = resolve(load_issue(root))
    laid_out = lay_out_issue(context, press=False, out_dir=tmp_path)  # from the build's cache
    folios = laid_out.item_folios()
    front = laid_out.jobs[0]
    monkeypatch.setattr(Job, "css", lambda job, context: (
        ".toc-page::after { content: none !important; }"))
    # Its fonts subset in its own file, as WeasyPrint writes them, so that it renders alone.
    monkeypatch.setattr(fontshare, "deferred", contextlib.contextmanager(lambda: iter([[]])))
    again = lay_out(context, Job(front.part, False, tuple(
        (anchor, folios.get(anchor, "")) for anchor, _ in front.toc_folios)), in_process=True)
    (tmp_path / "front.pdf").write_bytes(again.pdf)
    toc = [index for index, name in enumerate(again.page_names) if name == "toc"]
    assert toc, "the front has no 目录 page"
    _, bottom, _, _ = Grid(context.issue.trim, False).margins()
    text_block_foot = context.issue.trim.height * MM - bottom
    pages = range(toc[0], toc[-1] + 1)
    return ((_chars(built, pages, text_block_foot), _pixels(built, pages, tmp_path / "built")),
            (_chars(tmp_path / "front.pdf", pages, text_block_foot),
             _pixels(tmp_path / "front.pdf", pages, tmp_path / "again")))


def test_the_numbers_print_where_the_toc_laid_out_with_them_prints_them(sample_pdf, tmp_path,
                                                                         monkeypatch):
    (printed, seen), (laid_out_with_them, seen_then) = _compared(SAMPLE, sample_pdf, tmp_path,
                                                                  monkeypatch)
    assert printed == laid_out_with_them
    assert seen == seen_then
    assert sum(c[0].isdigit() for page in printed for c in page) > 60


# An issue's own print.css sets the numbers bold, blue and larger, by rules that reach them
# through the 目录's columns, entries and ids and by their link, and puts a mark before each;
BLUE = (".toc-columns .toc-entry .toc-page { color: #1030c0; font-weight: bold; }\n"
        "#toc .toc-page:link { font-size: 12pt; }\n"
        '.toc-page::before { content: "#"; }\n')
# and its 目录 groups clip what overflows them, the 目录 is a page high, the page has a
# background;
CLIPPED = (".toc-group { overflow: hidden; } .toc { min-height: var(--block-height); }\n"
           "html { background: #fff8e0; }\n")
# or it sets each number at its entry's foot, out of the flow, and each entry on a page of
# its own.
OUT_OF_FLOW = (".toc-entry { display: block; position: relative; padding-right: 3em; }\n"
               ".toc-page { position: absolute; right: 0; bottom: 0; }\n"
               ".toc-columns { column-count: 1; }\n"
               ".toc-entry + .toc-entry { break-before: page; }\n")


@pytest.mark.parametrize("rules", [BLUE + CLIPPED, BLUE + OUT_OF_FLOW],
                         ids=["clipped", "out of the flow"])
def test_the_numbers_follow_the_layouts_rules_for_them(tmp_path, monkeypatch, caplog, rules):
    from publisher import templates

    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    (root / "layouts").mkdir()
    css = (templates.shipped("layouts") / "print.css").read_text(encoding="utf-8") + rules
    (root / "layouts" / "print.css").write_text(css, encoding="utf-8")
    (built,) = build_logged(root, tmp_path / "out", pdf=True, epub=False)
    (printed, seen), (laid_out_with_them, seen_then) = _compared(root, built, tmp_path,
                                                                  monkeypatch)
    assert printed == laid_out_with_them
    assert seen == seen_then
    blue = [c for page in printed for c in page if c[5] == (0.06, 0.19, 0.75)]
    assert len(blue) >= 4 and all((c[0].isdigit() or c[0] == "#") and c[4] == 12
                                  and "Bold" in c[3] for c in blue), printed
    assert sum(c[0] == "#" for c in blue) == 2
    assert not [message for message in BUILD_WARNINGS[built] if "目录" in message]
    assert not [record.getMessage() for record in caplog.records
                if record.name.startswith("weasyprint") and record.levelno >= logging.WARNING]


def test_a_build_lays_the_front_out_once(tmp_path, monkeypatch):
    """The front's layout, with the sections, is the one the PDF prints: no second layout of
    the 目录 waits for the page numbers at the end of a build."""
    from publisher.pdf import sections

    laid_out = []
    original = sections.lay_out

    def counting(context, job, **kwargs):
        laid_out.append(job.part.kind if job.part else "furniture")
        return original(context, job, **kwargs)

    monkeypatch.setattr(sections, "lay_out", counting)
    monkeypatch.setenv("PUBLISHER_WORKERS", "1")
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    build_logged(ROOTS / "good-minimal", tmp_path / "out", pdf=True, epub=False)
    assert laid_out.count("front") == 1
    assert laid_out[-1] == "furniture"



def test_an_entry_without_a_number_cell_is_a_layout_problem(tmp_path):
    """An issue's own 目录 that prints its numbers some other way gets none printed: each item
    it lists is reported, as an item missing from the 目录 is."""
    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    toc = root / "layouts" / "partials" / "toc.html.j2"
    toc.parent.mkdir(parents=True)
    toc.write_text('<section class="toc" id="toc">{% for run in runs %}'
                   '{% for item in run["items"] %}'
                   '<p class="toc-entry" data-item="{{ item.article.anchor }}">'
                   '{{ item.label }}<span class="number"></span></p>'
                   "{% endfor %}{% endfor %}</section>\n", encoding="utf-8")
    (built,) = build_logged(root, tmp_path / "out", pdf=True, epub=False)
    unnumbered = [message for message in BUILD_WARNINGS[built]
                  if "the 目录 lists this item without its page number" in message]
    assert len(unnumbered) == 2, BUILD_WARNINGS[built]
