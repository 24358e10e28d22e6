"""The line grid (行格, issue #13): every line of body text on its page's grid, whatever height
the headings, title blocks, boxes, rules and pictures above it take; facing columns share
baselines and full columns end on the block's last line. Rule 9 of `publisher check` measures
it; the positions here are read from the PDF's glyphs directly."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pdfplumber
import pytest
import weasyprint

from publisher.build import build
from publisher.check import check_pdf
from publisher.context import resolve
from publisher.pdf.html import issue_html
from publisher.source.load import load_issue
from tests.conftest import ROOTS

PITCH = 17.5
BODY = 10.5


@pytest.fixture(scope="module")
def grid_pdf(tmp_path_factory) -> Path:
    return build(ROOTS / "typeset-grid", tmp_path_factory.mktemp("grid"), pdf=True,
                 epub=False)[0]


def baselines(pdf: Path) -> dict[tuple[int, str], list[float]]:
    """Baselines of body-size glyphs of text (not of the 黑体 headings, which stand centred in
    their two lines) by page and column (left or right of the page's middle), the running head
    and folio left out."""
    found: dict[tuple[int, str], set[float]] = defaultdict(set)
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, 1):
            for char in page.chars:
                if (round(char["size"], 1) != BODY or not char["text"].strip()
                        or "Sans" in char["fontname"]):
                    continue
                y = round(page.height - char["matrix"][5], 1)
                if 80 < y < page.height - 70:
                    side = "left" if char["x0"] < page.width / 2 else "right"
                    found[number, side].add(y)
    return {key: sorted(ys) for key, ys in found.items()}


def phases(pdf: Path) -> list[float]:
    return [y % PITCH for ys in baselines(pdf).values() for y in ys]


def test_lines_after_headlines_headings_rules_and_boxes_stay_on_the_grid(grid_pdf):
    report = check_pdf(grid_pdf)
    totals = report.totals()
    assert [totals[rule] for rule in (1, 2, 4, 5, 6, 7, 8, 9)] == [0] * 8, report.format()
    found = phases(grid_pdf)
    assert len(found) > 60
    # One grid: the same phase on every page and column.
    assert all(min(abs(a - found[0]), PITCH - abs(a - found[0])) < 0.2 for a in found), found


def test_bare_weasyprint_sets_the_same_issue_off_the_grid(tmp_path):
    issue = load_issue(ROOTS / "typeset-grid")
    pdf = tmp_path / "bare.pdf"
    weasyprint.HTML(string=issue_html(resolve(issue)),
                    base_url=issue.root.resolve().as_uri() + "/").write_pdf(pdf)
    report = check_pdf(pdf)
    assert report.totals()[9] > 10, report.format()
    assert not report.passed


def test_facing_columns_share_baselines(grid_pdf):
    lines = baselines(grid_pdf)
    shared = 0
    for (page, side), ys in lines.items():
        if side == "right" and (page, "left") in lines:
            left = lines[page, "left"]
            shared += len(set(ys) & set(left))
            assert all(min(abs(y - x) % PITCH for x in left) < 0.2 for y in ys)
    assert shared > 10


def test_the_sample_sets_its_body_text_on_the_grid_at_its_trim_and_at_a4(sample_pdf, a4_sample):
    for pdf in (sample_pdf, a4_sample[1]):
        report = check_pdf(pdf)
        assert report.totals()[9] == 0, report.format()
        assert report.passed


def test_full_columns_end_on_the_blocks_last_line(sample_pdf):
    """Folio 6 (要闻要论): the next brief's head and two lines do not fit under the right column's
    last brief; the lines it leaves open before that brief instead, so both columns end on the
    block's last line."""
    from pypdf import PdfReader

    page = PdfReader(sample_pdf).page_labels.index("6") + 1
    lines = baselines(sample_pdf)
    assert max(lines[page, "left"]) == max(lines[page, "right"])
