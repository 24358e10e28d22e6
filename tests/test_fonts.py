"""Fonts by role (`fonts/fonts.yaml`): mistakes named by file and line, family names quoted
for CSS, the file read once per change."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import tinycss2

from publisher import fonts
from publisher.cli import main
from publisher.errors import IssueErrors

from .conftest import ROOTS


def issue_with_fonts(tmp_path: Path, text: str) -> Path:
    (tmp_path / "fonts").mkdir(exist_ok=True)
    (tmp_path / "fonts" / fonts.CONFIG).write_text(text, encoding="utf-8")
    return tmp_path


def error(root: Path) -> str:
    with pytest.raises(IssueErrors) as exc:
        fonts.load_roles(root)
    return str(exc.value)


@pytest.mark.parametrize("text, line, message", [
    # A list where a mapping of weights belongs.
    ("serif:\n  family: Noto Serif CJK SC\n  files: [a.ttf]\n", 3,
     "role `serif`: `files` maps a weight to a font file, as in "
     "`files: {400: Font.ttf, 700: Font-Bold.ttf}`"),
    # The weight that names no file, not the role, is pointed at.
    ("sans:\n  family: Noto Sans CJK SC\n  files:\n    400: Noto.ttf\n", 4,
     "role `sans`: `files` maps a weight (400, 700) to a font file in {folder}; "
     "`400: Noto.ttf` is not one"),
    # A key in quotes or a flow mapping still has its line.
    ('# roles\n"serif": {family: Noto Serif CJK SC}\n"bold": {family: X}\n', 3,
     "unknown role `bold` (roles: serif, sans, kai)"),
    # The parser notices the unclosed list a line late: both lines are named.
    ("serif:\n  family: [Noto Serif CJK SC\nsans:\n  family: Noto Sans CJK SC\n", 3,
     "YAML: expected ',' or ']', but got ':' (while parsing a flow sequence started on line 2)"),
])
def test_a_mistake_in_fonts_yaml_names_file_and_line(tmp_path, text, line, message):
    root = issue_with_fonts(tmp_path, text)
    path = root / "fonts" / fonts.CONFIG
    assert error(root) == f"{path}:{line}: {message.replace('{folder}', str(path.parent))}"


def test_a_font_file_named_with_a_hash_is_refused(tmp_path):
    """`file#2` names a face of a collection: a file named so would be cut at the `#`."""
    root = issue_with_fonts(tmp_path, 'kai:\n  family: LXGW WenKai\n  files: {400: "a#1.ttf"}\n')
    (root / "fonts" / "a#1.ttf").write_bytes(b"a font")
    assert error(root) == (f"{root / 'fonts' / fonts.CONFIG}:3: role `kai`: `a#1.ttf`: rename "
                           "the font file without `#`")


def test_fonts_yaml_that_is_not_utf8_names_the_line():
    root = ROOTS / "fonts-not-utf8"
    assert error(root) == (f"{root / 'fonts' / fonts.CONFIG}:3: not UTF-8: byte 0xcb cannot be "
                           "read; save the file as UTF-8")


def test_a_build_with_a_broken_fonts_yaml_prints_the_error_not_a_traceback(tmp_path, capsys):
    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    issue_with_fonts(root, "kai:\n  family: LXGW WenKai\n  files: [LXGW.ttf]\n")
    assert main(["build", str(root), "--pdf", "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.startswith(
        f"{root / 'fonts' / fonts.CONFIG}:3: role `kai`: `files` maps a weight")


def test_family_names_are_quoted_as_css_strings(tmp_path):
    root = issue_with_fonts(tmp_path, 'kai:\n  family: [\'Kai "A\\ B"\', LXGW WenKai]\n')
    roles = fonts.load_roles(root)
    assert roles["kai"].families == ('Kai "A\\ B"', "LXGW WenKai")
    css = fonts.font_css(roles)
    declarations = tinycss2.parse_declaration_list(
        tinycss2.parse_stylesheet(css)[0].content, skip_whitespace=True)
    kai = next(d for d in declarations if d.name == "--font-kai")
    tokens = [t for t in kai.value if t.type not in ("whitespace", "literal")]
    assert [(t.type, t.value) for t in tokens] == [
        ("string", 'Kai "A\\ B"'), ("string", "LXGW WenKai"), ("ident", "serif")]
    assert roles["kai"].css_families == fonts.css_string('Kai "A\\ B"') + ', "LXGW WenKai"'


def test_fonts_yaml_is_read_again_only_when_it_changes(tmp_path, monkeypatch):
    root = issue_with_fonts(tmp_path, "kai:\n  family: LXGW WenKai\n")
    path = root / "fonts" / fonts.CONFIG
    reads = []
    read_utf8 = fonts.read_utf8
    monkeypatch.setattr(fonts, "read_utf8", lambda p: reads.append(p) or read_utf8(p))
    fonts._read.cache_clear()
    for _ in range(5):
        assert fonts.load_roles(root)["kai"].families == ("LXGW WenKai",)
    assert reads.count(path) == 1
    path.write_text("kai:\n  family: [LXGW WenKai, Noto Serif CJK SC]\n", encoding="utf-8")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert fonts.load_roles(root)["kai"].families == ("LXGW WenKai", "Noto Serif CJK SC")
    assert reads.count(path) == 2



def issue_with_a_damaged_font(tmp_path: Path, table: str, at: int, written: bytes) -> Path:
    """A copy of a small issue whose serif role is LXGW WenKai with `written` at byte `at` of
    its `table`: a font whose character map fontTools reads, as fonts.yaml's check does."""
    from fontTools.ttLib import TTFont

    wenkai = Path("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf")
    with TTFont(wenkai, lazy=True) as face:
        start = face.reader.tables[table].offset + at
    data = bytearray(wenkai.read_bytes())
    data[start:start + len(written)] = written
    root = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", root)
    issue_with_fonts(root, "serif:\n  family: [Damaged, Noto Serif CJK SC]\n"
                           "  files: {400: damaged.ttf}\n")
    (root / "fonts" / "damaged.ttf").write_bytes(bytes(data))
    return root


def test_a_font_file_damaged_past_its_character_map_is_one_line(tmp_path, capsys):
    """FreeType refused a font whose `head` table is broken when the EPUB's cover was drawn,
    and the build ended in a traceback."""
    root = issue_with_a_damaged_font(tmp_path, "head", 18, b"\0\0")  # unitsPerEm 0
    assert main(["build", str(root), "--epub", "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"{root / 'fonts' / 'damaged.ttf'}: a damaged font file (FreeType, drawing the EPUB "
        "cover: broken table): export it again or name another font in fonts.yaml")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_damaged_font_file_embedded_in_the_epub_is_one_line(tmp_path, capsys):
    """fontTools' error on a table it subsets (an OS/2 table of no known version) ended the
    build in a traceback."""
    root = issue_with_a_damaged_font(tmp_path, "OS/2", 0, b"\x7c\x77")
    assert main(["build", str(root), "--epub", "--embed-fonts",
                 "-o", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"{root / 'fonts' / 'damaged.ttf'}: a damaged font file (fontTools, embedding it in the "
        "EPUB: unknown format for OS/2 table: version 31863): export it again or name another "
        "font in fonts.yaml")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_hidden_font_file_is_refused_at_its_line(tmp_path):
    """Validated, then refused by the build as "a layout refers to …: hidden", without the
    line of fonts.yaml that names it (the build reads no hidden file)."""
    root = issue_with_fonts(tmp_path, "kai:\n  family: LXGW WenKai\n  files: {400: .kai.ttf}\n")
    shutil.copy("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf",
                root / "fonts" / ".kai.ttf")
    assert error(root) == (f"{root / 'fonts' / fonts.CONFIG}:3: role `kai`: font file `.kai.ttf` "
                           "is hidden (a name starting with a dot): rename it")
