"""Stage 4: the analysed items → `issue.yaml` and `articles/NNN-slug.md`, validated before
anything is written, and the summary `import-text` prints."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from publisher.errors import ImportTextError, IssueErrors, SourceError, unprintable
from publisher.importer.items import Analysis, Item, analyse
from publisher.source.load import ARTICLES, MANIFEST, load_issue
from publisher.source.model import Kind


@dataclass
class ImportReport:
    """What `import-text` prints."""

    out: Path
    by_kind: Counter
    chars_in: int
    chars_out: int
    furniture: int
    flagged: list[tuple[str, list[str]]]
    notes: list[str]

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(self.by_kind.items()))
        out = [f"{self.out}: {sum(self.by_kind.values())} items ({kinds})",
               f"characters in: {self.chars_in}, characters out: {self.chars_out}",
               f"page furniture removed: {self.furniture} lines (running heads, folios, "
               "repeated title blocks)",
               f"items flagged for review: {len(self.flagged)}"]
        for name, reasons in self.flagged:
            out.extend(f"  {name}: {r}" for r in reasons)
        out.extend(self.notes)
        return out


# File names use dashes where kinds use underscores.
KIND_SLUG = {kind: kind.value.replace("_", "-") for kind in Kind}


def front_matter(item: Item) -> dict:
    data: dict = {"kind": item.kind.value, "column": item.column}
    if item.kicker:
        data["kicker"] = item.kicker
    if item.title:
        data["title"] = item.title[0] if len(item.title) == 1 else list(item.title)
    if item.subtitle:
        data["subtitle"] = item.subtitle
    if item.byline:
        names_only = all(set(b) == {"name"} for b in item.byline)
        data["byline"] = ([b["name"] for b in item.byline] if names_only else item.byline)
        if names_only and len(item.byline) == 1:
            data["byline"] = item.byline[0]["name"]
    if item.dateline:
        data["dateline"] = item.dateline
    if item.end_note:
        data["end_note"] = item.end_note
    if item.series:
        data["series"] = item.series
    if item.review:
        data["review"] = list(dict.fromkeys(item.review))
    return data


def render_item(item: Item) -> str:
    meta = yaml.safe_dump(front_matter(item), allow_unicode=True, sort_keys=False,
                          width=10_000)
    body = "\n\n".join(item.body).replace("::: excerpt\n\n", "::: excerpt\n") \
        .replace("\n\n:::", "\n:::")
    return f"---\n{meta}---\n\n{body}\n"


def _column_ids(names: list[str]) -> list[dict]:
    return [{"id": "back-cover" if name == "封底" else f"column-{k:02d}", "name": name}
            for k, name in enumerate(names, start=1)]


def render_manifest(analysis: Analysis, magazine: str | None, label: str) -> str:
    year, month = (int(x) for x in label.split("·"))
    names = list(analysis.columns)
    if any(i.column == "封底" for i in analysis.items) and "封底" not in names:
        names.append("封底")
    data = {"magazine": magazine or "刊名待定", "label": label, "year": year, "month": month,
            "language": "zh-CN"}
    if analysis.permit:
        data["permit"] = analysis.permit
    if analysis.back_cover:
        data["back_cover"] = analysis.back_cover
    data["columns"] = _column_ids(names)
    head = "# Written by `publisher import-text`; the masthead is not in the text.\n" \
        if not magazine else ""
    return head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def plan(analysis: Analysis) -> list[tuple[str, Item]]:
    digits = max(2, len(str(10 * len(analysis.items))))
    return [(f"{10 * n:0{digits}d}-{KIND_SLUG[item.kind]}.md", item)
            for n, item in enumerate(analysis.items, start=1)]


def import_text(text_file: Path, out: Path, *, force: bool = False,
                magazine: str | None = None, label: str | None = None,
                encoding: str = "utf-8") -> ImportReport:
    """Analyse `text_file` (saved in `encoding`) and write an issue folder at `out` (in UTF-8,
    as every source is); return the summary."""
    if out.exists() and not out.is_dir():
        raise ImportTextError("is a file, not an issue folder: give a folder to -o", out)
    if label is not None:
        _check_label(label, None)  # a mistyped --label stops before the text is read
    if magazine is not None and (found := unprintable(magazine)) is not None:
        raise ImportTextError(f"--magazine: {found[1]}", None)
    analysis = analyse(text_file, encoding)
    if label is None:
        if not analysis.label:
            raise ImportTextError("no issue label like 2015·10 found in the text: give --label",
                                  text_file)
        label = _check_label(analysis.label, text_file)
    files = plan(analysis)
    targets = [out / MANIFEST] + [out / ARTICLES / name for name, _ in files]
    _check_out_folder(out, targets)
    if not force:
        existing = [p for p in targets if p.exists()]
        existing += sorted((out / ARTICLES).glob("*.md")) if (out / ARTICLES).is_dir() else []
        if existing:
            raise ImportTextError("exists already; use --force to overwrite", existing[0])
    for item in analysis.items:
        if item.column is None:
            item.column = analysis.columns[0] if analysis.columns else "封底"
    contents = {MANIFEST: render_manifest(analysis, magazine, label)}
    contents.update({f"{ARTICLES}/{name}": render_item(item) for name, item in files})
    removed = _write_checked(out, contents, text_file)
    chars_out = sum(1 for item in analysis.items
                    for c in _item_text(item) if not c.isspace())
    flagged = [(name, list(dict.fromkeys(item.review))) for name, item in files if item.review]
    notes = [f"removed {p}: not part of this import" for p in removed]
    if not magazine:
        notes.append("issue.yaml: the masthead is not in the text; set `magazine`")
    return ImportReport(out, Counter(i.kind.value for i in analysis.items), analysis.chars_in,
                        chars_out, len(analysis.dropped), flagged, notes)


def _check_label(label: str, source: Path | None) -> str:
    """`label` if it is a year·month the loader accepts, else an error naming `source`."""
    match = re.fullmatch(r"(\d{4})·(\d{1,2})", label)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ImportTextError(f"issue label `{label}` is not a year·month such as 2015·10",
                              source)
    return label


def _item_text(item: Item) -> str:
    parts = [*item.title, item.subtitle or "", item.kicker or "", item.dateline or ""]
    parts += [v for b in item.byline for v in b.values()]
    if item.end_note:
        parts.append(item.end_note["text"])
    parts += [re.sub(r"^(#+ |::: ?\w*)|\*\*|\\", "", p) for p in item.body]
    return "".join(parts)


def _write_checked(out: Path, contents: dict[str, str], text_file: Path) -> list[Path]:
    """Check in a temporary folder that the files load, then write them all or none.

    Article files of an earlier import that this one does not write are removed (only `--force`
    gets this far with any), since their order numbers would clash; they are returned.
    """
    _check_loads(out, contents, text_file)
    articles = out / ARTICLES
    # Every file is first written beside its target, so that a folder that cannot be written
    # fails the import before anything is replaced; renaming them then cannot fail half-way.
    staged: list[tuple[Path, Path]] = []
    try:
        articles.mkdir(parents=True, exist_ok=True)
        for name, text in contents.items():
            target = out / name
            staged.append((_part(target), target))
            _write_new(staged[-1][0], text)
    except OSError as exc:
        for part, _ in staged:
            part.unlink(missing_ok=True)
        raise ImportTextError(f"cannot write here: {exc.strerror}; nothing was written",
                              Path(exc.filename).parent if exc.filename else out) from None
    stale = sorted(set(articles.glob("*.md")) - {target for _, target in staged})
    for part, target in staged:
        os.replace(part, target)
    for path in stale:
        path.unlink()
    return stale


def _part(target: Path) -> Path:
    """The file `target` is first written to, beside it."""
    return target.with_name(f".{target.name}.import.part")


def _write_new(path: Path, text: str) -> None:
    """Write `text` to a file made afresh at `path`: a stale one (of an import that was stopped)
    is removed first, and the file is created so that a link put in its place is not followed."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


THROUGH_A_LINK = ("is a link: the import writes and deletes only the issue folder's own files, "
                  "never through a link; delete the link")


def _check_out_folder(out: Path, targets: list[Path]) -> None:
    """Refuse an issue folder that would have the import write or delete outside it, or stop it
    half-way: a link at `articles`, at a file it replaces, stages or removes (it would write or
    delete through it, wherever it leads), or a folder or device where it replaces a file."""
    articles = out / ARTICLES
    if articles.is_symlink():
        raise ImportTextError(THROUGH_A_LINK, articles)
    if articles.exists() and not articles.is_dir():
        raise ImportTextError("is a file: an issue keeps its articles in a folder of that name",
                              articles)
    earlier = articles.glob("*.md") if articles.is_dir() else []
    for path in [*targets, *map(_part, targets), *earlier]:
        try:
            mode = path.lstat().st_mode
        except OSError:  # not there: nothing to follow or replace
            continue
        if stat.S_ISLNK(mode):
            raise ImportTextError(THROUGH_A_LINK, path)
        if not stat.S_ISREG(mode):
            raise ImportTextError("not a regular file (a pipe, device or folder): the import "
                                  "would replace it; move it away", path)


def _check_loads(out: Path, contents: dict[str, str], text_file: Path) -> None:
    """Load the files from a temporary folder; a problem is named at the file and line it would
    have in `out`, as the text's (its characters, its structure), and nothing is written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.import-", dir=out.parent))
    except OSError as exc:  # a file where a folder of the path should be, or no permission
        raise ImportTextError(f"cannot make the folder: {exc.strerror}", out.parent) from None
    try:
        (tmp / ARTICLES).mkdir()
        for name, text in contents.items():
            (tmp / name).write_text(text, encoding="utf-8")
        try:
            load_issue(tmp)
        except IssueErrors as exc:
            problems = [str(SourceError(e.message, out / e.path.relative_to(tmp), e.line,
                                        e.column)) for e in exc.errors]
            raise ImportTextError("the text gives sources that do not load, so nothing was "
                                  "written; correct the text:\n" + "\n".join(problems),
                                  text_file) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
