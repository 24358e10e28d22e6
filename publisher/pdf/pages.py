"""What WeasyPrint cannot do, done on its output: the page plan, page labels and the PDF/X-4
that a press file claims to be (pypdf).

The layout marks its special pages with ids (`cover`, `inside-front-cover`, `blank-page`,
`back-cover`); the page plan reads them to number pages like the printed folios and to put the
back cover last on a left page, padding a press run to fours.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from xml.etree import ElementTree

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    RectangleObject,
    TextStringObject,
)

from publisher.errors import BuildError
from publisher.output import GHOSTSCRIPT_CMYK
from publisher.pdf.grid import MM
from publisher.source.model import Issue

COVER, INSIDE_COVER, INSIDE_BACK, BACK_COVER, BLANK = (
    "cover", "inside-front-cover", "inside-back-cover", "back-cover", "blank-page")


@dataclass(frozen=True)
class Label:
    """Pages `first`..`last` (0-based, inclusive): labelled `prefix`, or numbered from `start`."""

    first: int
    last: int
    prefix: str | None = None
    start: int | None = None


@dataclass(frozen=True)
class PagePlan:
    order: list  # WeasyPrint pages in print order, the blank page repeated as needed
    blanks: int  # blank pages added among the numbered ones (not counting 封三)
    labels: tuple[Label, ...]

    def page_names(self, document) -> list[str]:
        """The printed name (folio, 封面 …) of each of `document`'s pages, as laid out."""
        names = {}
        for label in self.labels:
            for at in range(label.first, label.last + 1):
                page = self.order[at]
                names.setdefault(id(page), label.prefix or str(label.start + at - label.first))
        return [names.get(id(page), "") for page in document.pages]


def page_plan(document, *, press: bool) -> PagePlan:
    """Drop or repeat the blank page before the back cover; label the pages.

    Pages go as in print: 封面 (a right page), 封二, then folio 1 on a right page, so odd folios
    fall on right pages; the back cover (封底) is last, a left page, so the count is even, and in
    press a multiple of 4. The blank pages that make it so are numbered, but for the last one,
    the inside back cover (封三), unless the layout fills 封三 itself (the imprint, say). The
    cover and 封二 count no folio (the layout's `@page cover` and `@page inside-cover` do not
    increment `page`), so labels match the printed folios.
    """
    pages = list(document.pages)
    back = bool(pages) and BACK_COVER in pages[-1].anchors
    blank = next((i for i, p in enumerate(pages) if BLANK in p.anchors), None)
    pads = 0
    if blank is not None:
        del pages[blank]
        pads = -len(pages) % (4 if press else 2 if back else 1)
        pages[blank:blank] = [document.pages[blank]] * pads
    filled_inside_back = back and len(pages) > 1 and INSIDE_BACK in pages[-2].anchors
    inside_back = back and (pads > 0 or filled_inside_back)
    labels = []
    first, last = 0, len(pages) - 1
    for anchor, prefix in ((COVER, "封面"), (INSIDE_COVER, "封二")):
        if first <= last and anchor in pages[first].anchors:
            labels.append(Label(first, first, prefix=prefix))
            first += 1
    ending = [prefix for prefix, present in (("封三", inside_back), ("封底", back)) if present]
    last -= len(ending)
    if last >= first:
        labels.append(Label(first, last, start=1))
    labels += [Label(last + i, last + i, prefix=prefix) for i, prefix in enumerate(ending, 1)]
    return PagePlan(pages, pads - (inside_back and not filled_inside_back), tuple(labels))


PDFX_VERSION = "PDF/X-4"
PDFX_HEADER = b"%PDF-1.6"  # PDF/X-4 is PDF 1.6 (ISO 15930-7, 6.1.1); pypdf writes 1.3


@dataclass(frozen=True)
class OutputIntent:
    """The printing condition a press PDF is made for (ISO 15930-7, 6.2.2)."""

    profile: Path
    condition: str  # OutputConditionIdentifier: a registered name, or Custom
    info: str
    registry: str | None = None


def output_intent(issue: Issue) -> OutputIntent:
    """The issue's printer's condition (issue.yaml `press:`), else Ghostscript's profile."""
    if issue.press is None:
        intent = OutputIntent(GHOSTSCRIPT_CMYK, "Custom",
                              "Artifex CMYK SWOP Profile (Ghostscript default_cmyk.icc), a US "
                              "web-offset condition: no printer's own profile was named")
        if not intent.profile.is_file():
            raise BuildError(f"press PDFs need a CMYK output profile: {intent.profile} is "
                             "missing (Debian package libgs-common), or name your printer's "
                             "in issue.yaml's `press:`")
    else:
        press = issue.press
        intent = OutputIntent((issue.root / press.profile).resolve(), press.condition,
                              press.info or press.condition, press.registry)
        if not intent.profile.is_file():
            raise BuildError(f"no ICC profile at {press.profile} (issue.yaml `press.profile`, "
                             "relative to the issue folder)", issue.root / "issue.yaml")
    if _profile_space(intent.profile) != "CMYK":
        raise BuildError(f"{intent.profile} is not a CMYK output profile: a press PDF's output "
                         "intent must be the printer's CMYK characterisation",
                         issue.root / "issue.yaml")
    if problem := _separation_problem(intent.profile):
        raise BuildError(f"{intent.profile}: LittleCMS cannot separate pictures with this "
                         f"profile ({problem}): ask the printer for its ICC version 2 profile",
                         issue.root / "issue.yaml")
    return intent


def _profile_space(path: Path) -> str | None:
    from PIL import ImageCms

    try:
        return ImageCms.getOpenProfile(str(path)).profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError):
        return None


def _separation_problem(profile: Path) -> str | None:
    """Why a picture could not be separated with this output profile (`convert_rgb_images`),
    tried on one pixel; None if it can. Pillow writes the profile back out with each converted
    picture, and LittleCMS cannot write some (Ghostscript's ps_cmyk.icc) once used."""
    from PIL import Image, ImageCms

    try:
        ImageCms.applyTransform(Image.new("RGB", (1, 1)), _separation(profile))
    except (OSError, ImageCms.PyCMSError) as exc:
        return str(exc)
    return None


def _separation(profile: Path):
    """The transform of pictures from sRGB into the output profile's CMYK, perceptual."""
    file = profile.stat()
    return _separation_of(profile, file.st_mtime_ns, file.st_size)


@lru_cache(maxsize=8)  # every section of a press build asks; a changed file is built anew
def _separation_of(profile: Path, _mtime_ns: int, _size: int):
    from PIL import ImageCms

    return ImageCms.buildTransform(ImageCms.createProfile("sRGB"), str(profile), "RGB", "CMYK",
                                   ImageCms.Intent.PERCEPTUAL)


# The info dictionary's record of the articles a PDF was made from (`build.texts_digest`).
TEXTS_KEY = "/PublisherTexts"


def finish(writer: PdfWriter, target: Path, labels: tuple[Label, ...], *, texts: str,
           bleed: float | None = None, intent: OutputIntent | None = None) -> None:
    """Write the PDF in `writer` (WeasyPrint's, or composed from sections of the issue from one
    that keeps WeasyPrint's deterministic /ID) to `target` with page labels and the digest of
    the articles' `texts`.

    `bleed` (points) sets each BleedBox that far around the TrimBox and marks the pages for
    the printer (`mark_for_press`).
    `intent` makes the file the PDF/X-4 for that printing condition.
    """
    if bleed is not None:
        mark_for_press(writer, bleed)
    if intent is not None:
        make_pdfx(writer, intent)
    writer.add_metadata({TEXTS_KEY: texts})
    for label in labels:
        writer.set_page_label(label.first, label.last,
                              style="/D" if label.start else None,
                              prefix=label.prefix, start=label.start or 0)
    writer.page_mode = "/UseOutlines"  # open with the bookmarks shown
    # pypdf asks its stream where it stands before each object: on a file, a system call
    # each (5 ms of an edit's build on the sample); in memory, none.
    written = BytesIO()
    writer.write(written)
    target.write_bytes(written.getbuffer())


# pypdf escapes each name it writes character by character: a composed issue writes the same
# few hundred names some 20,000 times, and escaping them took a third of the writing. Each
# name is escaped by pypdf once, and its bytes reused (a font subset's name may be new after
# an edit: they are all dropped once there are many).
_escape_name = NameObject.renumber
_escaped_names: dict[str, bytes] = {}
_ESCAPED_NAMES_KEPT = 4096


def _renumber(name: NameObject) -> bytes:
    found = _escaped_names.get(name)
    if found is None:
        if len(_escaped_names) >= _ESCAPED_NAMES_KEPT:
            _escaped_names.clear()
        found = _escaped_names[name] = _escape_name(name)
    return found


NameObject.renumber = _renumber


CROP_MARK_LENGTH = 7 * MM
CROP_MARK_WIDTH = 0.25  # points: a printer's hairline


def mark_for_press(writer: PdfWriter, bleed: float) -> None:
    """Set each page's BleedBox `bleed` points around its TrimBox, clip what the page draws to
    it, and draw crop marks beyond it in the registration colour (every plate).

    WeasyPrint paints a page's background over the whole CSS bleed, which is wider than the
    printer's (12 mm, for room for the marks), and draws its marks in black: a cover's colour
    filled the slug under the marks, and K-only marks leave the other plates unregistered."""
    registration = writer._add_object(ArrayObject([
        NameObject("/Separation"), NameObject("/All"), NameObject("/DeviceCMYK"),
        DictionaryObject({
            NameObject("/FunctionType"): NumberObject(2),
            NameObject("/Domain"): ArrayObject([NumberObject(0), NumberObject(1)]),
            NameObject("/C0"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/C1"): ArrayObject([NumberObject(1)] * 4),
            NameObject("/N"): NumberObject(1)})]))
    streams: dict[tuple, tuple] = {}  # (clip, marks) by the page's boxes: most pages share them
    for page in writer.pages:
        trim = page.trimbox
        box = (float(trim.left) - bleed, float(trim.bottom) - bleed,
               float(trim.right) + bleed, float(trim.top) + bleed)
        page.bleedbox = RectangleObject(box)
        if box not in streams:
            width, height = box[2] - box[0], box[3] - box[1]
            streams[box] = (_stream(writer, f"q {_numbers(*box[:2], width, height)} re W n\n"),
                            _stream(writer, "Q\n" + _crop_marks(trim, bleed)))
        clip, marks = streams[box]
        contents = page.get("/Contents")  # a stream, or an array of them, maybe by reference
        streams_of_page = contents.get_object() if contents is not None else ArrayObject()
        drawn = (list(streams_of_page) if isinstance(streams_of_page, ArrayObject)
                 else [contents])
        page[NameObject("/Contents")] = ArrayObject([clip, *drawn, marks])
        resources = page["/Resources"].get_object()
        spaces = resources.setdefault(NameObject("/ColorSpace"), DictionaryObject())
        spaces.get_object()[NameObject("/Registration")] = registration


def _crop_marks(trim, bleed: float) -> str:
    """Two strokes at each corner, on the trim's lines, from the bleed out."""
    left, bottom, right, top = (float(v) for v in (trim.left, trim.bottom, trim.right, trim.top))
    near, far = bleed, bleed + CROP_MARK_LENGTH
    strokes = []
    for x, y, out_x, out_y in ((left, bottom, -1, -1), (right, bottom, 1, -1),
                               (left, top, -1, 1), (right, top, 1, 1)):
        strokes.append(((x + out_x * near, y), (x + out_x * far, y)))
        strokes.append(((x, y + out_y * near), (x, y + out_y * far)))
    drawn = "".join(f"{_numbers(*start)} m {_numbers(*end)} l\n" for start, end in strokes)
    return f"q /Registration CS 1 SCN {CROP_MARK_WIDTH} w 0 J\n{drawn}S Q\n"


def _numbers(*values: float) -> str:
    return " ".join(f"{v:.3f}" for v in values)


def _stream(writer: PdfWriter, text: str):
    stream = DecodedStreamObject()
    stream.set_data(text.encode("ascii"))
    return writer._add_object(stream)


def make_pdfx(writer: PdfWriter, intent: OutputIntent) -> None:
    """What WeasyPrint's `pdf/x-4` leaves undone or pypdf undoes: the PDF 1.6 header,
    GTS_PDFXVersion in the info dictionary as in the XMP, the printer's output condition, and
    pictures in the output intent's CMYK rather than RGB."""
    writer.pdf_header = PDFX_HEADER
    writer.add_metadata({"/GTS_PDFXVersion": PDFX_VERSION, "/Trapped": NameObject("/False")})
    (entry,) = writer.root_object["/OutputIntents"]
    entry = entry.get_object()
    entry[NameObject("/OutputConditionIdentifier")] = TextStringObject(intent.condition)
    entry[NameObject("/Info")] = TextStringObject(intent.info)
    if intent.registry:
        entry[NameObject("/RegistryName")] = TextStringObject(intent.registry)
    metadata = writer.root_object["/Metadata"].get_object()
    metadata.set_data(pdfx_xmp(metadata.get_data()))
    convert_rgb_images(writer, intent.profile)


# Every prefix of WeasyPrint's XMP, registered here: the namespaces ElementTree knows are global,
# and a process that wrote no PDF itself (sections laid out by workers) would write ns4:, ns5:.
XMP_NS = {"pdfx": "http://ns.adobe.com/pdfx/1.3/", "pdfxid": "http://www.npes.org/pdfx/ns/id/",
          "pdf": "http://ns.adobe.com/pdf/1.3/", "x": "adobe:ns:meta/",
          "xmp": "http://ns.adobe.com/xap/1.0/", "xmpMM": "http://ns.adobe.com/xap/1.0/mm/"}


RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _edited_xmp(xmp: bytes, edit: Callable[[ElementTree.Element], None]) -> bytes:
    """`xmp` with its x:xmpmeta element changed by `edit`, the packet around it kept."""
    match = re.search(rb"<x:xmpmeta.*</x:xmpmeta>", xmp, re.S)
    root = ElementTree.fromstring(match[0])
    edit(root)
    for prefix, uri in XMP_NS.items():
        ElementTree.register_namespace(prefix, uri)
    return xmp[:match.start()] + ElementTree.tostring(root, encoding="utf-8",
                                                       xml_declaration=False) + xmp[match.end():]


def pdfx_xmp(xmp: bytes) -> bytes:
    """WeasyPrint's XMP with pdfxid:GTS_PDFXVersion and pdf:Trapped as the info dictionary has
    them, and without the pdfx: version and conformance keys of PDF/X-1a and X-3."""
    def edit(root: ElementTree.Element) -> None:
        for description in root.iter(f"{{{RDF}}}Description"):
            for key in ("GTS_PDFXVersion", "GTS_PDFXConformance"):
                for old in description.findall(f"pdfx:{key}", XMP_NS):
                    description.remove(old)
        versions = [e.text for e in root.iter(f"{{{XMP_NS['pdfxid']}}}GTS_PDFXVersion")]
        trapped = [e.text for e in root.iter(f"{{{XMP_NS['pdf']}}}Trapped")]
        if versions != [PDFX_VERSION] or trapped != ["False"]:
            raise BuildError(f"WeasyPrint's XMP says PDF/X version {versions}, trapped "
                             f"{trapped}: the finishing pass expects one PDF/X-4, untrapped")

    return _edited_xmp(xmp, edit)


def keywords_xmp(xmp: bytes, keywords: str) -> bytes:
    """`xmp` with pdf:Keywords, as WeasyPrint writes it for a document with keywords."""
    def edit(root: ElementTree.Element) -> None:
        description = ElementTree.SubElement(root.find(f"{{{RDF}}}RDF"),
                                             f"{{{RDF}}}Description", {f"{{{RDF}}}about": ""})
        ElementTree.SubElement(description, f"{{{XMP_NS['pdf']}}}Keywords").text = keywords

    return _edited_xmp(xmp, edit)


def convert_rgb_images(writer: PdfWriter, profile: Path) -> None:
    """Separate each RGB picture (sRGB: `pictures.in_srgb`) into the output profile's CMYK,
    perceptual, as a prepress would: a PDF/X-4 with a CMYK intent must hold no device RGB. A
    picture's transparency (its soft mask) is kept; a grey one stays grey."""
    from PIL import ImageCms

    transform = None
    done: set[int] = set()
    for page in writer.pages:
        for image in page.images:
            colour = image.indirect_reference
            if colour is None or colour.idnum in done:
                continue
            done.add(colour.idnum)
            if image.image.mode not in ("RGB", "RGBA", "P"):
                continue
            transform = transform or _separation(profile)
            kept = {name: value for name, value in colour.get_object().items()
                    if name in ("/SMask", "/Interpolate")}
            image.replace(ImageCms.applyTransform(image.image.convert("RGB"), transform),
                          quality=92)
            colour.get_object().update(kept)
