"""The press PDF against ISO 15930-7 (PDF/X-4), read from the built files: the sample and a
formal periodical with RGB pictures (tests/roots/press-periodical)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from publisher.errors import BuildError
from publisher.output import GHOSTSCRIPT_CMYK
from tests.conftest import ROOTS

PERIODICAL = ROOTS / "press-periodical"
XMP = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
       "pdfxid": "http://www.npes.org/pdfx/ns/id/", "pdfx": "http://ns.adobe.com/pdfx/1.3/",
       "pdf": "http://ns.adobe.com/pdf/1.3/", "dc": "http://purl.org/dc/elements/1.1/"}


@pytest.fixture(params=["sample_press_pdf", "periodical_press_pdf"])
def press_pdf(request) -> Path:
    return request.getfixturevalue(request.param)


def objects(reader: PdfReader):
    """Every object of the file, resolved."""
    for number in range(1, reader.trailer["/Size"]):
        try:
            yield reader.get_object(IndirectObject(number, 0, reader))
        except Exception:  # a free entry of the cross-reference table
            continue


def test_the_header_says_pdf_1_6_the_version_pdf_x_4_is_built_on(press_pdf):
    assert press_pdf.read_bytes()[:9] == b"%PDF-1.6\n"
    assert PdfReader(press_pdf).pdf_header == "%PDF-1.6"


def test_info_and_xmp_agree_on_pdf_x_4_untrapped(press_pdf):
    from xml.etree import ElementTree

    reader = PdfReader(press_pdf)
    info = reader.metadata
    assert info["/GTS_PDFXVersion"] == "PDF/X-4"
    assert info["/Trapped"] == "/False"
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert xmp.startswith(b"<?xpacket begin=") and b"<x:xmpmeta" in xmp
    root = ElementTree.fromstring(re.search(rb"<x:xmpmeta.*</x:xmpmeta>", xmp, re.S)[0])
    assert [e.text for e in root.iter(f"{{{XMP['pdfxid']}}}GTS_PDFXVersion")] == ["PDF/X-4"]
    assert [e.text for e in root.iter(f"{{{XMP['pdf']}}}Trapped")] == ["False"]
    # PDF/X-1a's and X-3's keys have no place in an X-4.
    assert not list(root.iter(f"{{{XMP['pdfx']}}}GTS_PDFXConformance"))
    title = root.find(".//dc:title/rdf:Alt/rdf:li", XMP)
    assert title.text == info["/Title"]
    assert [e.text for e in root.iter(f"{{{XMP['pdf']}}}Keywords")] == [info["/Keywords"]]
    assert root.find(f".//*[@{{{XMP['pdf']}}}Producer]") is not None


def test_every_page_has_its_trim_and_bleed_boxes_inside_the_media_box(press_pdf):
    for page in PdfReader(press_pdf).pages:
        assert "/TrimBox" in page and "/BleedBox" in page  # set, not inherited defaults
        trim, bleed, media = page.trimbox, page.bleedbox, page.mediabox
        assert float(bleed.left) < float(trim.left) and float(bleed.top) > float(trim.top)
        assert float(media.left) <= float(bleed.left) and float(media.top) >= float(bleed.top)


def test_every_font_is_embedded(press_pdf):
    fonts = [o for o in objects(PdfReader(press_pdf))
             if isinstance(o, DictionaryObject) and o.get("/Type") == "/FontDescriptor"]
    assert fonts
    for descriptor in fonts:
        assert any(key.startswith("/FontFile") for key in descriptor), descriptor["/FontName"]


def colour_spaces(reader: PdfReader):
    """Every colour space named anywhere: resources, pictures, transparency groups, shadings."""
    for obj in objects(reader):
        if not isinstance(obj, DictionaryObject):
            continue
        for key in ("/ColorSpace", "/CS"):
            value = obj.get(key)
            if isinstance(value, DictionaryObject):  # a resource dictionary of named spaces
                yield from (v.get_object() for v in value.values())
            elif value is not None:
                yield value.get_object()


def device_dependent_rgb(space) -> bool:
    if isinstance(space, NameObject):
        return space in ("/DeviceRGB", "/RGB", "/CalRGB")
    if isinstance(space, ArrayObject):
        family = space[0]
        if family == "/ICCBased":
            return space[1].get_object()["/N"] == 3
        if family == "/Indexed":
            return device_dependent_rgb(space[1].get_object())
        return family == "/CalRGB"
    return False


def test_no_rgb_outside_the_cmyk_output_intent(press_pdf):
    reader = PdfReader(press_pdf)
    spaces = list(colour_spaces(reader))
    assert spaces
    assert not [s for s in spaces if device_dependent_rgb(s)]
    contents = [page.get_contents().get_data() for page in reader.pages]
    contents += [o.get_data() for o in objects(reader)
                 if isinstance(o, StreamObject) and o.get("/Subtype") == "/Form"]
    for data in contents:
        assert not re.search(rb"(^|\s)(rg|RG)\s", data)


def pictures(reader: PdfReader) -> list[StreamObject]:
    """The file's pictures, not counting their soft masks (their transparency)."""
    images = [o for o in objects(reader)
              if isinstance(o, StreamObject) and o.get("/Subtype") == "/Image"]
    masks = {id(o["/SMask"].get_object()) for o in images if "/SMask" in o}
    return [o for o in images if id(o) not in masks]


def test_the_periodicals_rgb_pictures_are_separated_into_cmyk(periodical_press_pdf):
    coloured = [p for p in pictures(PdfReader(periodical_press_pdf))
                if "/SMask" not in p and p["/Width"] > 100]
    assert coloured
    assert all(p["/ColorSpace"] == "/DeviceCMYK" for p in coloured)


def test_a_pictures_transparency_is_kept_and_a_grey_picture_stays_grey(periodical_press_pdf):
    """cutout.png (RGB on a transparent ground) and grey-mark.png (grey, transparent)."""
    masked = [p for p in pictures(PdfReader(periodical_press_pdf)) if "/SMask" in p]
    assert sorted(p["/ColorSpace"] for p in masked) == ["/DeviceCMYK", "/DeviceGray"]


def test_a_picture_is_separated_as_its_own_profile_reads_it(periodical_press_pdf):
    """tan-a98.jpg and tan-srgb.jpg hold the same numbers, one tagged Adobe RGB (1998): the
    same numbers are different colours, and print so."""
    from io import BytesIO

    from PIL import Image

    small = [p for p in pictures(PdfReader(periodical_press_pdf))
             if "/SMask" not in p and p["/Width"] == 240]
    colours = {Image.open(BytesIO(p.get_data())).getpixel((120, 80)) for p in small}
    assert len(small) == len(colours) == 2


def output_intent(path: Path) -> DictionaryObject:
    (intent,) = PdfReader(path).trailer["/Root"]["/OutputIntents"]
    return intent.get_object()


def test_without_a_printers_profile_the_intent_is_ghostscripts_named_as_such(sample_press_pdf):
    intent = output_intent(sample_press_pdf)
    assert intent["/S"] == "/GTS_PDFX"
    assert intent["/OutputConditionIdentifier"] == "Custom"
    assert "Artifex CMYK SWOP" in intent["/Info"] and "no printer's own profile" in intent["/Info"]
    assert intent["/DestOutputProfile"].get_object().get_data() == GHOSTSCRIPT_CMYK.read_bytes()


def icc_references(reader: PdfReader) -> list[IndirectObject]:
    """Every reference to an ICC profile: /ICCBased colour spaces and output intents, wherever
    they are held."""
    found = []

    def walk(value) -> None:
        if isinstance(value, ArrayObject):
            if len(value) > 1 and value[0] == "/ICCBased":
                found.append(value[1])
            for item in value:
                walk(item)
        elif isinstance(value, DictionaryObject):
            if "/DestOutputProfile" in value:
                found.append(value.raw_get("/DestOutputProfile"))
            for item in value.values():
                walk(item)

    for obj in objects(reader):
        walk(obj)
    return found


def test_the_output_profile_is_embedded_once(press_pdf):
    """Each section is a PDF/X of its own, with the profile in its output intent and again as
    its /device-cmyk colour space: composed, every reference to the profile is to the output
    intent's stream, the file holds no other copy (the sample's press file held 22, 4.9 MB
    where the print file is 1.8 MB)."""
    reader = PdfReader(press_pdf)
    (intent,) = reader.trailer["/Root"]["/OutputIntents"]
    profile = intent.get_object().raw_get("/DestOutputProfile")
    data = profile.get_object().get_data()
    references = icc_references(reader)
    assert len(references) > 2  # the intent, and each section's /device-cmyk
    assert {ref.idnum for ref in references} == {profile.idnum}
    assert [o for o in objects(reader) if isinstance(o, StreamObject) and "/N" in o
            and o.get_data() == data] == [profile.get_object()]
    assert press_pdf.read_bytes().count(profile.get_object()._data) == 1


def printer_issue(tmp_path: Path, profile: Path) -> Path:
    """The periodical, with `profile` standing in for the printer's ICC file."""
    issue = tmp_path / "issue"
    shutil.copytree(PERIODICAL, issue)
    shutil.copy(profile, issue / "printer.icc")
    manifest = issue / "issue.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + (
        "press:\n  profile: printer.icc\n  condition: JC200103\n"
        "  info: Japan Color 2001 Coated\n  registry: http://www.color.org\n"),
        encoding="utf-8")
    return issue


def test_the_printers_profile_and_condition_from_issue_yaml(tmp_path):
    from publisher.context import resolve
    from publisher.pdf import write_pdf
    from publisher.source.load import load_issue

    issue = printer_issue(tmp_path, GHOSTSCRIPT_CMYK)
    target = tmp_path / "press.pdf"
    write_pdf(resolve(load_issue(issue)), target, press=True)
    intent = output_intent(target)
    assert intent["/OutputConditionIdentifier"] == "JC200103"
    assert intent["/Info"] == "Japan Color 2001 Coated"
    assert intent["/RegistryName"] == "http://www.color.org"
    assert (intent["/DestOutputProfile"].get_object().get_data()
            == (issue / "printer.icc").read_bytes())


def test_a_profile_that_is_not_cmyk_is_refused(tmp_path):
    from publisher.pdf.pages import output_intent as intent_of
    from publisher.source.load import load_issue

    issue = printer_issue(tmp_path, GHOSTSCRIPT_CMYK.with_name("default_rgb.icc"))
    with pytest.raises(BuildError, match="is not a CMYK output profile"):
        intent_of(load_issue(issue))


def test_a_profile_littlecms_cannot_separate_with_is_one_line(tmp_path):
    from publisher.pdf.pages import output_intent as intent_of
    from publisher.source.load import load_issue

    issue = printer_issue(tmp_path, GHOSTSCRIPT_CMYK.with_name("ps_cmyk.icc"))
    with pytest.raises(BuildError, match="LittleCMS cannot separate pictures with this profile"):
        intent_of(load_issue(issue))


def test_the_periodicals_press_pdf_is_the_same_bytes_built_elsewhere(periodical_press_pdf,
                                                                     tmp_path, monkeypatch):
    """Built again from a copy in another folder, with its own cache: WeasyPrint would name
    each picture after its file's path."""
    from publisher.build import build

    copy = tmp_path / "elsewhere" / "deeper" / "issue"
    shutil.copytree(PERIODICAL, copy)
    monkeypatch.setenv("PUBLISHER_CACHE", str(tmp_path / "cache"))
    (again,) = build(copy, tmp_path / "out", pdf=True, epub=False, press=True)
    assert again.read_bytes() == periodical_press_pdf.read_bytes()
