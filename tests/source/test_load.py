"""The loader: the sample loads; every broken issue is reported as `path:line: message`."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from pydantic import ValidationError

from publisher.cli import main
from publisher.source.load import load_issue
from publisher.source.model import Kind, Span
from tests.conftest import ROOTS, SAMPLE

# One scenario folder each under tests/roots/; the exact lines `publisher validate` must print.
BROKEN = {
    "bad-yaml": [
        "bad-yaml/articles/10-a.md:5: YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence started on line 4)",
    ],
    "unknown-field": ["unknown-field/articles/10-a.md:4: unknown field `author`"],
    "missing-field": ["missing-field/articles/10-a.md:2: missing required field `column`"],
    "unknown-column": [
        "unknown-column/articles/10-a.md:4: unknown column `理论前沿` "
        "(issue.yaml lists: yaowen, diaocha)",
    ],
    "missing-image": ["missing-image/articles/10-a.md:8: missing image `images/nowhere.jpg`"],
    "not-utf8": [
        "not-utf8/articles/10-a.md:3: not UTF-8: byte 0xb1 cannot be read; save the file as UTF-8",
    ],
    "empty-article": [
        "empty-article/articles/10-a.md:5: empty article: no text after the front matter",
    ],
    "duplicate-order": [
        "duplicate-order/articles/10-b.md:1: order number 10 is already used by 10-a.md",
    ],
    "bad-manifest": [
        "bad-manifest/issue.yaml:1: missing required field `label`",
        "bad-manifest/issue.yaml:3: `month`: 13 is more than 12",
        "bad-manifest/issue.yaml:4: `trim`: trim is `A4`, `大16开` or `WIDTHxHEIGHT` in mm, "
        "e.g. `210x285`",
        "bad-manifest/issue.yaml:5: unknown field `editor`",
    ],
    "bad-byline": [
        "bad-byline/articles/10-a.md:6: `byline entry 2`: "
        "a byline entry needs either `name` or `organisation`",
        "bad-byline/articles/10-a.md:8: `end_note.kind`: "
        "`笔者` is not one of 执笔, 执笔人, 作者系, 作者单位 or 来源",
    ],
    "no-front-matter": [
        "no-front-matter/articles/10-a.md:1: "
        "no front matter: the file must start with a line `---`",
    ],
    # Markdown that no layout sets printed as its marks: fences, a table's rules, `===`.
    "unset-markup": [
        "unset-markup/articles/10-a.md:10: a code block's fence (```) would print as text: the "
        "layouts set no code blocks; delete the fences",
        "unset-markup/articles/10-a.md:15: a table would print as text, rules and all: the "
        "layouts set no tables; write it as text",
        "unset-markup/articles/10-a.md:19: a line of `=` would print as text: write the heading "
        "above it as `## …`",
        "unset-markup/articles/10-a.md:21: `:::` would print as text: it opens and closes only a "
        "微书摘 box, `::: excerpt`",
        "unset-markup/articles/10-a.md:25: a `# ` heading: an article's headings are `## ` and "
        "`### `, its title is in the front matter",
    ],
    "bad-file-name": [
        # Saved under another name, an article was left out of the issue without a word.
        "bad-file-name/articles/30-c.MD: not read as an article: an article's file name ends in "
        "`.md`, in lower case: rename it",
        "bad-file-name/articles/40-d.md.txt: not read as an article: an article's file name "
        "ends in `.md`, in lower case: rename it",
        "bad-file-name/articles/第二篇.md: file name must be NN-slug.md: an order number, a dash, "
        "then lower-case letters, digits and dashes",
    ],
    "image-outside": [
        "image-outside/articles/10-a.md:8: image `../../secret.png` is outside the issue folder",
        "image-outside/articles/10-a.md:10: image `https://example.org/x.png` must be a file in "
        "the issue folder, named relative to the article",
        # Validated, then refused by the build as a layout's, without the article's line.
        "image-outside/articles/10-a.md:12: image `images/.hidden.png` is hidden (a name "
        "starting with a dot): rename it",
    ],
    # YAML reads yes, on and true as true, which pydantic would take for the number 1, and
    # would take 20151020 for a count of seconds since 1970; a set for a list, in an order
    # that changed from one run to the next (and the outputs' bytes with it).
    "yaml-booleans": [
        "yaml-booleans/articles/10-good.md:4: `title`: write one line of text, or a list of lines",
        "yaml-booleans/articles/20-figure.md:9: YAML: `!!set` has no order: write a list, as in "
        "[a, b]",
        "yaml-booleans/issue.yaml:4: `month`: write a whole number here",
        "yaml-booleans/issue.yaml:8: `fees.per_thousand`: write a number here",
        "yaml-booleans/issue.yaml:9: `revised`: write a date, as 2015-10-20",
    ],
    "repeated-key": ["repeated-key/articles/10-a.md:4: field `title` is given twice"],
    "unopened-series": [
        "unopened-series/articles/10-a.md:4: series `sanyan` is not opened by an editor_note "
        "item before this one",
    ],
    "no-manifest": ["no-manifest/issue.yaml: no issue.yaml here: an issue folder starts with one"],
    "untitled-brief": ["untitled-brief/articles/10-a.md:2: a brief needs a `title`: its headline"],
    "blank-title": [
        "blank-title/articles/10-a.md:5: `title entry 2`: is empty: write the text, or remove the "
        "line",
        "blank-title/articles/20-b.md:3: `title`: write one line of text, or a list of lines",
    ],
    "private-use": [
        "private-use/articles/10-a.md:6:7: private-use character U+E000: fonts disagree on what it "
        "shows; type the standard character",
    ],
    "bad-images": [
        "bad-images/articles/10-a.md:6: image `images/a.svg` must be one of "
        ".gif, .jpeg, .jpg, .png, .webp",
        "bad-images/articles/10-a.md:8: image `images/b.png` is not a PNG picture that can be "
        "read: export it as one",
        "bad-images/articles/10-a.md:10: image `images/c.png` is not a PNG picture that can be "
        "read: export it as one",
        "bad-images/articles/10-a.md:12: image `images/d.png` is not a PNG picture that can be "
        "read: export it as one",
    ],
    "unclosed-front-matter": [
        "unclosed-front-matter/articles/10-a.md:1: front matter not closed: "
        "end it with a line `---`",
    ],
    "number-key": ["number-key/articles/10-a.md:3: `1` is not a field name"],
}


@pytest.mark.parametrize("scenario", sorted(BROKEN))
def test_broken_issue_reports_every_problem_with_path_and_line(scenario, monkeypatch, capsys):
    monkeypatch.chdir(ROOTS)
    assert main(["validate", scenario]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[:-1] == BROKEN[scenario]
    assert err[-1] == f"publisher: {len(BROKEN[scenario])} problem(s) found"


def test_cli_prints_no_traceback_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "publisher.cli", "build", "bad-byline", "-o", str(out)],
        cwd=ROOTS,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("bad-byline/articles/10-a.md:6: ")
    assert not out.exists()


def test_good_issue_loads_into_records():
    issue = load_issue(ROOTS / "good-minimal")
    first, second = issue.articles
    assert (first.order, first.slug, first.column, first.title) == (
        10,
        "good",
        "diaocha",
        ("一篇好文章",),
    )
    assert first.byline[0].name == "张三" and first.span is Span.two_column
    assert second.column == "diaocha"  # named by its display name in the front matter
    assert second.title == ("第一行", "第二行") and second.subtitle == "副题"
    assert [(b.position, b.name, b.organisation) for b in second.byline] == [
        ("吴忠市委常委、组织部部长", "孙瑛", None),
        (None, None, "石嘴山市委组织部"),
    ]
    assert second.end_note.printed == "（作者系吴忠市委组织部部长）"
    assert second.body_line == 10 and second.body.startswith("\n## 一、标题")
    assert (issue.trim.width, issue.trim.height) == (210, 285)
    with pytest.raises(ValidationError):
        first.title = ("改",)  # records are frozen


def test_sample_validates(capsys):
    assert main(["validate", str(SAMPLE)]) == 0
    issue = load_issue(SAMPLE)
    kinds = {a.kind for a in issue.articles}
    assert Kind.editorial in kinds
    assert issue.articles[0].end_note.printed == "（执笔：刘国强）"
    assert issue.label == "2015·10" and issue.language == "zh-CN"


def test_pictures_with_chinese_names_hidden_files_and_broken_links(tmp_path, monkeypatch, capsys):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    images = issue / "articles" / "images"
    (images / "photo.png").rename(images / "现场照片.png")
    figure = issue / "articles" / "20-figure.md"
    figure.write_text(
        figure.read_text(encoding="utf-8").replace("images/photo.png", "images/现场照片.png"),
        encoding="utf-8",
    )
    (issue / "articles" / "._20-figure.md").write_bytes(b"\x00\x05\x16\x07 mac resource fork")
    (issue / "articles" / "30-folder.md").mkdir()
    loaded = load_issue(issue)
    assert len(loaded.articles) == 2
    assert "](images/现场照片.png)" in loaded.articles[1].body

    (issue / "articles" / "40-gone.md").symlink_to(tmp_path / "nowhere.md")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "issue"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        "issue/articles/40-gone.md: cannot read: No such file or directory"
    )


def test_validate_lists_a_broken_fonts_yaml_with_the_articles_mistakes(tmp_path, capsys):
    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    article = root / "articles" / "10-good.md"
    article.write_text(article.read_text(encoding="utf-8").replace(
        "byline: 张三\n", "byline: 张三\nauthor: 李四\n"), encoding="utf-8")
    (root / "fonts").mkdir()
    (root / "fonts" / "fonts.yaml").write_text(
        "serif:\n  family: Noto Serif CJK SC\nbold:\n  family: X\nkai:\n  files: 3\n",
        encoding="utf-8")
    assert main(["validate", str(root)]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"{article}:6: unknown field `author`",
        f"{root / 'fonts' / 'fonts.yaml'}:3: unknown role `bold` (roles: serif, sans, kai)",
        f"{root / 'fonts' / 'fonts.yaml'}:5: role `kai` needs `family: <font family name>`",
        "publisher: 3 problem(s) found",
    ]


@pytest.mark.parametrize(("added", "at", "message"), [
    ("revised: 2015-09-30\n", 0, "`revised`: 2015-09-30 comes before the issue's month: write "
     "the day of the correction, as 2015-10-20"),
    # YAML reads 2015-13-01 as a date, and fails to make it.
    ("revised: 2015-13-01\n", 0, "`2015-13-01` is no day of the calendar: write a date as "
     "2015-10-20"),
    # Python reads no decimal number of more than 4300 digits, and prints no number as long.
    (f"copies: {'9' * 5000}\nrevised: 2015-10-20\n", 1,
     "a number too long to read: write it in quotes if it is text"),
    (f"copies: 0x{'f' * 5000}\n", 0, "a number too long to read: write it in quotes if it is "
     "text"),
    # The press PDF embeds the profile: one named outside the issue would carry a file of the
    # build machine to the printer.
    ("press:\n  profile: ../../../../../usr/share/color/icc/ghostscript/default_cmyk.icc\n"
     "  condition: Custom\n", 1, "`press.profile`: the printer's ICC profile must be a file "
     "in the issue folder"),
    # A hidden file, which the build does not read: a press build ended in a traceback.
    ("press:\n  profile: .printer.icc\n  condition: Custom\n", 1, "`press.profile`: the "
     "printer's ICC profile is hidden (a name starting with a dot): rename it"),
])
def test_a_manifest_line_added_is_refused_at_its_line(tmp_path, capsys, added, at, message):
    """`at`: the refused line's place counted back from the manifest's last line."""
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "press-periodical", issue)
    manifest = issue / "issue.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + added, encoding="utf-8")
    line = manifest.read_text(encoding="utf-8").count("\n") - at
    assert main(["validate", str(issue)]) == 1
    assert capsys.readouterr().err.splitlines()[0] == f"{manifest}:{line}: {message}"


@pytest.mark.parametrize(("line", "written"), [
    (3, "column diaocha"),  # YAML finds no `:` on the line
    (2, "kind article"),  # YAML runs on into the next field's name
])
def test_a_field_without_its_colon_is_named_at_its_line(tmp_path, capsys, monkeypatch, line,
                                                        written):
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    article = issue / "articles" / "10-good.md"
    lines = article.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = written
    article.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["validate", "issue"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == (
        f"issue/articles/10-good.md:{line}: YAML: `{written}` has no `: ` after its name: "
        "write it as name: value")
