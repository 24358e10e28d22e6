"""`publisher import-text`: the seed issue and one small text per extraction artifact."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from publisher.cli import main
from publisher.errors import PublisherError
from publisher.importer import import_text
from publisher.importer import write as importer_write
from publisher.importer.lines import HEAD, PERMIT, read_text_lines, undouble
from publisher.source.load import load_issue
from publisher.source.markup import plain_paragraphs
from tests.conftest import ROOT, ROOTS

SEED = ROOT / "examples" / "2015-10" / "extracted.txt"
HAN = re.compile(r"[\u3400-\u9fff]")


def imported(root: str, tmp_path: Path):
    """Import tests/roots/<root>/text.txt; return the loaded issue and the printed summary."""
    out = tmp_path / root
    report = import_text(ROOTS / root / "text.txt", out, magazine="共产党人")
    return load_issue(out), report


def bodies(issue) -> list[list[str]]:
    return [plain_paragraphs(a.body) for a in issue.articles]


@pytest.mark.parametrize(("doubled", "plain"), [
    ("践行践行““三严三三严三实实””", "践行“三严三实”"),
    ("【【卷首语卷首语】】", "【卷首语】"),
    ("铸魂聚力铸魂聚力 固本固本强基强基", "铸魂聚力 固本强基"),
    ("当前农村基层党建工作当前农村基层党建工作面临的难题及对策面临的难题及对策",
     "当前农村基层党建工作面临的难题及对策"),
    ("（（群众路线专题教育群众路线专题教育））", "（群众路线专题教育）"),
])
def test_undouble_restores_bold_titles(doubled, plain):
    assert undouble(doubled) == plain


@pytest.mark.parametrize("genuine", ["让抓得不好的红红脸、出出汗", "说一说二", "2015·10"])
def test_undouble_leaves_genuine_repeats(genuine):
    assert undouble(genuine) is None


PERMIT_NO = "宁新出管字【2015】第0219号"
LONG = "字" * 200_000


@pytest.mark.parametrize(("line", "permit"), [
    (f"{PERMIT_NO} 宁夏首批干部教育培训现场教学基地展示之七", PERMIT_NO),
    (f"准印证号 {PERMIT_NO}", PERMIT_NO),
    (f"准印证号：{PERMIT_NO} 内部资料", f"准印证号：{PERMIT_NO}"),
    ("宁新出管字 宁新出管字【2016】", "宁新出管字"),
    ("宁新出版字【2015】第0219号", None),
    # A line of one run of characters, as an extractor gives a page it cannot break into lines.
    (LONG, None),
    (f"{LONG} {PERMIT_NO} {LONG}", PERMIT_NO),
    (f"{LONG}出管字{LONG}", f"{LONG}出管字{LONG}"),
])
def test_the_permit_is_the_run_of_characters_around_its_mark(line, permit):
    found = PERMIT.search(line)
    assert (found[0] if found else None) == permit


# ---------------------------------------------------------------- one artifact each

def test_running_heads_and_page_breaks_are_removed_and_sentences_rejoined(tmp_path):
    issue, _ = imported("import-running-heads", tmp_path)
    (item,) = issue.articles
    assert (item.kind.value, item.column, item.title) == ("editorial", "column-01",
                                                          ("把严守纪律当作为人处事从政的重要底线",))
    assert [c.name for c in issue.columns] == ["卷首语"]
    assert issue.label == "2015·10" and (issue.year, issue.month) == (2015, 10)
    paragraphs = bodies(issue)[0]
    assert len(paragraphs) == 3
    # The page broke after the third line of the second paragraph, under a running head.
    assert "其蜕化变质的过程，无不是从破坏一些小规矩" in paragraphs[1]
    assert not any("【" in p or "卷首语" in p or "2015·10" in p for p in paragraphs)
    assert item.end_note.printed == "（执笔：刘国强）"
    assert [b.name for b in item.byline] == ["本刊评论员"]


def test_doubled_title_and_byline_are_undoubled_but_body_repeats_stay(tmp_path):
    issue, report = imported("import-doubled", tmp_path)
    (item,) = issue.articles
    assert item.title == ("践行“三严三实”", "贵在忠诚干净担当")
    assert item.byline[0].organisation == "石嘴山市委组织部"
    assert "红红脸、出出汗" in item.body and "说一说二" in item.body
    assert item.end_note.kind == "作者系" and item.end_note.text == "海原县委常委、组织部部长"
    assert not report.flagged


def test_title_block_inside_the_text_moves_to_the_top_and_is_flagged(tmp_path):
    issue, report = imported("import-displaced-title", tmp_path)
    (item,) = issue.articles
    assert item.title == ("联合党委聚合力 激励关怀增动力",)
    assert item.subtitle == "新路径新机制推动基层服务型党组织建设"
    assert (item.byline[0].position, item.byline[0].name) == ("吴忠市委常委、组织部部长", "孙瑛")
    assert item.dateline == "2015年10月10日"
    paragraphs = bodies(issue)[0]
    assert paragraphs[0].startswith("率先知纪")
    # The sentence the title block cut is whole again.
    assert "严明纪律，是从严治党的治本之策" in paragraphs[1]
    assert any("away from the start of its text" in r for r in item.review)
    assert [name for name, _ in report.flagged] == [item.path.name]


def test_briefs_points_kicker_and_untitled_commentary(tmp_path):
    issue, _ = imported("import-briefs", tmp_path)
    first, second, third = issue.articles
    assert (first.kind.value, first.title) == ("brief", ("五中全会公报不能错过的7个要点",))
    assert "**1. 全面二孩放开**" in first.body.splitlines()
    assert "**2. 递补刘晓凯、陈志荣、金振吉为中央委员会委员**" in first.body.splitlines()
    assert bodies(issue)[0][0].endswith("十三个五年规划的建议》。")
    assert second.kicker == "习近平在会见基层民族团结优秀代表时强调"
    assert second.title == ("中华民族一家亲同心共筑中国梦",)
    assert third.title == () and third.review == ("no title found: check whether it has one",)
    assert bodies(issue)[2][0].startswith("人不以规矩则废")


def test_editor_note_opens_a_series_of_speeches(tmp_path):
    issue, _ = imported("import-editor-note", tmp_path)
    note, first, second = issue.articles
    assert note.kind.value == "editor_note"
    assert note.title == ("全区深化社区“联合党委”运行暨“三建四关心”",
                          "党内关怀机制现场推进会发言材料摘编")
    assert plain_paragraphs(note.body) == [
        "10月10日，全区深化社区“联合党委”运行暨“三建四关心”党内关怀机制现场推进会在吴忠市召开。"
        "会议总结交流了吴忠市社区“联合党委”运行和“三建四关心”党内关怀机制经验做法，对在全区推广"
        "这两种做法进行安排部署。现将发言摘编如下。"]
    assert first.title == ("“联”而有力 “合”而有为",)
    assert (first.byline[0].position, first.byline[0].name) == \
        ("青铜峡市委常委、组织部部长", "万玉忠")
    assert second.byline[0].name == "钱丽娟"
    assert note.series == first.series == second.series is not None


def test_excerpt_box_keeps_quote_and_attribution(tmp_path):
    issue, _ = imported("import-excerpt", tmp_path)
    article, box = issue.articles
    assert article.end_note.printed == "（作者单位：自治区党委政研室）"
    assert box.kind.value == "box" and box.column == article.column
    assert plain_paragraphs(box.body) == [
        "一个人又不可能有许多朋友。所谓朋友遍天下，不是一种诗意的夸张，便是一种浅薄的自负。"
        "热衷于社交的人往往自诩朋友众多，其实他们心里明白，社交场上的主宰决不是友谊，"
        "而是时尚、利益或无聊。真正的友谊是不喧嚣的。",
        "——周国平《爱与孤独》"]


def test_end_notes_of_every_kind(tmp_path):
    issue, _ = imported("import-end-notes", tmp_path)
    assert [a.end_note.printed for a in issue.articles] == [
        "（执笔：王军 杨少春 孙冬梅）", "（执笔人：吕天保、蒋晓忠）",
        "（作者系海原县委常委、组织部部长）", "（作者单位：大武口区委组织部）",
        "（来源：《人民日报》）"]
    assert [a.title for a in issue.articles] == [(t,) for t in ("第一篇", "第二篇", "第三篇",
                                                                "第四篇", "第五篇")]


def test_headings_at_each_level_and_latin_words(tmp_path):
    issue, _ = imported("import-headings", tmp_path)
    body = issue.articles[0].body.strip().split("\n\n")
    assert "## 一、深刻把握社区“联合党委”运行机制和“三建四关心”党内关怀机制的丰富内涵" in body
    assert "### （一）全面推广社区“联合党委”模式，加快构建社区区域化党建工作格局" in body
    assert any(p.startswith("**（二）制度建设不完善，具体操作难执行。**面对新形势") for p in body)
    assert any(p.startswith("**1. 集中精力建设一支素质高、能力强的骨干队伍。**要把") for p in body)
    # 一要 … 二要 is an inline enumeration, not a heading.
    assert any(p.startswith("一要优化组织设置。") and "二要创新管理模式" in p for p in body)
    # A line break between two Latin words keeps a space; spaces beside Chinese go.
    assert any("安装的Microsoft Office软件和QQ群学习" in p for p in body)


def test_vertical_title_and_truncated_byline_are_flagged(tmp_path):
    issue, _ = imported("import-vertical-title", tmp_path)
    (item,) = issue.articles
    assert item.title == ("我们要向福建人学习什么",)
    assert item.byline[0].name == "鲁"
    assert {"byline: only ● and the first character(s) of the name were found",
            "title was printed vertically: check its wording"} <= set(item.review)
    assert len(plain_paragraphs(item.body)) == 2


def test_a_vertical_title_may_hold_characters_beyond_the_basic_plane(tmp_path):
    # 𠮷 (U+20BB7) is a Han character of CJK extension B, as rare names use.
    text = tmp_path / "text.txt"
    text.write_text("\n".join(["标题", *"𠮷祥如意", "正文。"]) + "\n", encoding="utf-8")
    assert [(line.text, line.vertical) for line in read_text_lines(text)] == [
        ("标题", False), ("𠮷祥如意", True), ("正文。", False)]


def test_back_cover_with_permit_and_caption(tmp_path):
    issue, _ = imported("import-back-cover", tmp_path)
    article, cover = issue.articles
    assert article.end_note.printed == "（来源：《学习时报》）"
    assert issue.permit == "宁新出管字【2015】第0219号"
    assert issue.back_cover == "宁夏首批干部教育培训现场教学基地展示之七"
    assert cover.kind.value == "back_cover" and issue.column(cover.column).name == "封底"
    assert [p for p in cover.body.strip().split("\n\n") if p.startswith("## ")] == [
        "## 同心县张家塬乡（群众路线专题教育）", "## 原州区炭山乡（群众路线专题教育）"]


# ---------------------------------------------------------------- errors and the command

def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "issue"
    import_text(ROOTS / "import-doubled" / "text.txt", out)
    before = (out / "issue.yaml").read_text(encoding="utf-8")
    with pytest.raises(PublisherError) as exc:
        import_text(ROOTS / "import-running-heads" / "text.txt", out)
    assert str(exc.value) == f"{out / 'issue.yaml'}: exists already; use --force to overwrite"
    assert (out / "issue.yaml").read_text(encoding="utf-8") == before
    report = import_text(ROOTS / "import-running-heads" / "text.txt", out, force=True)
    assert [a.kind.value for a in load_issue(out).articles] == ["editorial"]
    stale = out / "articles" / "10-article.md"
    assert report.notes[0] == f"removed {stale}: not part of this import"


def test_unreadable_text_names_file_and_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes("第一行\n第二行\n".encode() + "第三行".encode("gb18030") + b"\n")
    out = tmp_path / "issue"
    assert main(["import-text", str(bad), "-o", str(out)]) == 1
    with pytest.raises(PublisherError) as exc:
        import_text(bad, out)
    assert str(exc.value) == (f"{bad}:3: not UTF-8: byte 0xb5 cannot be read; save the text "
                              "as UTF-8, or give --encoding gb18030 for a text saved in GBK")
    assert not out.exists()


def test_a_text_saved_in_gbk_is_imported_with_its_encoding(tmp_path):
    text = (ROOTS / "import-doubled" / "text.txt").read_text(encoding="utf-8")
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes(text.encode("gb18030"))
    from_gbk, from_utf8 = tmp_path / "gbk", tmp_path / "utf8"
    assert main(["import-text", str(legacy), "-o", str(from_gbk), "--encoding", "gb18030"]) == 0
    assert main(["import-text", str(ROOTS / "import-doubled" / "text.txt"), "-o",
                 str(from_utf8)]) == 0
    written = sorted(p.relative_to(from_gbk) for p in from_gbk.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(from_utf8) for p in from_utf8.rglob("*") if p.is_file())
    for name in written:
        assert (from_gbk / name).read_bytes() == (from_utf8 / name).read_bytes()


def test_text_without_issue_label_writes_nothing(tmp_path):
    text = tmp_path / "no-label.txt"
    source = (ROOTS / "import-doubled" / "text.txt").read_text(encoding="utf-8")
    text.write_text(source.replace("2015·10", ""), encoding="utf-8")
    out = tmp_path / "issue"
    with pytest.raises(PublisherError, match="no issue label like 2015·10 found"):
        import_text(text, out)
    assert not out.exists()
    import_text(text, out, label="2016·3")
    assert load_issue(out).label == "2016·3"


@pytest.mark.parametrize("label", ["2015·13", "2015·0", "2015", "十月"])
def test_a_label_that_is_no_month_is_refused_before_anything_is_written(tmp_path, capsys, label):
    out = tmp_path / "issue"
    assert main(["import-text", str(ROOTS / "import-doubled" / "text.txt"), "-o", str(out),
                 "--label", label]) == 1
    err = capsys.readouterr().err
    assert err == f"issue label `{label}` is not a year·month such as 2015·10\n"
    assert list(tmp_path.iterdir()) == []


def test_output_that_is_a_file_is_refused(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("keep", encoding="utf-8")
    text = str(ROOTS / "import-doubled" / "text.txt")
    assert main(["import-text", text, "-o", str(afile)]) == 1
    assert capsys.readouterr().err == f"{afile}: is a file, not an issue folder: give a " \
        "folder to -o\n"
    assert main(["import-text", text, "-o", str(afile / "issue")]) == 1
    assert capsys.readouterr().err.startswith(f"{afile}: cannot make the folder: ")
    assert afile.read_text(encoding="utf-8") == "keep"
    assert sorted(tmp_path.iterdir()) == [afile]


def test_sources_that_do_not_validate_are_not_written(tmp_path, monkeypatch):
    # Simulates an importer bug: the check before writing must catch it.
    monkeypatch.setattr(importer_write, "render_item", lambda item: "---\nkind: poem\n---\n\n诗\n")
    out = tmp_path / "issue"
    with pytest.raises(PublisherError, match="do not load"):
        import_text(ROOTS / "import-doubled" / "text.txt", out)
    assert list(tmp_path.iterdir()) == []


def test_command_prints_summary(tmp_path, capsys):
    out = tmp_path / "issue"
    assert main(["import-text", str(ROOTS / "import-displaced-title" / "text.txt"),
                 "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{out}: 1 items (1 article)"
    assert re.fullmatch(r"characters in: \d+, characters out: \d+", lines[1])
    # Two running heads and the folio.
    assert lines[2] == "page furniture removed: 3 lines (running heads, folios, " \
        "repeated title blocks)"
    assert lines[3] == "items flagged for review: 1"
    text = (ROOTS / "import-displaced-title" / "text.txt").read_text(encoding="utf-8")
    title_line = text.splitlines().index("联合党委聚合力 激励关怀增动力") + 1
    assert lines[4].startswith(f"  10-article.md: title block found at line {title_line}, ")
    assert lines[-1] == "issue.yaml: the masthead is not in the text; set `magazine`"
    assert main(["validate", str(out)]) == 0


# ---------------------------------------------------------------- the seed issue

@pytest.fixture(scope="module")
def seed_import(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed") / "2015-10"
    report = import_text(SEED, out, magazine="共产党人")
    return load_issue(out), report


def test_seed_items_found(seed_import):
    issue, report = seed_import
    kinds = Counter(a.kind.value for a in issue.articles)
    assert (kinds["editorial"], kinds["box"], kinds["editor_note"], kinds["back_cover"]) == \
        (1, 3, 2, 1)
    assert kinds["brief"] >= 14
    assert [c.name for c in issue.columns] == [
        "卷首语", "要闻要论", "领导论坛", "书记部长谈党建", "调查研究", "实践探索", "经验交流",
        "党建动态", "干部心得", "他山之石", "以史为鉴", "封底"]
    titles = {a.title: a for a in issue.articles}
    sun = titles[("践行“三严三实”", "贵在忠诚干净担当")]
    assert sun.byline[0].name == "孙志刚" and sun.end_note.kind == "作者系"
    shizuishan = titles[("新形势下石嘴山市从严管理干部的", "思考与探索")]
    assert shizuishan.byline[0].organisation == "石嘴山市委组织部"
    assert shizuishan.end_note.printed == "（执笔人：吕天保、蒋晓忠）"
    fu = next(a for a in issue.articles if a.byline and a.byline[0].name == "傅兴国")
    assert fu.dateline == "2015年10月10日" and issue.column(fu.column).name == "领导论坛"
    brief = titles[("中华民族一家亲同心共筑中国梦",)]
    assert brief.kicker == "习近平在会见基层民族团结优秀代表时强调"
    notes = [a for a in issue.articles if a.kind.value == "editor_note"]
    assert [n.title[-1][-2:] for n in notes] == ["摘编", "摘编"]
    speakers = {a.byline[0].name: a.series for a in issue.articles if a.series and a.byline}
    assert speakers["孙瑛"] == notes[0].series and speakers["马宏伟"] == notes[1].series
    attributions = [plain_paragraphs(a.body)[-1] for a in issue.articles if a.kind.value == "box"]
    assert attributions == ["——周国平《爱与孤独》", "——纳西姆·尼古拉斯·塔勒布《反脆弱》",
                            "——陈忠实《白鹿原》"]
    assert {a.end_note.kind for a in issue.articles if a.end_note} == {
        "执笔", "执笔人", "作者系", "作者单位", "来源"}
    assert issue.permit == "宁新出管字【2015】第0219号"
    # The guesses are flagged: displaced title blocks, the vertical title, untitled pieces.
    flagged = {reason for _, reasons in report.flagged for reason in reasons}
    assert "title was printed vertically: check its wording" in flagged
    assert "no title found: check whether it has one" in flagged
    assert sum("away from the start of its text" in r for r in flagged) >= 8


def _seed_body_han() -> Counter:
    """Han characters of the seed's text: running heads aside, doubled titles counted once."""
    han: Counter = Counter()
    for line in SEED.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        plain = undouble(line) or line
        if HEAD.match(plain) and plain != "【编者按】":
            continue
        han.update(HAN.findall(plain))
    return han


def _sources_han(issue) -> Counter:
    """Han characters of the written sources, leaving out the importer's review notes."""
    han: Counter = Counter(HAN.findall((issue.root / "issue.yaml").read_text(encoding="utf-8")))
    for article in issue.articles:
        text = article.path.read_text(encoding="utf-8")
        front = yaml.safe_load(text.split("---\n")[1])
        front.pop("review", None)
        han.update(HAN.findall(yaml.safe_dump(front, allow_unicode=True) + article.body))
    return han


def test_seed_text_is_not_lost(seed_import):
    issue, _ = seed_import
    expected, found = _seed_body_han(), _sources_han(issue)
    kept = sum(min(n, found[c]) for c, n in expected.items())
    coverage = kept / sum(expected.values())
    report = f"Han characters of the seed kept: {kept} of {sum(expected.values())} " \
        f"({coverage:.3%})"
    print(report)
    assert coverage >= 0.995, report


def test_paragraphs_indented_with_full_width_spaces_are_no_page_starts(seed_import,
                                                                        tmp_path):
    """Chinese text is typed with 　　 before each paragraph: the importer took every such line
    for the first of a page (as pdftotext's leading space is), split items there, and wrote
    nothing, as some came out empty."""
    indented, before = [], ""
    for line in SEED.read_text(encoding="utf-8").split("\n"):
        paragraph_start = line.strip() and not line[:1].isspace() and before.endswith("。")
        indented.append("\u3000\u3000" + line if paragraph_start else line)
        before = line if line.strip() else before
    legacy = tmp_path / "indented.txt"
    legacy.write_text("\n".join(indented), encoding="utf-8")
    import_text(legacy, tmp_path / "indented", magazine="共产党人")
    assert bodies(load_issue(tmp_path / "indented")) == bodies(seed_import[0])


def test_sample_is_the_whole_issue(sample_issue):
    """examples/2015-10, imported and corrected by hand, still holds all of the seed's text."""
    expected, found = _seed_body_han(), _sources_han(sample_issue)
    kept = sum(min(n, found[c]) for c, n in expected.items())
    assert kept / sum(expected.values()) >= 0.995, f"{kept} of {sum(expected.values())}"
    kinds = Counter(a.kind.value for a in sample_issue.articles)
    assert (kinds["box"], kinds["editor_note"], kinds["back_cover"]) == (3, 2, 1)
    series = Counter(a.series for a in sample_issue.articles if a.series and a.byline)
    assert sorted(series.values()) == [6, 6]
    assert [c.name for c, _ in sample_issue.by_column()] == [
        "卷首语", "要闻要论", "领导论坛", "书记部长谈党建", "调查研究", "实践探索", "经验交流",
        "党建动态", "干部心得", "他山之石", "以史为鉴", "封底"]
