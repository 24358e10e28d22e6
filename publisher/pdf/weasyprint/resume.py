"""A section laid out again from the first page an edit can change to the last it changes,
for WeasyPrint 70.0.

In `watch`, an edit lays out again the one section that holds it (`publisher.pdf.sections`),
from its first page. The pages before the edit come out as they did, if nothing their layout
read changed: `section(key)` keeps the pages of each layout of a section, and the next layout
of it takes the leading ones whose layout read only what comes before the first item the
edit changed, and lays out the rest from where they end. Once a page laid out again ends
where its last layout's did, after all the edit changed, and in the same state, the pages
after it come out as they did too (a sentence rewritten in as many lines): they are taken as
well, through WeasyPrint's own test for pages it need not make again (`remake_page`, which
compares the state each page starts in).

What a page's layout read (`_Page.reach`) is the furthest place in the box tree where it or a
layout it tried ended (`balance.reached`). An item is the unit: a change inside it moves the
breaks of its paragraphs (widows) and of its heads (kept with their text), so a page is taken
only if all it read lies before the edited item begins. The balancing of columns also lays the
next page out ahead, to ask how many lines it wants pushed on (`balance.asked`): a page that
read no further than that answer into the edit, the one before the edited page as a rule, is
taken on trust, and the next page's own first layout, the same one, answers the question
again (`balance.opened`); with another answer, the page is laid out again after all, and the
next page after it. Taking it saves laying out and drawing a page of every edit.

A page is taken as laid out, its boxes bound to the new document's elements (which item a run
of text is in is read from its element), and the pages after it are laid out from the state the
old layout had there (`context.page_maker`), the same as a layout from the first page reaches.
A layout that carries anything else from page to page (running elements, footnotes, page
numbers of cross-references, WeasyPrint's repagination for page counters) is not kept.

It depends on private WeasyPrint code: import it only through `publisher.pdf.weasyprint`,
which checks the version first.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from math import inf

from weasyprint import layout
from weasyprint.formatting_structure import boxes
from weasyprint.layout import page as layout_page

from publisher import recent
from publisher.pdf.weasyprint import balance, lines

_original_make_all_pages = layout.make_all_pages
_original_remake_page = layout_page.remake_page
# Sections whose last layout is kept, each with no more than this many: the sample has 22.
_KEPT_LAYOUTS = 64


@dataclass
class _Page:
    """A laid-out page as `make_all_pages` made it, before its margin boxes."""

    box: object  # the PageBox
    children: tuple  # its root box, footnote area and note area
    root_children: list
    clear: bool  # nothing went on into it from the page before but in-flow content
    reach: tuple  # how far into the box tree its own layout read (`_position`)
    ahead_reach: tuple  # how far the layouts of the next page it laid out ahead read
    # What it asked of the next page, each (`_Recording.key` of the question, answer).
    questions: tuple


@dataclass
class _Layout:
    """A section's last layout."""

    font_config: object
    signature: list  # each element of its HTML in document order (`_signature`)
    elements: list
    pages: list[_Page]
    makers: list  # the state each page starts in, and the one after the last (page_maker)
    page_sizes: dict  # the style's initial page sizes, which the first page sets
    lines: dict  # the lines it kept (`lines.kept`)
    paths: dict[int, tuple]  # where each element's first block stands in its box tree


_layouts: dict[str, _Layout] = {}
_section: str | None = None  # the key of the section being laid out, if it is kept


@contextmanager
def section(key: str) -> Iterator[None]:
    """Keep the pages of the layouts inside as the layout of the section `key` (its HTML and
    everything else it reads besides: layouts, fonts, pictures), and lay it out from its last
    layout's pages where they serve."""
    global _section
    _section = key
    try:
        yield
    finally:
        _section = None


def kept_section() -> str | None:
    """The key of the section being laid out and drawn, if it is kept (`section`)."""
    return _section


def forget() -> None:
    """Keep no section's pages (a test's layouts start afresh)."""
    _layouts.clear()


def _signature(root) -> tuple[list, list, list]:
    """Each element under `root` in document order as (depth, tag, attributes, text, tail),
    the elements, and the index of each one's parent."""
    signature, elements, parents = [], [], []
    stack = [(root, 0, -1)]
    while stack:
        element, depth, parent = stack.pop()
        index = len(elements)
        elements.append(element)
        parents.append(parent)
        signature.append((depth, element.tag, dict(element.attrib), element.text, element.tail))
        stack += [(child, depth + 1, index) for child in reversed(element)]
    return signature, elements, parents


def _first_difference(old: list, new: list) -> int | None:
    """The index of the first element where the signatures `old` and `new` differ, None where
    they are the same."""
    first = next((i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b), None)
    return min(len(old), len(new)) if first is None and len(old) != len(new) else first


def _item_of(index: int, elements: list, parents: list):
    """The element of the outermost item (`data-item`) that holds element `index`, None where
    it is in none."""
    item = None
    while index >= 0:
        if elements[index].get("data-item") is not None:
            item = elements[index]
        index = parents[index]
    return item


def _paths(root_box) -> dict[int, tuple]:
    """The place in the box tree (child indices from the root) of the first block of each
    element: what a skip stack names, down to the line boxes."""
    found: dict[int, tuple] = {}
    stack = [(root_box, ())]
    while stack:
        box, path = stack.pop()
        if box.element is not None:
            found.setdefault(id(box.element), path)
        if not isinstance(box, boxes.LineBox):
            children = getattr(box, "children", ())
            stack += [(child, (*path, i)) for i, child in reversed(list(enumerate(children)))]
    return found


def _position(prefix: tuple, skip_stack) -> tuple:
    """Where a layout of the box at `prefix` that goes on at `skip_stack` ended: after the box
    where it ended (None), at the latest place the skip stack names."""
    path = list(prefix)
    while isinstance(skip_stack, dict) and skip_stack:
        index = max(skip_stack)
        path.append(index)
        skip_stack = skip_stack[index]
    if skip_stack is not None and not isinstance(skip_stack, dict):
        return (inf,)  # a form the reading does not know: read to the end
    return (*path, inf) if skip_stack is None and len(path) == len(prefix) else tuple(path)


class _Retake(Exception):
    """The page after one taken on trust did not give the answer that page had of it."""


class _Recording:
    """The pages of the layout in progress, with what each read."""

    def __init__(self, context, root_box):
        self.context, self.root_box = context, root_box
        self.pages: list[_Page] = []
        # Indices of the last layout's pages that may be taken where the layout reaches them
        # in the state they started in (`_resumed`).
        self.takeable: set[int] = set()
        # A page taken on trust (`_resumed`): its index, the question it asked of the next
        # page, and the answer its layout had, which the next page's layout must give.
        self.trusted: tuple[int, tuple, tuple[int, int]] | None = None
        self.confirmed = False  # the next page's layout gave that answer
        self.reach: tuple = ()
        self.ahead_reach: tuple = ()
        self.questions: list[tuple] = []
        self._paths: dict[int, tuple] | None = None

    @property
    def paths(self) -> dict[int, tuple]:
        if self._paths is None:
            self._paths = _paths(self.root_box)
        return self._paths

    def reached(self, box, skip_stack, ahead: bool) -> None:
        """A layout of `box` (a look-ahead's if `ahead`) went on at `skip_stack` (None: it
        ended)."""
        prefix = self.paths.get(id(box.element))
        where = (inf,) if prefix is None else _position(prefix, skip_stack)
        if ahead:
            self.ahead_reach = max(self.ahead_reach, where)
        else:
            self.reach = max(self.reach, where)

    def key(self, question: tuple) -> tuple | None:
        """A question of `balance` (box, where it goes on, and the page's geometry) as one
        layout of this section can ask another: the box by its place in the box tree."""
        box, resume_at, *geometry = question
        path = self.paths.get(id(box.element))
        return None if path is None else (path, lines.frozen(resume_at), *geometry)

    def asked(self, question: tuple, answer: tuple[int, int]) -> None:
        self.questions.append((self.key(question), answer))

    def opened(self, question: tuple, answer) -> None:
        """A first layout of columns on the page after one taken on trust: where it is the one
        that page asked about, whether it gives the same answer."""
        if self.trusted is not None and self.key(question) == self.trusted[1]:
            self.confirmed = answer() == self.trusted[2]


_recording: _Recording | None = None
# On a layout's context, once it has made its pages: a second time is WeasyPrint's
# repagination for page-based counters, which a section's layout is not kept through.
_MADE = "_publisher_pages_made"


def _remake_page(index, context, root_box, html):
    """WeasyPrint's `remake_page`, kept with what the layout of the page read."""
    recording = _recording
    if recording is None or recording.context is not context:
        return _original_remake_page(index, context, root_box, html)
    clear = not (context.broken_out_of_flow or context.reported_footnotes)
    recording.reach, recording.ahead_reach, recording.questions = (), (), []
    balance.reached, balance.asked = recording.reached, recording.asked
    balance.opened = recording.opened if recording.trusted else None
    try:
        page, resume_at = _original_remake_page(index, context, root_box, html)
    finally:
        balance.reached = balance.asked = balance.opened = None
    if recording.trusted is not None:
        # The page before, taken on trust, is laid out again unless this page confirmed it;
        # this page is complete, so the layout's state is as WeasyPrint leaves it between
        # pages.
        if not recording.confirmed:
            raise _Retake
        recording.trusted = None
    reach = max(recording.reach, _position((), resume_at))
    del recording.pages[index:]
    recording.pages.append(_Page(page, tuple(page.children), list(page.children[0].children),
                                 clear, reach, recording.ahead_reach,
                                 tuple(recording.questions)))
    following = context.page_maker[index + 1][-1]
    # WeasyPrint takes the next page as it stands where it starts in the state it did; but
    # not where the page maker cannot tell: inside what the edit changed, or with content
    # carried over outside it (a float, footnotes).
    if resume_at is not None and not following["content_changed"] and (
            index + 1 not in recording.takeable
            or context.broken_out_of_flow or context.reported_footnotes):
        following["content_changed"] = True
    return page, resume_at


def _make_all_pages(context, root_box, html, pages):
    """WeasyPrint's `make_all_pages`: where a section is kept (`section`), from its last
    layout's pages that serve, and kept for its next."""
    global _recording
    key = _section
    if key is None or _MADE in context.__dict__:
        if key is not None:
            _layouts.pop(key, None)
        yield from _original_make_all_pages(context, root_box, html, pages)
        return
    context.__dict__[_MADE] = True
    signature, elements, parents = _signature(html.etree_element)
    old = _layouts.pop(key, None)
    recording = _Recording(context, root_box)
    taken: list[_Page] = []
    if old is not None and old.font_config is context.font_config:
        pages, taken, recording.takeable, recording.trusted = _resumed(
            context, html, old, signature, elements, parents, recording.paths)
    _recording = recording
    given = 0  # pages yielded
    held = None  # the page taken on trust, until the next page confirms it
    try:
        while True:
            try:
                for index, page in enumerate(
                        _original_make_all_pages(context, root_box, html, pages)):
                    if index < given:  # yielded before a retake
                        continue
                    if len(recording.pages) == index:  # not made again (`_remake_page` keeps
                        recording.pages.append(taken[index])  # those)
                    if recording.trusted is not None and index == recording.trusted[0]:
                        held = page
                        continue
                    if held is not None:
                        yield held
                        held = None
                    yield page
                    given = index + 1
                break
            except _Retake:
                # The page taken on trust is laid out after all, and the pages after it.
                context.page_maker[recording.trusted[0]][-1]["content_changed"] = True
                recording.trusted, held = None, None
    finally:
        _recording = None
    # Running elements, footnotes and cross-references to pages (target-counter) are carried
    # from page to page outside the page maker.
    if not (context.footnotes or context.target_collector.counter_lookup_items
            or any(any(by_page.values()) for by_page in context.running_elements.values())):
        recent.keep(_layouts, key, _Layout(
            context.font_config, signature, elements, recording.pages,
            [copy.deepcopy(entry[:4]) for entry in context.page_maker],
            dict(context.style_for.initial_page_sizes), lines.kept(context), recording.paths),
            _KEPT_LAYOUTS)


def _resumed(context, html, old: _Layout, signature, elements, parents,
             paths: dict[int, tuple]) -> tuple[list, list, set[int], tuple | None]:
    """The pages of `old` that may serve the layout of `html` (its boxes' `paths`) in
    `context`, bound to its elements, as boxes and as kept (None for the others); the indices
    of those after the edit, which serve if the layout reaches them in the state they started
    in; the last leading page taken on trust, if one is (`_trusted`); the page maker set to
    take the leading ones, whose layout read only what comes before the first item the edit
    changed, and to go on after them; and the lines of the pages that may be taken kept with
    the layout's."""
    first = _first_difference(old.signature, signature)
    if first is None:
        begins = (inf,)
    else:
        item = _item_of(min(first, len(elements) - 1), elements, parents)
        begins = None if item is None else paths.get(id(item))
        if begins is None:
            return [], [], set(), None
    count, trusted = 0, None
    for at, page in enumerate(old.pages[:-1]):
        if page.reach >= begins or not old.pages[at + 1].clear:
            break
        if page.ahead_reach >= begins:
            trusted = _trusted(at, page)
            count += trusted is not None
            break
        count = at + 1
    follows = _after_edit(old, signature, elements, parents, paths, first)
    takeable = set() if follows is None else {
        at for at in range(count + 1, len(old.pages))
        if old.pages[at].clear and _position((), old.makers[at][0]) >= follows}
    if not count and not takeable:
        return [], [], set(), None
    # Where the documents differ in elements, only the leading pages are taken, which hold
    # none after the first that differs.
    same = {id(before): after for before, after in zip(
        old.elements, elements[:len(elements) if takeable else first], strict=False)}
    boxes, kept = [], []
    for at, page in enumerate(old.pages):
        if at >= count and at not in takeable:
            boxes.append(None)
            kept.append(None)
            continue
        root, footnotes, notes = page.children
        root = root.copy()
        root.children = list(page.root_children)
        box = page.box.copy()
        box.children = [root, footnotes, notes]
        for inside in box.descendants():
            inside.element = same.get(id(inside.element), inside.element)
        layout_page.set_page_type_computed_styles(box.page_type, html, context.style_for)
        boxes.append(box)
        kept.append(_Page(box, tuple(box.children), page.root_children, page.clear, page.reach,
                          page.ahead_reach, page.questions))
    context.style_for.initial_page_sizes.update(old.page_sizes)
    # The lines of the paragraphs the pages that may be taken hold are kept with the lines
    # this layout lays out, for the next.
    lines.kept(context).update(
        (key, line) for key, line in old.lines.items()
        if (where := old.paths.get(id(line.source.element), (inf,))) < begins
        or (takeable and where >= follows))
    context.page_maker = [(*copy.deepcopy(maker), {
        "content_changed": at == count, "pages_wanted": False, "anchors": [],
        "content_lookups": []}) for at, maker in enumerate(old.makers)]
    return boxes, kept, takeable, trusted


def _trusted(at: int, page: _Page) -> tuple | None:
    """The page at `at`, whose layout read only what comes before the edit but laid the next
    page out ahead into it, as taken on trust: where all it asked of that page is one question
    (`balance._next_page`), whose answer was all its layout took from there, the page is as it
    was if the next page's layout gives that answer again (`_Recording.opened`)."""
    asked = set(page.questions)
    if len(asked) != 1:
        return None
    (key, answer), = asked
    return None if key is None else (at, key, answer)


def _after_edit(old: _Layout, signature, elements, parents, paths: dict[int, tuple],
                first: int | None) -> tuple | None:
    """Where what follows all an edit changed begins in the box tree, if it is the same and
    stands at the same places in both layouts, so that a page that starts there in the same
    state comes out as it did; None where not. Only an edit of text (not of elements or their
    attributes, which selectors read across elements) qualifies."""
    if first is None or len(old.signature) != len(signature):
        return None
    last = next(at for at in reversed(range(len(signature)))
                if old.signature[at] != signature[at])
    if any(old.signature[at][:3] != signature[at][:3] for at in range(first, last + 1)):
        return None
    depth = signature[last][0]
    end = next((at for at in range(last + 1, len(signature)) if signature[at][0] <= depth),
               None)
    if end is None:
        return None
    holder = parents[end]
    while holder >= 0:
        if holder >= first:  # what follows is inside what changed
            return None
        holder = parents[holder]
    # Text in or after an element may make an anonymous box, which moves the places after it.
    follows = old.paths.get(id(old.elements[end]))
    if follows is None or any(old.paths.get(id(before)) != paths.get(id(after)) for before, after
                              in zip(old.elements[end:], elements[end:], strict=True)):
        return None
    return follows


def install():
    """Lay kept sections out from their last layout's pages; return what undoes it."""
    layout.make_all_pages = _make_all_pages
    layout_page.remake_page = _remake_page

    def restore() -> None:
        layout.make_all_pages = _original_make_all_pages
        layout_page.remake_page = _original_remake_page

    return restore
