"""Fonts by typographic role (宋 serif, 黑 sans, 楷 kai), read from `fonts/fonts.yaml`.

Layouts name roles only (`var(--font-serif)`); this module turns the mapping into CSS and
answers which characters a family can set, so a missing glyph stops the build instead of
printing tofu or a silently substituted font.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from publisher.errors import (
    BuildError,
    IssueErrors,
    SourceError,
    read_utf8,
)
from publisher.templates import hidden, shipped
from publisher.yaml_text import parse_yaml, yaml_line

ROLES = ("serif", "sans", "kai")
GENERIC = {"serif": "serif", "sans": "sans-serif", "kai": "serif"}
CONFIG = "fonts.yaml"
# Spaces, controls and format characters (joiners, soft hyphens) need no glyph of their own.
INVISIBLE = {"Zs", "Zl", "Zp", "Cc", "Cf"}


@dataclass(frozen=True)
class Role:
    """One role: its families in fallback order and optional font files by weight."""

    name: str
    families: tuple[str, ...]
    files: tuple[tuple[int, Path], ...] = ()

    @property
    def css_families(self) -> str:
        """The families as a CSS `font-family` list, each name quoted."""
        return ", ".join(css_string(family) for family in self.families)


def css_string(text: str) -> str:
    """`text` as a quoted CSS string: quotes, backslashes and control characters escaped."""
    return '"' + re.sub(r'["\\\x00-\x1f\x7f]', lambda m: f"\\{ord(m.group()):x} ", text) + '"'


def load_roles(issue_root: Path | None = None) -> dict[str, Role]:
    """The project's roles, each overridden by the issue's own `fonts/fonts.yaml` if it has one;
    IssueErrors lists every mistake in either file."""
    roles, errors = dict(_read_once(shipped("fonts") / CONFIG)[0]), []
    if issue_root is not None and (issue_root / "fonts" / CONFIG).is_file():
        own, errors = _read_once(issue_root / "fonts" / CONFIG)
        roles.update(own)
    if errors:
        raise IssueErrors(list(errors))
    return roles


def config_errors(issue_root: Path) -> list[SourceError]:
    """The mistakes in an issue's own `fonts/fonts.yaml`, for the loader to list with the rest."""
    path = issue_root / "fonts" / CONFIG
    return list(_read_once(path)[1]) if path.is_file() else []


def _read_once(path: Path) -> tuple[dict[str, Role], tuple[SourceError, ...]]:
    """`_read(path)`, read again only when the file changes: a build asks for the roles often."""
    stat = path.stat()
    return _read(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read(path: Path, mtime_ns: int, size: int) -> tuple[dict[str, Role], tuple[SourceError, ...]]:
    """The roles of one fonts.yaml and its mistakes (`mtime_ns` and `size` key the cache only)."""
    try:
        data, node = parse_yaml(read_utf8(path), path)
    except SourceError as error:
        return {}, (error,)
    if data is None:
        return {}, ()
    if not isinstance(data, dict):
        return {}, (SourceError("expected `role: {family: …}` entries", path, 1),)
    roles, errors = {}, []
    for name, entry in data.items():
        try:
            roles[name] = _role(name, entry, path, node)
        except SourceError as error:
            errors.append(error)
    return roles, tuple(errors)


def _role(name: object, entry: object, path: Path, node) -> Role:
    """One role of fonts.yaml, or the SourceError that says what is wrong with it."""
    if name not in ROLES:
        raise SourceError(f"unknown role `{name}` (roles: {', '.join(ROLES)})", path,
                          yaml_line(node, (name,)))
    families = entry.get("family") if isinstance(entry, dict) else None
    if isinstance(families, str):
        families = [families]
    if not families or not all(isinstance(f, str) and f for f in families):
        raise SourceError(f"role `{name}` needs `family: <font family name>`", path,
                          yaml_line(node, (name,)))
    listed = entry.get("files") or {}
    if not isinstance(listed, dict):
        raise SourceError(f"role `{name}`: `files` maps a weight to a font file, as in "
                          "`files: {400: Font.ttf, 700: Font-Bold.ttf}`", path,
                          yaml_line(node, (name, "files")))
    files = []
    for weight, file in listed.items():
        font = path.parent / str(file)
        if not isinstance(weight, int) or not font.is_file():
            raise SourceError(f"role `{name}`: `files` maps a weight (400, 700) to a font "
                              f"file in {path.parent}; `{weight}: {file}` is not one",
                              path, yaml_line(node, (name, "files", str(weight))))
        if "#" in str(file):  # `file#2` names the third face of a collection, everywhere here
            raise SourceError(f"role `{name}`: `{file}`: rename the font file without `#`",
                              path, yaml_line(node, (name, "files", str(weight))))
        if not font.resolve().is_relative_to(path.parent.resolve()):
            raise SourceError(f"role `{name}`: font file `{file}` is outside {path.parent}: "
                              "put it there", path, yaml_line(node, (name, "files", str(weight))))
        if hidden(font.resolve(), path.parent.resolve()):  # which the build does not read
            raise SourceError(f"role `{name}`: font file `{file}` is hidden (a name starting "
                              "with a dot): rename it", path,
                              yaml_line(node, (name, "files", str(weight))))
        if not _readable_font(font.resolve()):
            raise SourceError(f"role `{name}`: `{file}` is not a font file that can be read",
                              path, yaml_line(node, (name, "files", str(weight))))
        files.append((weight, font.resolve()))
    return Role(name, tuple(families), tuple(files))


def _readable_font(font: Path) -> bool:
    """Whether fontTools finds a Unicode character map in the font (a corrupt file crashed the
    build): HarfBuzz, which reads the map for the glyph check, reads what it can of a damaged
    file without a word. A file found readable is kept so in the build cache by its path, size
    and time: parsing a CJK font's map takes 0.2 s."""
    from fontTools.ttLib import TTFont

    from publisher import cache as build_cache

    entry = build_cache.file_key(str(font))
    if build_cache.get("readable-fonts", entry) is not None:
        return True
    try:
        with TTFont(font, fontNumber=0, lazy=True) as face:
            readable = face.getBestCmap() is not None
    except Exception:  # fontTools raises any kind of error on a damaged file
        return False
    if readable:
        build_cache.put("readable-fonts", entry, b"")
    return readable


def damaged(font: Path, doing: str, error: Exception) -> BuildError:
    """The error of a font file that fonts.yaml's check let through (it reads the character
    map only) and that fails when `doing` something else with it."""
    return BuildError(f"a damaged font file ({doing}: {error}): export it again or name another "
                      f"font in {CONFIG}", font)


def font_css(roles: dict[str, Role]) -> str:
    """@font-face rules for font files, and one custom property per role for the layouts."""
    rules = []
    for role in roles.values():
        for weight, file in role.files:
            rules.append(f"@font-face {{ font-family: {css_string(role.families[0])}; "
                         f"src: url({css_string(file.as_uri())}); font-weight: {weight}; }}")
    props = []
    for name, role in sorted(roles.items()):
        props.append(f"--font-{name}: {role.css_families}, {GENERIC[name]};")
    rules.append(f":root {{ {' '.join(props)} }}")
    return "\n".join(rules) + "\n"


def family_files(roles: dict[str, Role]) -> dict[str, tuple[Path, ...]]:
    """Each family named by a role → the font files that WeasyPrint will use for it."""
    files: dict[str, tuple[Path, ...]] = {}
    for role in roles.values():
        for family in role.families:
            if family == role.families[0] and role.files:
                files[family] = tuple(file for _, file in role.files)
            elif family not in files:
                files[family] = (_installed(family, role.name),)
    return files


def role_face(role: Role, weight: int) -> tuple[Path, int]:
    """The font file and face index (in a collection) that sets `role` at `weight`: a file
    listed for the role (the nearest weight), else the installed first family."""
    if role.files:
        face = min(role.files, key=lambda listed: abs(listed[0] - weight))[1]
    else:
        face = _installed(role.families[0], role.name, "bold" if weight >= 600 else "regular")
    path, _, index = str(face).partition("#")
    return Path(path), int(index or 0)


@cache
def _installed(family: str, role: str, style: str = "regular") -> Path:
    """A face of an installed family, via fontconfig; an error if it is missing, since
    fontconfig would otherwise answer with some other family."""
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{family}\n%{file}\n%{index}", f"{family}:{style}"],
            capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BuildError(f"cannot ask fontconfig for fonts (fc-match: {exc})") from None
    names, file, index = (out.splitlines() + ["", "", "0"])[:3]
    if family.casefold() not in (n.strip().casefold() for n in names.split(",")):
        raise BuildError(f"font family `{family}` (role {role}) is not installed: install it, "
                         f"or put its files in fonts/ and list them in {CONFIG}")
    return Path(f"{file}#{index}")


@cache
def coverage(font: Path) -> frozenset[int]:
    """The code points a font file (`path#index` for a face of a collection) has glyphs for,
    as HarfBuzz reads its best cmap, kept in the build cache by the file's path, size and time."""
    from array import array

    from publisher import cache as build_cache
    from publisher import harfbuzz

    path, _, index = str(font).partition("#")
    entry = build_cache.file_key(path, str(font))
    stored = build_cache.get("coverage", entry)
    if stored is not None and len(stored) % 4 == 0:
        return frozenset(array("I", stored))
    try:
        points = harfbuzz.bound().unicodes(path, int(index or 0))
    except OSError as error:
        raise BuildError(f"cannot read the font file {font}: {error}") from None
    build_cache.put("coverage", entry, array("I", sorted(points)).tobytes())
    return points


def missing(text: str, families: tuple[str, ...], files: dict[str, tuple[Path, ...]]) -> str:
    """The characters of `text` that none of `families` (as far as the roles know them) can set."""
    covered = [coverage(f) for family in families for f in files.get(family, ())]
    if not covered:
        return ""
    return "".join(dict.fromkeys(
        ch for ch in text
        if unicodedata.category(ch) not in INVISIBLE and not any(ord(ch) in c for c in covered)))
