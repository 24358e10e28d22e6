"""`publisher diff OLD.pdf NEW.pdf`: what changed between two proofs, page by page.

Pages are matched by their printed folio (page label). On each page the printed lines are
compared in reading order; a page whose lines differ in text, or stand elsewhere, needs a new
plate. The text of the whole issue is compared too: a page holding an edited character is
*edited* and its changed lines are listed; any other changed page has only *re-flowed* (text
moved onto it or off it), and only the count of its lines is given.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from publisher.check import PrintedLine
from publisher.desk.layout import MARKED_KEY, LaidOutIssue
from publisher.output import atomic_output

MOVED_PT = 0.5  # a line standing this much elsewhere is a changed plate
CUT_GAP_PT = 3.0  # a cut's red rule, this far from the line beside it


@dataclass
class PageChange:
    label: str
    edited: bool
    changes: list[tuple[str, str]] = field(default_factory=list)  # (before, after) lines
    moved: int = 0  # lines with the same text that stand elsewhere
    new_lines: list[PrintedLine] = field(default_factory=list)  # to highlight
    # Where lines were taken out and none took their place: (the line next to the gap, whether
    # the gap is below it), for a red rule in the marked copy.
    cuts: list[tuple[PrintedLine, bool]] = field(default_factory=list)

    def format(self) -> str:
        what = "edited" if self.edited else "re-flowed"
        parts = [f"{len(self.changes)} line(s) changed"] if self.changes else []
        if self.moved:
            parts.append(f"{self.moved} line(s) moved")
        head = f"page {self.label}: {what}, {', '.join(parts)}"
        if not self.edited:  # text that moved: the lines are the old ones, shifted
            return head
        return "\n".join([head, *(f"  {before or '∅'} → {after or '∅'}"
                                  for before, after in self.changes)])


@dataclass
class DiffReport:
    pages: list[PageChange]
    only_old: list[str]
    only_new: list[str]

    def format(self) -> str:
        out = [p.format() for p in self.pages]
        out += [f"page {label}: removed" for label in self.only_old]
        out += [f"page {label}: added" for label in self.only_new]
        reflowed = [p.label for p in self.pages if not p.edited]
        plates = len(self.pages) + len(self.only_new)
        out.append(f"{plates} changed plate(s); re-flowed pages: "
                   f"{', '.join(reflowed) if reflowed else 'none'}")
        return "\n".join(out)


def _by_page(issue: LaidOutIssue) -> dict[str, list[PrintedLine]]:
    pages: dict[str, list[PrintedLine]] = {label: [] for label in issue.labels}
    for line in issue.reading_order:
        pages[issue.labels[line.page - 1]].append(line)
    return pages


def _edited_labels(old: LaidOutIssue, new: LaidOutIssue) -> set[str]:
    """Labels of the new pages that hold a character the edit added, or stand where one was
    taken out: the issue's lines in reading order are compared (running heads and folios left
    out: they do not move with the text), then the characters of the runs of lines that differ,
    where a re-flow shows as the same characters broken elsewhere."""
    def lines(issue: LaidOutIssue) -> list[PrintedLine]:
        return [line for line in issue.reading_order if issue.in_text_block(line)]

    def label(issue: LaidOutIssue, line: PrintedLine) -> str:
        return issue.labels[line.page - 1]

    old_lines, new_lines = lines(old), lines(new)
    edited = set()
    runs = difflib.SequenceMatcher(None, [ln.text for ln in old_lines],
                                   [ln.text for ln in new_lines], autojunk=False)
    for tag, i1, i2, j1, j2 in runs.get_opcodes():
        if tag == "equal":
            continue
        # Text taken out was edited on the pages it stood on (pages are matched by folio):
        # the next line may stand on a page nothing else changed, when a box or the end of an
        # item is cut at a page's foot.
        old_labels = [label(old, ln) for ln in old_lines[i1:i2] for _ in ln.text]
        new_labels = [label(new, ln) for ln in new_lines[j1:j2] for _ in ln.text]
        chars = difflib.SequenceMatcher(None, "".join(ln.text for ln in old_lines[i1:i2]),
                                        "".join(ln.text for ln in new_lines[j1:j2]),
                                        autojunk=False)
        for op, h1, h2, k1, k2 in chars.get_opcodes():
            if op != "equal":
                edited.update(new_labels[k1:k2] if k2 > k1 else old_labels[h1:h2])
    # A running head no page of the old proof had (a column renamed) is an edit of its page;
    # one that moved with its column, in a re-flow, is not.
    old_heads = {line.text for line in old.reading_order if not old.in_text_block(line)}
    edited.update(label(new, line) for line in new.reading_order
                  if not new.in_text_block(line) and line.text not in old_heads)
    return edited


def diff(old: LaidOutIssue, new: LaidOutIssue) -> DiffReport:
    old_pages, new_pages = _by_page(old), _by_page(new)
    edited = _edited_labels(old, new)
    changes = []
    for label, after in new_pages.items():
        if label not in old_pages:
            continue
        before = old_pages[label]
        change = PageChange(label, label in edited)
        matcher = difflib.SequenceMatcher(None, [ln.text for ln in before],
                                          [ln.text for ln in after], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                change.moved += sum(abs(a.y - b.y) > MOVED_PT or abs(a.x0 - b.x0) > MOVED_PT
                                    for a, b in zip(before[i1:i2], after[j1:j2], strict=True))
                continue
            olds, news = before[i1:i2], after[j1:j2]
            for k in range(max(len(olds), len(news))):
                change.changes.append((olds[k].text if k < len(olds) else "",
                                       news[k].text if k < len(news) else ""))
            change.new_lines += news
            if len(olds) > len(news) and after:
                below = j2 > 0
                change.cuts.append((after[j2 - 1] if below else after[0], below))
        if change.changes or change.moved:
            changes.append(change)
    return DiffReport(changes, [x for x in old_pages if x not in new_pages],
                      [x for x in new_pages if x not in old_pages])


def mark(new_pdf: Path, report: DiffReport, target: Path) -> Path:
    """A copy of the new proof with every changed line under a yellow highlight, and a red rule
    where lines were taken out."""
    from pypdf import PageObject, PdfReader, PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, FloatObject, NameObject

    writer = PdfWriter(clone_from=PdfReader(new_pdf))
    # Its texts are the proof's: without this, --pdf would take it for the proof itself, and
    # keep it as a round or cut offprints with yellow on them.
    writer.add_metadata({MARKED_KEY: "publisher diff"})
    by_page: dict[int, tuple[list[PrintedLine], list[tuple[PrintedLine, bool]]]] = {}
    for change in report.pages:
        for line in change.new_lines:
            by_page.setdefault(line.page, ([], []))[0].append(line)
        for line, below in change.cuts:
            by_page.setdefault(line.page, ([], []))[1].append((line, below))
    for number, (lines, cuts) in by_page.items():
        page = writer.pages[number - 1]
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        rects = []
        for line in lines:
            top = min(c["top"] for c in line.chars)
            bottom = max(c["bottom"] for c in line.chars)
            rects.append(f"{line.x0 - 1:.2f} {height - bottom - 1:.2f} "
                         f"{line.x1 - line.x0 + 2:.2f} {bottom - top + 2:.2f} re f")
        rules = []
        for line, below in cuts:  # in the space between the lines, a third of it from this one
            top = min(c["top"] for c in line.chars)
            bottom = max(c["bottom"] for c in line.chars)
            y = height - (bottom + CUT_GAP_PT if below else top - CUT_GAP_PT)
            rules.append(f"{line.x0:.2f} {y:.2f} m {line.x1:.2f} {y:.2f} l")
        overlay = PageObject.create_blank_page(width=width, height=height)
        # Multiply keeps the text readable under the highlight.
        overlay[NameObject("/Resources")] = DictionaryObject({
            NameObject("/ExtGState"): DictionaryObject({
                NameObject("/DeskMark"): DictionaryObject({
                    NameObject("/Type"): NameObject("/ExtGState"),
                    NameObject("/BM"): NameObject("/Multiply"),
                    NameObject("/ca"): FloatObject(0.6),
                })})})
        stream = DecodedStreamObject()
        drawn = f"/DeskMark gs 1 0.85 0 rg {' '.join(rects)}"
        if rules:
            drawn += f" 1 0 0 RG 1.5 w {' '.join(rules)} S"
        stream.set_data(drawn.encode())
        overlay.replace_contents(stream)
        page.merge_page(overlay)  # encloses the page's own content in q … Q first
    with atomic_output(target) as tmp:
        writer.write(tmp)
    return target
