"""Chinese typesetting (the house style's rules 1–8, listed in publisher/check.py), measured
on built PDFs with `publisher check`.

Each `typeset-*` root provokes one rule in a 21-character column; the same sources laid out by
bare WeasyPrint (no text pass, no patches: they are removed after each build) show that the
checker does see the faults the project removes.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from xml.etree import ElementTree

import pytest
import weasyprint
from hypothesis import given
from hypothesis import strategies as st

from publisher import cjk
from publisher.build import build
from publisher.check import CheckReport, check_pdf, read_printed_lines
from publisher.cli import main
from publisher.context import resolve
from publisher.pdf.html import issue_html
from publisher.pdf.typeset import _marked, _texts, typeset
from publisher.source.load import load_issue
from tests.conftest import ROOT, ROOTS

EM = 10.5
SCENARIOS = ("typeset-line-breaks", "typeset-latin", "typeset-punctuation", "typeset-last-line",
             "typeset-evener")

@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("typeset")
    return {name: build(ROOTS / name, out / name, pdf=True, epub=False)[0] for name in SCENARIOS}


@pytest.fixture(scope="module")
def bare(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("bare")
    pdfs = {}
    for name in SCENARIOS:
        issue = load_issue(ROOTS / name)
        pdfs[name] = out / f"{name}.pdf"
        weasyprint.HTML(string=issue_html(resolve(issue)),
                        base_url=issue.root.resolve().as_uri() + "/").write_pdf(pdfs[name])
    return pdfs


def body_lines(pdf: Path):
    return [line for line in read_printed_lines(pdf) if line.body]


@given(st.lists(st.one_of(st.none(), st.text("中文a1 “”‘’，。、：《》（）——…\ue000\ue002",
                                             max_size=8)), max_size=12))
def test_a_text_run_is_marked_block_by_block_as_whole(texts):
    """The character rules see no neighbour across a block's end: a run marked block by block,
    each block as marked before where it was, is the run marked whole."""
    assert _marked(texts) == _texts(texts)
    assert _marked(texts) == _texts(texts)


def test_sample_keeps_rules_1_2_4_8_and_is_flush(sample_pdf):
    report = check_pdf(sample_pdf)
    totals = report.totals()
    assert [totals[rule] for rule in (1, 2, 4, 8)] == [0, 0, 0, 0], report.format()
    assert report.full_lines > 500
    assert report.flush_share >= 0.994  # Typst's share on the same text
    assert totals[5] == 0  # every adjacent pair at 1.5em, 》《 and ”（ too
    assert totals[10] <= 8  # loose lines: 90 before #17; Vivliostyle has 8


def test_cli_check_prints_totals_and_share(sample_pdf, capsys):
    assert main(["check", str(sample_pdf)]) == 0
    out = capsys.readouterr().out
    assert "rule 4:    0" in out
    assert "flush full lines:" in out


def test_check_names_pages_by_their_printed_folios(sample_pdf, capsys):
    # The sample's PDF opens with 封面 and 封二: its 6th page is folio 4, and an editor turns
    # to the page that build warnings, `stats` and the 目录 would call p. 4.
    from pypdf import PdfReader

    labels = PdfReader(sample_pdf).page_labels
    report = check_pdf(sample_pdf)
    assert report.violations, "the sample's loose lines (rule 10) show how pages are named"
    assert any(label != str(v.page) for v in report.violations
               for label in [labels[v.page - 1]])
    assert main(["check", str(sample_pdf)]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("p. ")]
    assert printed == [f"p. {labels[v.page - 1]}, {v.column}: rule {v.rule} ({v.detail}): "
                       f"{v.text}" for v in report.violations]


def test_check_names_pages_by_labels_where_the_pdf_has_them(tmp_path):
    # A PDF from elsewhere has no page labels: its pages go by their number in the PDF. The
    # same pages labelled as a build labels them are named by their labels, 封底 as such.
    from pypdf import PdfWriter

    pages = "".join(f'<p style="break-before: page">第{n}页正文（</p>' for n in "一二三")
    pdf = tmp_path / "unlabelled.pdf"
    weasyprint.HTML(string='<html lang="zh"><body style="font-family: \'Noto Serif CJK SC\'">'
                           f"{pages}</body></html>").write_pdf(pdf)
    report = check_pdf(pdf)
    assert [str(v).split(":")[0] for v in report.violations] == [
        "p. 1, outside the columns", "p. 2, outside the columns", "p. 3, outside the columns"]

    writer = PdfWriter(clone_from=pdf)
    writer.set_page_label(0, 0, prefix="封二")
    writer.set_page_label(1, 1, style="/D", start=7)
    writer.set_page_label(2, 2, prefix="封底")
    labelled = tmp_path / "labelled.pdf"
    writer.write(labelled)
    report = check_pdf(labelled)
    assert [str(v).split(":")[0] for v in report.violations] == [
        "p. 封二, outside the columns", "p. 7, outside the columns",
        "p. 封底, outside the columns"]
    assert [v.page for v in report.violations] == [1, 2, 3]  # still the PDF's pages


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario_breaks_no_rule(built, name):
    report = check_pdf(built[name])
    # Rule 10 is a figure these scenarios may not meet: `基层组……` sends 组 down with the
    # ……, and a line of characters with no mark to squeeze can only open its gaps.
    # typeset-evener provokes each way to avoid a loose line and has none.
    violations = [v for v in report.violations if v.rule != 10 or name == "typeset-evener"]
    assert violations == [], report.format()
    assert report.full_lines >= 5
    assert report.flush_lines == report.full_lines


def test_marks_at_a_break_pull_a_character_down_and_the_line_stays_flush(built):
    lines = body_lines(built["typeset-line-breaks"])
    # `…的发展思。` would put 。 at the start of the second line: 思 goes down with it.
    first = next(line for line in lines if line.text.startswith("社区党建"))
    assert first.text == "社区党建工作要坚持以人民为中心的发展"
    following = next(line for line in lines if line.text.startswith("思。"))
    # The first line lost a character, yet it is justified to the same edge as a full line.
    assert first.x1 == pytest.approx(following.x1, abs=0.5)
    assert not any(line.text[0] in cjk.LINE_START_PROHIBITED for line in lines)
    assert not any(line.text[-1] in cjk.LINE_END_PROHIBITED for line in lines)
    assert any(line.text.startswith("——") for line in lines)
    assert any("组……" in line.text for line in lines)


def test_latin_and_digits_get_a_quarter_em_added_by_the_layout(built):
    source = (ROOTS / "typeset-latin" / "articles" / "10-test.md").read_text(encoding="utf-8")
    assert "2015年10月" in source and "Word和Excel" in source  # never typed by the editor
    gaps = []
    for line in body_lines(built["typeset-latin"]):
        if line.text.startswith("测试月刊"):  # the running head sets its own spacing
            continue
        for a, b in zip(line.chars, line.chars[1:], strict=False):
            if cjk.is_han(a["text"]) != cjk.is_han(b["text"]) and (
                (a["text"] + b["text"]).isalnum()
            ):
                gaps.append(b["x0"] - a["x1"])
    assert len(gaps) >= 15
    assert all(EM / 8 - 0.1 <= gap <= EM / 3 + 0.1 for gap in gaps), gaps


def test_adjacent_marks_take_one_and_a_half_em(built):
    pairs = 0
    for line in body_lines(built["typeset-punctuation"]):
        for a, b in zip(line.chars, line.chars[1:], strict=False):
            if a["text"] + b["text"] in ("”，", "。”", "）、", "》，", "！”"):
                pairs += 1
                # The first mark keeps ½em, plus this line's small justification gap.
                assert 0.5 * EM <= b["x0"] - a["x0"] <= 0.65 * EM, line.text
    assert pairs >= 6


def evener_line(built, start: str):
    return next(line for line in body_lines(built["typeset-evener"])
                if line.text.startswith(start))


def test_every_adjacent_pair_takes_one_and_a_half_em_even_where_a_break_may_part_it(built):
    pairs = [(a, b) for line in body_lines(built["typeset-evener"])
             for a, b in zip(line.chars, line.chars[1:], strict=False)
             if a["text"] + b["text"] == "》《"]
    assert len(pairs) == 1  # mid-line; the other 》《 is parted by a break
    (a, b), = pairs
    assert 0.5 * EM <= b["x0"] - a["x0"] <= 0.6 * EM


def test_a_pair_parted_by_a_break_ends_and_starts_its_lines_at_half_width(built):
    ending = evener_line(built, "想不断提高")
    following = evener_line(built, "《准则》")
    assert ending.text.endswith("《条例》") and ending.hangs
    assert following.trimmed
    column_right = evener_line(built, "部队伍建设").x1
    assert ending.chars[-1]["x1"] == pytest.approx(column_right + EM / 2, abs=0.3)
    assert following.chars[0]["x0"] == pytest.approx(ending.x0 - EM / 2, abs=0.3)


def test_an_opening_quote_at_a_line_start_is_trimmed_and_the_line_takes_more(built):
    line = evener_line(built, "“三严三实”")
    above = evener_line(built, "想不断提高服务群众能力和水平推动基层")
    assert above.text.endswith("组织建")  # the break before “ that Unicode would not allow
    assert line.trimmed and line.chars[0]["x0"] == pytest.approx(above.x0 - EM / 2, abs=0.3)
    assert line.x1 == pytest.approx(above.x1, abs=0.5)


def test_a_mark_at_a_line_end_is_set_half_width_to_take_one_more_character(built):
    line = evener_line(built, "矩都挺在前面")
    assert line.text.endswith("四种形态”，") and line.hangs


def test_a_line_of_digits_and_latin_fits_by_narrowing_its_quarter_ems(built):
    line = evener_line(built, "在吴忠市召开")
    assert line.text.endswith("统计了1939年")
    gaps = [b["x0"] - a["x1"] for a, b in zip(line.chars, line.chars[1:], strict=False)
            if cjk.is_han(a["text"]) != cjk.is_han(b["text"]) and (a["text"] + b["text"]).isalnum()]
    assert len(gaps) == 6
    assert all(EM / 8 - 0.1 <= gap < EM / 4 for gap in gaps), gaps
    assert check_pdf(built["typeset-evener"]).totals()[10] == 0


def test_the_line_before_a_two_character_last_line_is_not_left_loose(built):
    # 61 characters and 。: the last line keeps two (水平。), so the line before it can hold no
    # more than 19 and would open every gap by a ninth of an em; the line above gives it one.
    first = evener_line(built, "全面进步深化改革")
    lines = [line for line in body_lines(built["typeset-evener"])
             if line.page == first.page and line.y >= first.y
             and first.x0 - 2 * EM - 0.5 <= line.x0 <= first.x0][:4]
    assert [len(line.text) for line in lines] == [19, 20, 20, 3], [ln.text for ln in lines]
    assert lines[-1].text == "水平。"
    assert all(line.x1 == pytest.approx(first.x1, abs=0.5) for line in lines[:3])
    assert check_pdf(built["typeset-evener"]).totals()[10] == 0


@pytest.mark.parametrize("spacing, loose", [("0.12em", True), ("0.05em", False)])
def test_a_line_whose_han_gaps_open_wide_is_reported_loose(tmp_path, spacing, loose):
    text = "社区党建工作要坚持以人民为中心的发展思想不断提高服务群众能力和水平推动基层组织建设"
    html = ('<html lang="zh"><body style="font: 10.5pt/17.5pt \'Noto Serif CJK SC\'; '
            f'width: 21em"><p style="letter-spacing: {spacing}; margin: 0">{text * 2}</p>'
            "</body></html>")
    pdf = tmp_path / "loose.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    report = check_pdf(pdf)
    assert report.full_lines >= 3
    assert (report.totals()[10] == report.full_lines) if loose else not report.totals()[10]
    assert report.passed  # counted, not blocking


def test_line_start_trim_and_line_end_compression_can_be_switched_off(tmp_path):
    from publisher.pdf import weasyprint as engine

    source = (ROOTS / "typeset-evener" / "articles" / "10-test.md").read_text(encoding="utf-8")
    paragraphs = [p for p in source.split("\n\n") if "《准则》的要求" in p or "矩都挺" in p]
    cjk_css = (ROOT / "layouts" / "cjk.css").read_text(encoding="utf-8")
    found = {}
    for switch in ("", "--line-start-trim: none; --line-end-compression: none"):
        html = weasyprint.HTML(string=(
            f'<html lang="zh-CN"><head><style>{cjk_css}</style></head>'
            '<body style="font: 10.5pt/17.5pt \'Noto Serif CJK SC\'; '
            f'width: calc(21em + 0.01pt); {switch}">'
            + "".join(f'<p style="margin: 0; text-indent: 2em; text-align: justify">{p}</p>'
                      for p in paragraphs) + "</body></html>"))
        typeset(html.etree_element)
        pdf = tmp_path / "switched.pdf"
        with engine.patched(uuid.uuid4()):
            html.write_pdf(pdf)
        lines = body_lines(pdf)
        found[switch] = ([line.text for line in lines if line.trimmed],
                         [line.text for line in lines if line.hangs and line.text[-1] == "，"])
    assert all(found[""]), found[""]
    assert found["--line-start-trim: none; --line-end-compression: none"] == ([], [])
    assert check_pdf(pdf).totals()[4] == 0


def test_a_word_wider_than_its_column_breaks_inside_it_and_stays_on_the_page(tmp_path):
    """A web address or code longer than a column ran past its edge and off the page, cut at
    the paper's edge, without a word."""
    import pdfplumber

    root = Path(shutil.copytree(ROOTS / "typeset-latin", tmp_path / "long-word"))
    word = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" * 2
    article = root / "articles" / "10-test.md"
    article.write_text(article.read_text(encoding="utf-8") + f"\n网址{word}结束。\n",
                       encoding="utf-8")
    (pdf,) = build(root, tmp_path / "out", pdf=True, epub=False)
    with pdfplumber.open(pdf) as document:
        chars = [c for page in document.pages for c in page.chars]
        width = document.pages[0].width
    assert word in "".join(c["text"] for c in chars)
    assert max(c["x1"] for c in chars) < width - 10 * 72 / 25.4  # inside the page's margin


def test_quotation_marks_in_kai_text_are_full_width(sample_pdf):
    """LXGW WenKai has only narrow “ ” (0.35em), which hugged the characters beside them in
    every 编者按 and 微书摘: those lines set 宋's full-width ones (half width in a pair)."""
    import pdfplumber

    with pdfplumber.open(sample_pdf) as document:
        marks = []
        for page in document.pages:
            kai = {round(c["top"]) for c in page.chars if "WenKai" in c["fontname"]}
            marks += [c for c in page.chars if c["text"] in "“”" and round(c["top"]) in kai]
    assert len(marks) >= 10  # the 编者按 and 微书摘 of the sample quote fourteen
    assert all("Serif" in c["fontname"] and c["width"] >= c["size"] / 2 - 0.01 for c in marks)


def test_no_paragraph_ends_with_one_character(built):
    lines = body_lines(built["typeset-last-line"])
    last_lines = [line for line in lines if line.text.endswith("。")]
    assert len(last_lines) == 3
    for line in last_lines:
        assert sum(map(cjk.counts_as_character, line.text)) >= 2, line.text


@pytest.mark.parametrize("name, rule", [
    ("typeset-line-breaks", 4),
    ("typeset-latin", 4),
    ("typeset-latin", 6),
    ("typeset-punctuation", 5),
    ("typeset-last-line", 7),
    ("typeset-evener", 5),  # 》《 left at 2em
])
def test_bare_weasyprint_breaks_the_rule(bare, name, rule):
    assert check_pdf(bare[name]).totals()[rule] > 0


def test_forced_breaks_at_marks_are_reported(tmp_path):
    text = "社区党建工作要坚持以人民为中心的发展思想"
    html = (f'<html lang="zh"><body style="font: 10.5pt \'Noto Serif CJK SC\'; width: 21em">'
            f'<p style="white-space: pre-line">{text}\n。{text}（\n{text}—\n—{text}\n'
            f'{text}…\n…{text}\n〕{text}〔\n{text}</p></body></html>')
    pdf = tmp_path / "bad.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    report = check_pdf(pdf)
    assert report.totals()[1] == 4  # 。 and 〕 open a line, （ and 〔 close one
    assert report.totals()[2] == 4  # — and … each split, seen from both lines
    assert not report.passed
    assert main(["check", str(pdf)]) == 1


@pytest.mark.parametrize("widows, found", [(1, 1), (2, 0)])
def test_a_last_line_alone_at_a_column_top_is_reported(tmp_path, widows, found):
    # Columns of five lines; a paragraph of six leaves its last line alone at the top of the
    # second column unless widows: 2; a second paragraph follows it there.
    text = ("社区党建工作要坚持以人民为中心的发展思想不断提高服务群众能力和水平推动基层组织建设"
            "全面进步深化改革创新加强干部队伍建设严格落实管党治党责任营造风清气正良好政治生态") * 2
    html = ('<html lang="zh"><head><style>@page { size: 190mm 60mm; margin: 10mm }'
            "body { margin: 0; font: 10.5pt/17.5pt 'Noto Serif CJK SC' }"
            "div { columns: 2; column-gap: 2em; column-fill: auto; height: 87.5pt;"
            "      width: calc(44em + 0.02pt) }"
            f"p {{ margin: 0; text-indent: 2em; text-align: justify; widows: {widows} }}"
            f"</style></head><body><div><p>{text[:19 + 4 * 21 + 10]}。</p>"
            f"<p>{text[:19 + 21 + 10]}。</p></div></body></html>")
    pdf = tmp_path / "widow.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    report = check_pdf(pdf)
    alone = [v for v in report.violations if v.detail == "last line alone at a column top"]
    assert len(alone) == found, report.format()


def test_a_paragraph_goes_on_where_the_next_column_in_reading_order_starts(tmp_path):
    # Columns of five lines over two pages. Paragraph A fills page 1's first column and ends
    # short in its second; the headline after it, kept with two lines of paragraph B, finds no
    # room there and opens page 2's first column. B goes on at the top of page 2's second
    # column, which ends above B's first line: by body lines alone that column would come
    # first, and A's last line would read as a full line that B's continuation goes on from.
    text = ("社区党建工作要坚持以人民为中心的发展思想不断提高服务群众能力和水平推动基层组织建设"
            "全面进步深化改革创新加强干部队伍建设严格落实管党治党责任营造风清气正良好政治生态") * 2
    html = ('<html lang="zh"><head><style>@page { size: 190mm 145pt; margin: 28.5pt 10mm }'
            "body { margin: 0; font: 10.5pt/17.5pt 'Noto Serif CJK SC' }"
            "div { columns: 2; column-gap: 2em; column-fill: auto; width: calc(44em + 0.02pt) }"
            "header { break-inside: avoid; break-after: avoid }"
            "h2 { margin: 0; font: bold 14pt/17.5pt 'Noto Sans CJK SC'; text-align: center }"
            "h2 span { display: block }"
            "p { margin: 0; text-indent: 2em; text-align: justify; orphans: 2; widows: 2 }"
            f"</style></head><body><div><p>{text[:19 + 6 * 21 + 10]}。</p>"
            "<header><h2><span>鼓励基层改革创新</span><span>推动改革落地生根</span></h2></header>"
            f"<p>{text[:19 + 3 * 21 + 10]}。</p></div></body></html>")
    pdf = tmp_path / "reading-order.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    lines = read_printed_lines(pdf)
    middle = max(line.x1 for line in lines) / 2
    columns = {(page, right): [line for line in lines if line.page == page
                               and (line.x0 > middle) == right] for page in (1, 2)
               for right in (False, True)}
    assert [len(run) for run in columns.values()] == [5, 3, 5, 2]
    assert columns[1, True][-1].text.endswith("。") and len(columns[1, True][-1].text) == 11
    heads = [line.text for line in columns[2, False] if not line.body]
    assert heads == ["鼓励基层改革创新", "推动改革落地生根"]  # atop page 2's first column
    assert columns[2, True][-1].y < columns[2, False][2].y  # its second column ends higher
    report = check_pdf(pdf)
    assert report.totals()[4] == 0, report.format()
    assert (report.full_lines, report.flush_lines) == (7 + 4, 7 + 4)


def test_a_full_width_paragraph_reads_before_the_column_below_it(tmp_path):
    # A full-width paragraph, its first line not indented (as a 编者按 opens), above a
    # paragraph that stays in the first of two columns: the column comes after it, though a
    # page with one column has no gutter for the title-block lines to cross.
    text = ("社区党建工作要坚持以人民为中心的发展思想不断提高服务群众能力和水平推动基层组织建设"
            "全面进步深化改革创新加强干部队伍建设严格落实管党治党责任营造风清气正良好政治生态") * 2
    html = ('<html lang="zh"><head><style>@page { size: 190mm 180pt; margin: 28.5pt 10mm }'
            "body { margin: 0; font: 10.5pt/17.5pt 'Noto Serif CJK SC' }"
            ".wide, .columns { width: calc(44em + 0.02pt) }"
            ".columns { columns: 2; column-gap: 2em; column-fill: auto; height: 52.5pt;"
            "           margin-top: 8.75pt }"
            "p { margin: 0; text-indent: 2em; text-align: justify }"
            ".wide p { text-indent: 0 }"
            f'</style></head><body><div class="wide"><p>{text[:44 + 44 + 10]}。</p></div>'
            f'<div class="columns"><p>{text[:19 + 21 + 10]}。</p></div></body></html>')
    pdf = tmp_path / "wide-above.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    lines = [(line.x0, line.text) for line in read_printed_lines(pdf)]
    assert [len(text) for _, text in lines] == [44, 44, 11, 19, 21, 11]
    assert lines[3][0] - lines[0][0] == pytest.approx(2 * EM, abs=0.5)  # the column's indent
    report = check_pdf(pdf)
    assert report.totals()[4] == 0, report.format()
    assert report.full_lines == 4  # the wide paragraph's first two, the column's first two


def test_a_missing_glyph_is_reported_with_its_character(tmp_path):
    pdf = tmp_path / "tofu.pdf"
    weasyprint.HTML(string='<html lang="zh"><body style="font-family: \'Noto Serif CJK SC\'">'
                           "正文\U0010fffd正文</body></html>").write_pdf(pdf)
    report = check_pdf(pdf)
    assert report.totals()[8] == 1
    assert "U+10FFFD" in report.violations[0].detail
    assert not report.passed


def test_check_of_a_file_that_is_no_pdf_is_an_error(tmp_path, capsys):
    bad = tmp_path / "bad.pdf"
    bad.write_text("hello")
    assert main(["check", str(bad)]) == 1
    assert f"{bad}: not a readable PDF" in capsys.readouterr().err


def test_text_pass_marks_up_text_only():
    html = weasyprint.HTML(string=(
        '<html><head><title>2015年</title></head><body><p class="lead">'
        "<strong>（二）机制。</strong>“三建”——在2015年用Word写<em>文档</em>。”</p>"
        "<p>甲2015<br>年</p><!-- 2015年 --></body></html>"))
    typeset(html.etree_element)
    assert ElementTree.tostring(html.etree_element, encoding="unicode", method="html") == (
        '<html><head><title>2015年</title></head><body><p class="lead">'
        # A break opportunity (U+200B) before “ and after ”, which Unicode binds to both sides.
        '<strong>（二）机制<span class="halt">。</span>\u200b</strong>“三建”\u200b'
        '<span class="nobr">——</span>'
        '在 2015 年用 Word 写<em><span class="nobr">文档</span></em>'
        '<span class="nobr"><span class="halt">。</span>”</span>'
        # A <br> parts 2015 from 年 (no space), but the last two characters are kept together.
        '</p><p>甲 201<span class="nobr">5</span><br><span class="nobr">年</span></p>'
        "<!-- 2015年 --></body></html>"
    )


def test_a_pdf_with_too_few_lines_for_a_column_is_checked_line_by_line(tmp_path):
    # One body line gives no frame; the line rules still apply, the column rules have nothing.
    pdf = tmp_path / "one-line.pdf"
    weasyprint.HTML(string='<html lang="zh"><body style="font-family: \'Noto Serif CJK SC\'">'
                           "一行正文（</body></html>").write_pdf(pdf)
    report = check_pdf(pdf)
    assert [(v.rule, v.column, v.detail) for v in report.violations] == [
        (1, "outside the columns", "ends with （")]
    assert report.full_lines == 0


@pytest.mark.parametrize("heading_margin, off", [("5pt", True), ("8.75pt", False)])
def test_body_lines_off_the_line_grid_are_reported(tmp_path, heading_margin, off):
    # A heading 17.5pt high with 5pt above and below moves the lines after it 10pt off the
    # grid that the lines before it follow; with 8.75pt it takes two whole lines.
    text = "社区党建工作要坚持以人民为中心的发展思想不断提高服务群众能力和水平推动基层组织建设" * 2
    html = ('<html lang="zh-CN"><head><style>@page { size: 120mm 200mm; margin: 10mm }'
            "body { margin: 0; font: 10.5pt/17.5pt 'Noto Serif CJK SC'; width: 21em }"
            "p { margin: 0; text-indent: 2em }"
            f"h2 {{ font: bold 10.5pt/17.5pt 'Noto Sans CJK SC'; margin: {heading_margin} 0 }}"
            f"</style></head><body><p>{text}。</p><p>{text}。</p><h2>一、主要做法</h2>"
            f"<p>{text}。</p></body></html>")
    pdf = tmp_path / "grid.pdf"
    weasyprint.HTML(string=html).write_pdf(pdf)
    report = check_pdf(pdf)
    lines = body_lines(pdf)
    heading = next(line for line in lines if line.text == "一、主要做法")
    below = [line for line in lines if line.y > heading.y]
    found = [v for v in report.violations if v.rule == 9]
    assert len(found) == (len(below) if off else 0), report.format()
    if off:
        assert str(found[0]).startswith("p. 1, column 1: rule 9 (")
        assert found[0].detail.endswith("pt off the line grid")
        assert not CheckReport(violations=found).passed  # rule 9 alone fails the check
