"""`publisher lint`: each rule on Chinese it must flag and Chinese it must leave alone, the
sample's real slips, `--fix`, and switching rules off."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from publisher.cli import main
from publisher.desk.lint import lint
from tests.conftest import SAMPLE

MANIFEST = """\
magazine: 测试月刊
label: 2015·10
year: 2015
month: 10
columns:
  - {id: diaocha, name: 调查研究}
"""


def make_issue(root: Path, body: str, front: str = "", manifest: str = MANIFEST) -> Path:
    """An issue folder with one article whose body is `body`; returns the article's path."""
    (root / "articles").mkdir(parents=True)
    (root / "issue.yaml").write_text(manifest, encoding="utf-8")
    article = root / "articles" / "010-test.md"
    article.write_text(f"---\ncolumn: diaocha\ntitle: 测试\n{front}---\n\n{body}\n",
                       encoding="utf-8")
    return article


def findings(tmp_path: Path, body: str, rule: str, **kwargs) -> list:
    make_issue(tmp_path, body, **kwargs)
    return [f for f in lint(tmp_path).findings if f.rule == rule]


CASES = {
    # rule: (slips it must find, with what it finds; good Chinese it must leave alone)
    "pairs": (
        [("他说：“要严字当头“。", "“"), ("”三严三实”专题教育。", "”"),
         ("学习《党章》和（准则。", "（"), ("学习《准则】。", "《准则】")],
        ["他说：“要‘严’字当头。”", "学习《中国共产党廉洁自律准则》（试行）。",
         "“第一段引文，\n\n“第二段引文。”"],
    ),
    "halfwidth": (
        [("坚持问题导向,抓好整改。", ","), ("一是;二是。", ";"), ("(三)严格纪律。", "("),
         ('他说："好"。', '"')],
        ["会议于9:30开始。", "比例为4:6。", "Python (3.11) 版本。", "**1. 全面二孩放开**",
         '他说 "Hello world" 然后。'],
    ),
    "fullwidth": ([("共有１２名干部和ＡＢ两类。", "１２")], ["共有12名干部。"]),
    "sequence": (
        [("这是第一句。。", "。。"), ("这是第一句，。", "，。"), ("他说：“好！”。", "！”。")],
        ["真的吗？！", "他说：“好！”", "他说“好”。"],
    ),
    "dash": (
        [("会议--这是关键。", "--"), ("会议――这是关键。", "――"), ("如此...", "..."),
         ("如此。。。", "。。。"), ("一一周国平", "一一")],
        ["会议——这是关键。", "如此……", "逐项一一落实。", "每年2—3天。"],
    ),
    "space": (
        [("干部 作风转变。", " ")],
        ["使用 Python 编程。", "共 12 人。"],
    ),
    "doubled": (
        [("把党员教育工作纳入纳入责任制。", "纳入纳入"), ("这是是一个问题。", "是是"),
         ("的的问题", "的的"), ("我们要研究研究研究。", "研究研究研究"),
         ("纳入纳入纳入规划。", "纳入纳入纳入"), ("我们要要坚持。", "要要"),
         ("我们在在会上说。", "在在"), ("大家都都要参加。", "都都")],
        ["我们要研究研究这个问题。", "常常清清楚楚地一个一个说。", "月月清。",
         "一项一项明确责任。", "他哈哈哈地笑了。", "“哈哈哈哈哈哈！”他笑了。",
         # a word of the dictionary, or in one; a pair that crosses a word boundary
         "他心中了了。", "谢谢大家。", "看看吧。", "人人有责。", "不了了之。",
         "我们要要求自己。", "养成学习习惯。",
         # a verb, a numeral or a name says a character twice
         "你说说。", "年年有余。", "王丹丹发言。"],
    ),
    "de": (
        [("他跑的很快。", "的"), ("他认真的学习了文件。", "的")],
        ["历史地、全面地看待干部。", "重要的工作。", "不同程度地产生影响。", "取得的很多成绩。"],
    ),
    "confusable": (
        [("实现从严管理干部常效化。", "常效化"), ("即使困难再大，也要再接再励。", "再接再励")],
        ["建立长效化机制。", "随即然后离开。"],
    ),
}


@pytest.mark.parametrize("rule", CASES)
def test_rule_finds_slips_and_spares_good_chinese(tmp_path, rule):
    slips, good = CASES[rule]
    for n, (text, found) in enumerate(slips):
        got = findings(tmp_path / f"slip{n}", text, rule)
        assert [f.found for f in got][:1] == [found], (text, got)
    for n, text in enumerate(good):
        assert findings(tmp_path / f"good{n}", text, rule) == [], text


@pytest.mark.parametrize(("written", "fixed"), [
    # (1) opens the paragraph: only its closer touches Chinese, yet both are half-width.
    ("(1)第一条。", "（1）第一条。"),
    # Nested: each bracket goes with its own partner, not the nearest.
    ("参见文件(Doc (2015) No.3)。", "参见文件（Doc (2015) No.3）。"),
    # Straight quotes go in pairs, the first opening: only the closer touches Chinese here.
    ('他说 "Hello"。', '他说 “Hello”。'),
    ('采用"支部+协会"和"站点+基地"模式。', "采用“支部+协会”和“站点+基地”模式。"),
])
def test_a_bracket_pair_is_found_and_fixed_whole(tmp_path, written, fixed):
    article = make_issue(tmp_path, written)
    lint(tmp_path, fix=True)
    assert article.read_text(encoding="utf-8").endswith(fixed + "\n")


def test_mixed_forms_across_the_issue(tmp_path):
    got = findings(tmp_path / "a", "采取“支部+协会”“站点+基地”“党员＋群众”模式。", "mixed-forms")
    assert [(f.found, f.suggestion) for f in got] == [("＋", "+")]
    assert findings(tmp_path / "b", "采取“支部+协会”“站点+基地”模式。", "mixed-forms") == []


def test_space_in_a_byline_is_not_fixed(tmp_path):
    article = make_issue(tmp_path, "正文。", front="byline: 孙 瑛\n")
    (found,) = [f for f in lint(tmp_path).findings if f.rule == "space"]
    assert (found.line, found.col, found.fixable) == (4, 10, False)
    before = article.read_text(encoding="utf-8")
    lint(tmp_path, fix=True)
    assert article.read_text(encoding="utf-8") == before


def test_space_between_names_in_the_body_is_not_fixed(tmp_path):
    """--fix ran a body's list of names together (王军杨少春孙冬梅)."""
    body = "参加会议的有：王军　杨少春　孙冬梅。\n\n执笔：王军 杨少春\n\n干部 作风转变。"
    article = make_issue(tmp_path, body)
    report = lint(tmp_path, fix=True)
    assert report.fixed == 1
    assert [f.found for f in report.findings] == ["\u3000", "\u3000", " "]
    assert article.read_text(encoding="utf-8").endswith(
        "参加会议的有：王军　杨少春　孙冬梅。\n\n执笔：王军 杨少春\n\n干部作风转变。\n")


def test_review_note(tmp_path):
    make_issue(tmp_path, "正文。", front="review: [no title in the text]\n")
    (found,) = [f for f in lint(tmp_path).findings if f.rule == "review"]
    assert (found.line, found.found) == (4, "no title in the text")


def test_findings_at_one_place_come_in_one_order(tmp_path):
    """Found as a set, whose order follows the process's string hashes: sorted to the end."""
    import subprocess
    import sys

    make_issue(tmp_path, "正文。", front="review: [丙, 甲, 乙, 丁]\n")
    printed = {subprocess.run([sys.executable, "-m", "publisher.cli", "lint", str(tmp_path),
                               "--exit-zero"], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}).stdout
               for seed in range(4)}
    assert len(printed) == 1


def test_position_is_the_source_line_and_column(tmp_path):
    make_issue(tmp_path, "## 一、标题\n\n**一是**坚持问题导向,抓好整改。")
    (found,) = lint(tmp_path).findings
    # Line 8 of the file: front matter (4 lines), a blank, the heading, a blank.
    assert (found.line, found.col, found.rule) == (8, 13, "halfwidth")


def test_fix_changes_only_mechanical_slips(tmp_path):
    article = make_issue(tmp_path, "坚持问题导向,抓好整改。。共有１２名干部--这是关键...\n\n"
                                   "纳入纳入责任制，。")
    report = lint(tmp_path, fix=True)
    assert report.fixed == 5
    body = article.read_text(encoding="utf-8").split("---\n")[2]
    assert body == "\n坚持问题导向，抓好整改。共有12名干部——这是关键……\n\n纳入纳入责任制，。\n"
    # What is left is judgement: the doubled word and which of ，。 to keep.
    assert sorted(f.rule for f in report.findings) == ["doubled", "sequence"]
    assert [f.rule for f in lint(tmp_path).findings] == [f.rule for f in report.findings]


def test_fix_leaves_a_thematic_break_alone(tmp_path):
    """--- between paragraphs is a rule, not a dash typed as --: --fix made it a —— paragraph."""
    body = "第一段。\n---\n\n第二段。\n\n* * *\n\n第三段。"
    article = make_issue(tmp_path, body)
    assert lint(tmp_path, fix=True).fixed == 0
    assert article.read_text(encoding="utf-8").endswith(body + "\n")


def test_a_picture_s_options_are_not_text(tmp_path):
    """{width=60} was linted: its = outnumbered the text's ＝, and mixed-forms asked for =."""
    from PIL import Image

    make_issue(tmp_path, "正文，A＝B。\n\n![会议现场](images/a.png){width=60 span=page}\n\n"
                         "![代表发言](images/a.png){width=80}")
    (tmp_path / "articles" / "images").mkdir()
    Image.new("RGB", (200, 100), "white").save(tmp_path / "articles" / "images" / "a.png")
    assert lint(tmp_path).findings == []


def test_rules_off_per_issue_and_per_line(tmp_path):
    make_issue(tmp_path / "issue", "坚持问题导向,抓好整改。",
               manifest=MANIFEST + "lint: {disable: [halfwidth]}\n")
    assert lint(tmp_path / "issue").findings == []
    make_issue(tmp_path / "line", "[//]: # (lint: disable halfwidth)\n坚持问题导向,抓好整改。\n\n"
                                  "再次导向,整改。")
    (found,) = lint(tmp_path / "line").findings
    assert found.line == 9
    make_issue(tmp_path / "front", "正文。", front="byline: 孙 瑛  # lint: disable space\n")
    assert lint(tmp_path / "front").findings == []
    make_issue(tmp_path / "doubled", "[//]: # (lint: disable doubled)\n我们要要坚持。\n\n"
                                     "我们要要坚持。")
    (found,) = lint(tmp_path / "doubled").findings
    assert (found.line, found.rule) == (9, "doubled")


def test_unknown_rule_is_a_source_error(tmp_path, capsys):
    make_issue(tmp_path, "正文。", manifest=MANIFEST + "lint: {disable: [spelling]}\n")
    assert main(["lint", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "issue.yaml" in err and "no rule spelling" in err and "Traceback" not in err


# Every finding on the sample is a slip of the printed original, kept in the sources on
# purpose, or one of the known false positives below.
SAMPLE_SLIPS = {
    ("210-shizuishan.md", 19, "halfwidth", "("), ("210-shizuishan.md", 19, "halfwidth", ")"),
    ("210-shizuishan.md", 19, "confusable", "常效化"),
    ("230-nongcun-dangjian.md", 18, "sequence", "！”。"),
    ("240-qingtongxia.md", 13, "mixed-forms", "＋"),
    ("240-qingtongxia.md", 19, "doubled", "纳入纳入"),
    ("250-lingwu.md", 15, "halfwidth", "("), ("250-lingwu.md", 15, "halfwidth", ")"),
    ("250-lingwu.md", 19, "halfwidth", "("), ("250-lingwu.md", 19, "halfwidth", ")"),
    ("420-dawukou.md", 9, "pairs", "“"),
    ("430-lu-fujian.md", 15, "halfwidth", ";"),
}
SAMPLE_FALSE_POSITIVES = {
    # 执笔：王军 杨少春 孙冬梅: the printed original parts the names with spaces.
    ("250-lingwu.md", 6, "space", " "),
}


def test_sample_findings_are_its_slips(sample_issue):
    report = lint(SAMPLE)
    found = {(f.path.name, f.line, f.rule, f.found) for f in report.findings
             if f.rule != "review"}
    assert found == SAMPLE_SLIPS | SAMPLE_FALSE_POSITIVES
    reviewed = {f.path.name for f in report.findings if f.rule == "review"}
    assert reviewed == {a.path.name for a in sample_issue.articles if a.review}


def test_cli_lint_file_and_exit_codes(tmp_path, capsys):
    issue = tmp_path / "issue"
    shutil.copytree(SAMPLE, issue)
    article = issue / "articles" / "210-shizuishan.md"
    assert main(["lint", str(article)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (f"{article}:19:3: halfwidth: half-width ( in Chinese text: '(' → '（'")
    assert all(line.startswith(str(article)) for line in out[:-1])
    assert main(["lint", "--exit-zero", str(article)]) == 0
    clean = issue / "articles" / "010-juanshouyu.md"
    assert main(["lint", str(clean)]) == 0
    assert textwrap.dedent(capsys.readouterr().out).strip().endswith("0 finding(s)")


def test_a_value_written_twice_is_linted_where_each_is_written(tmp_path):
    """A subtitle that the end note repeats: each has its own findings, and --fix fixes both."""
    article = make_issue(tmp_path, "正文。", front="subtitle: 纳入规划(草案)\n"
                         "end_note: {kind: 执笔, text: \"纳入规划(草案)\"}\n")
    found = sorted((f.line, f.col) for f in lint(tmp_path).findings if f.rule == "halfwidth")
    lines = {line for line, _ in found}
    assert len(lines) == 2 and len(found) == 4
    lint(tmp_path, fix=True)
    assert article.read_text(encoding="utf-8").count("纳入规划（草案）") == 2


def test_a_value_written_over_several_lines_is_found_and_fixed_at_its_line(tmp_path):
    """A `|` block's slip was named at 1:1, and --fix counted it fixed and left it."""
    article = make_issue(tmp_path, "正文。",
                         front="editor_note: |\n  第一行编者按。\n  第二行,有半角逗号。\n")
    (found,) = [f for f in lint(tmp_path).findings if f.rule == "halfwidth"]
    assert (found.line, found.col, found.found) == (6, 6, ",")
    lint(tmp_path, fix=True)
    assert "  第二行，有半角逗号。\n" in article.read_text(encoding="utf-8")
    assert [f for f in lint(tmp_path).findings if f.rule == "halfwidth"] == []


def test_a_missing_file_or_the_manifest_is_named_as_what_it_is(tmp_path, capsys):
    make_issue(tmp_path, "坚持问题导向,抓好整改。")
    missing = tmp_path / "articles" / "999-none.md"
    assert main(["lint", str(missing)]) == 1
    assert capsys.readouterr().err == f"{missing}: no such file\n"
    notes = tmp_path / "articles" / "notes.txt"
    notes.write_text("备忘", encoding="utf-8")
    assert main(["lint", str(notes)]) == 1
    assert capsys.readouterr().err == (
        f"{notes}: lint reads an issue folder, an article (.md) or issue.yaml\n")
    # issue.yaml is a file of its issue: its own texts are linted, not the articles'
    manifest = tmp_path / "issue.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8")
                        + "cover_lines:\n  - 坚持问题导向,抓好整改\n", encoding="utf-8")
    assert main(["lint", str(manifest), "--exit-zero"]) == 0
    out = capsys.readouterr().out
    line = manifest.read_text(encoding="utf-8").count("\n")
    assert f"{manifest}:{line}:" in out and "half-width , in Chinese text" in out
    assert "010-test.md" not in out


def test_an_issues_confusables_linked_from_elsewhere_are_not_read(tmp_path, capsys):
    """A hostile issue's `confusables.tsv` linked to a file outside it printed that file's
    lines as suggestions: `'正文' → '<the file's second field>'`."""
    (tmp_path / "secret.tsv").write_text("正文\t外面的秘密\t\n", encoding="utf-8")
    make_issue(tmp_path / "issue", "正文。")
    (tmp_path / "issue" / "confusables.tsv").symlink_to(tmp_path / "secret.tsv")
    assert main(["lint", str(tmp_path / "issue")]) == 1
    captured = capsys.readouterr()
    assert "外面的秘密" not in captured.out
    assert captured.err == (f"{tmp_path / 'issue' / 'confusables.tsv'}: is a link to "
                            f"{tmp_path / 'secret.tsv'}, outside the issue folder\n")
