"""`publisher diff` on two builds that differ by one sentence, and on a re-flow."""

from __future__ import annotations

import re
import subprocess

import pdfplumber
from PIL import Image
from pypdf import PdfReader

from publisher.check import PrintedLine
from publisher.cli import main
from publisher.desk.diff import DiffReport, PageChange, diff, mark
from tests.conftest import SAMPLE
from tests.desk.conftest import NEW_TITLE, REPLACEMENT, RETITLED_FILE, SENTENCE, TITLE


def folio_of(pdf, text: str) -> str:
    """The printed folio of the page whose text holds `text` (found with pdfplumber)."""
    labels = PdfReader(pdf).page_labels
    with pdfplumber.open(pdf) as plumber:
        (index,) = [i for i, page in enumerate(plumber.pages)
                    if text in re.sub(r"\s", "", page.extract_text() or "")]
    return labels[index]


def test_diff_names_only_the_edited_page(sample_pdf, edited_pdf, sample_laid_out,
                                         edited_laid_out, tmp_path, capsys):
    folio = folio_of(sample_pdf, SENTENCE[-12:])
    marked = tmp_path / "marked.pdf"
    assert main(["diff", str(sample_pdf), str(edited_pdf), "-o", str(marked)]) == 0
    out = capsys.readouterr().out.splitlines()
    pages = [line for line in out if line.startswith("page ")]
    assert len(pages) == 1 and pages[0].startswith(f"page {folio}: edited, ")
    changes = [line.strip() for line in out if line.startswith("  ")]
    before = "".join(c.split(" → ")[0] for c in changes)
    after = "".join(c.split(" → ")[1] for c in changes)
    # The changed lines hold the sentence, and nothing else on them changed.
    assert SENTENCE in before and before.replace(SENTENCE, REPLACEMENT) == after
    assert out[-2:] == ["1 changed plate(s); re-flowed pages: none", f"marked: {marked}"]
    # The marked copy: the new proof, yellow only on the edited page.
    assert len(PdfReader(marked).pages) == len(PdfReader(edited_pdf).pages)
    index = PdfReader(marked).page_labels.index(folio)
    for page, expect in ((index, True), (index + 1, False)):
        subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", str(page + 1), "-l",
                        str(page + 1), "-singlefile", str(marked), str(tmp_path / f"p{page}")],
                       check=True)
        image = Image.open(tmp_path / f"p{page}.png").convert("RGB")
        yellow = sum(1 for r, g, b in image.get_flattened_data() if r > 200 and g > 170 and b < 120)
        assert (yellow > 50) == expect


def test_a_retitled_article_is_its_line_in_the_toc(sample_issue, sample_pdf, retitled_pdf,
                                                   capsys):
    """The 目录's two columns were read as one line each: a changed entry was paired with the
    entry beside it, in the other column."""
    (item,) = [a for a in sample_issue.articles if a.path == sample_issue.root / RETITLED_FILE]
    reader = PdfReader(sample_pdf)
    toc, folio = (reader.page_labels[reader.get_destination_page_number(
        reader.named_destinations[name])] for name in ("toc", item.anchor))
    assert main(["diff", str(sample_pdf), str(retitled_pdf)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line for line in out if line.startswith("page ")] == [
        f"page {toc}: edited, 1 line(s) changed", f"page {folio}: edited, 1 line(s) changed"]
    assert [line for line in out if line.startswith("  ")] == [f"  {TITLE} → {NEW_TITLE}"] * 2


def test_the_toc_is_read_column_by_column(sample_pdf, sample_laid_out):
    """On each page of the 目录, between lines that cross the page's middle, the left column's
    lines are read before the right column's, and none is read across both."""
    reader = PdfReader(sample_pdf)
    first = reader.get_destination_page_number(reader.named_destinations["toc"]) + 1
    items = min(anchor.page for anchor in sample_laid_out.anchors.values())
    assert items > first
    for page in range(first, items):
        middle = sample_laid_out.widths[page - 1] / 2
        lines = [line for line in sample_laid_out.reading_order if line.page == page]
        lines.remove(max(lines, key=lambda line: line.y))  # the folio, at the foot
        sides = "".join("L" if line.x1 < middle else "R" if line.x0 > middle else "|"
                        for line in lines)
        for line in lines:  # a line across the page (the imprint's) has no gutter in it
            pairs = zip(line.chars, line.chars[1:], strict=False)
            assert not any(b["x0"] - a["x1"] > a["size"] for a, b in pairs
                           if a["x1"] <= middle <= b["x0"]), line.text
        bands = sides.split("|")
        assert all(re.fullmatch("L*R*", band) for band in bands), (page, sides)
        assert max(bands, key=len).count("R") > 10  # the 目录's right column


def test_a_marked_copy_rules_where_text_was_taken_out(sample_pdf, sample_laid_out, tmp_path):
    """Text cut had no line in the new proof to highlight: the marked copy showed nothing."""
    line = next(ln for ln in sample_laid_out.reading_order
                if ln.page == 20 and sample_laid_out.in_text_block(ln) and ln.x1 - ln.x0 > 100)
    label = sample_laid_out.labels[line.page - 1]
    report = DiffReport([PageChange(label, True, [("删去的一行", "")], cuts=[(line, True)])],
                        [], [])
    marked = mark(sample_pdf, report, tmp_path / "marked.pdf")
    for pdf, expect in ((sample_pdf, False), (marked, True)):
        subprocess.run(["pdftoppm", "-r", "72", "-png", "-f", "20", "-l", "20", "-singlefile",
                        str(pdf), str(tmp_path / "page")], check=True)
        image = Image.open(tmp_path / "page.png").convert("RGB")
        bottom = max(c["bottom"] for c in line.chars)
        band = image.crop((round(line.x0), round(bottom), round(line.x1), round(bottom) + 6))
        red = sum(1 for r, g, b in band.get_flattened_data() if r > 200 and g < 90 and b < 90)
        assert (red > line.x1 - line.x0 - 10) == expect


def test_a_marked_proof_goes_only_into_a_folder_that_is_there(sample_pdf, tmp_path, capsys):
    target = tmp_path / "no" / "such" / "marked.pdf"
    assert main(["diff", str(sample_pdf), str(sample_pdf), "-o", str(target)]) == 1
    assert capsys.readouterr().err == f"{target.parent}: no such folder for the marked proof\n"
    assert not (tmp_path / "no").exists()


def test_a_marked_copy_is_not_taken_for_a_proof(sample_pdf, tmp_path, capsys):
    """diff -o's copy records the proof's texts: it was kept as a round, cut into offprints."""
    marked = tmp_path / "marked.pdf"
    assert main(["diff", str(sample_pdf), str(sample_pdf), "-o", str(marked)]) == 0
    capsys.readouterr()
    for command in (["proof", "--round", "二校"], ["offprints"], ["stats"]):
        assert main([*command, str(SAMPLE), "--pdf", str(marked), "-o", str(tmp_path)]) == 1
        assert capsys.readouterr().err == (
            f"{marked}: is a copy `publisher diff -o` marked in yellow, not a proof: give the "
            "proof it was made from\n")
    assert not (tmp_path / "proofs").exists() and not (tmp_path / "offprints").exists()


class Proof:
    """Two pages of printed lines, as LaidOutIssue gives them."""

    def __init__(self, pages: list[list[str]], heads: bool = False):
        self.heads = heads
        self.labels = [str(n) for n in range(1, len(pages) + 1)]
        self.lines = [PrintedLine(n, 100.0 + 20 * k, tuple(
            {"text": c, "x0": 50.0 + 10 * i, "x1": 60.0 + 10 * i, "top": 90.0 + 20 * k,
             "bottom": 100.0 + 20 * k} for i, c in enumerate(text)), True)
            for n, page in enumerate(pages, 1) for k, text in enumerate(page)]
        self.reading_order = self.lines

    def in_text_block(self, line: PrintedLine) -> bool:
        # With running heads, the first line of each page is its head.
        return not self.heads or line.y > 100.0


def test_reflow_is_told_from_the_edit():
    old = Proof([["甲乙丙丁", "戊己庚辛", "壬癸子丑"], ["寅卯辰巳", "午未申酉"]])
    # 乙 is corrected to 二三: the paragraph runs on, and one character moves to page 2.
    new = Proof([["甲二三丙", "丁戊己庚", "辛壬癸子"], ["丑寅卯辰", "巳午未申", "酉"]])
    report = diff(old, new)
    assert [(p.label, p.edited) for p in report.pages] == [("1", True), ("2", False)]
    assert report.format().splitlines()[-1] == "2 changed plate(s); re-flowed pages: 2"
    assert diff(old, old).pages == []


def test_text_cut_at_a_page_foot_is_an_edit_of_that_page():
    # A box at the foot of page 1 is deleted; page 2, where the next line stands, is unchanged.
    old = Proof([["甲乙丙丁", "微书摘", "戊己庚辛"], ["壬癸子丑"]])
    new = Proof([["甲乙丙丁"], ["壬癸子丑"]])
    report = diff(old, new)
    assert [(p.label, p.edited) for p in report.pages] == [("1", True)]
    assert report.pages[0].format().splitlines()[1:] == ["  微书摘 → ∅", "  戊己庚辛 → ∅"]
    # The marked copy rules the gap below the line the cut text followed.
    assert [(line.text, below) for line, below in report.pages[0].cuts] == [("甲乙丙丁", True)]
    # Characters cut from the end of a line that stays on page 1.
    new = Proof([["甲乙丙丁", "微书摘", "戊己"], ["壬癸子丑"]])
    assert [(p.label, p.edited) for p in diff(old, new).pages] == [("1", True)]


def test_a_renamed_running_head_is_an_edit():
    """A column renamed in issue.yaml: its pages were called re-flowed, the new head unlisted."""
    def proof(*heads: str) -> Proof:
        return Proof([[head, text] for head, text in zip(heads, ["甲乙丙丁", "戊己庚辛", "壬癸"],
                                                          strict=True)], heads=True)

    old = proof("【书记部长谈党建】", "【书记部长谈党建】", "【调查研究】")
    report = diff(old, proof("【书记谈党建】", "【书记谈党建】", "【调查研究】"))
    assert [(p.label, p.edited) for p in report.pages] == [("1", True), ("2", True)]
    assert report.pages[0].changes == [("【书记部长谈党建】", "【书记谈党建】")]
    # A head that moves with its column in a re-flow is none.
    report = diff(old, proof("【书记部长谈党建】", "【调查研究】", "【调查研究】"))
    assert [(p.label, p.edited) for p in report.pages] == [("2", False)]
