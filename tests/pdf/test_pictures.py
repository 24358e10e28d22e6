"""Pictures before WeasyPrint reads them (publisher/pdf/pictures.py): converted to sRGB from
the profile they carry, turned as their EXIF says, and left alone otherwise."""

from __future__ import annotations

import io
import shutil

from PIL import Image, ImageCms
from pypdf import PdfReader

from publisher.cli import main
from publisher.output import GHOSTSCRIPT_CMYK
from publisher.pdf.pictures import in_eight_bits, in_srgb
from tests.conftest import ROOTS

ADOBE_RGB = GHOSTSCRIPT_CMYK.with_name("a98.icc").read_bytes()
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
TURNED = 6  # EXIF orientation: turn 90° clockwise to show


def jpeg(profile: bytes | None, orientation: int | None = None) -> bytes:
    picture = Image.new("RGB", (120, 60), (150, 120, 90))
    exif = picture.getexif()
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    carried = {"icc_profile": profile} if profile else {}
    picture.save(out, "JPEG", quality=90, exif=exif, **carried)
    return out.getvalue()


def test_a_picture_in_adobe_rgb_is_converted_and_turned_upright():
    converted = Image.open(io.BytesIO(in_srgb(jpeg(ADOBE_RGB, TURNED), "JPEG")))
    assert converted.size == (60, 120)  # the EXIF turn is applied, not lost
    assert "icc_profile" not in converted.info
    assert converted.getpixel((30, 60)) != Image.open(io.BytesIO(jpeg(None))).getpixel((60, 30))


def test_srgb_untagged_and_unreadable_pictures_are_left_alone():
    for data, kind in ((jpeg(SRGB, TURNED), "JPEG"), (jpeg(None), "JPEG"),
                       (b"\xff\xd8 not a picture", "JPEG"), (jpeg(ADOBE_RGB), "PNG")):
        assert in_srgb(data, kind) == data


def test_a_sixteen_bit_grey_picture_is_printed_in_eight(tmp_path, capsys):
    """WeasyPrint wrote a 16-bit grey PNG's samples as 8-bit RGB: noise in the PDF, and a press
    build ended in a traceback when it came to separate the picture into CMYK."""
    issue = tmp_path / "issue"
    shutil.copytree(ROOTS / "good-minimal", issue)
    Image.new("I;16", (400, 300), 3000).save(issue / "articles" / "images" / "photo.png")
    assert Image.open(io.BytesIO(in_eight_bits(
        (issue / "articles" / "images" / "photo.png").read_bytes(), "PNG"))).getextrema() \
        == (12, 12)  # 3000 of 65535: 12 of 255
    assert in_eight_bits(jpeg(None), "JPEG") == jpeg(None)
    assert main(["build", str(issue), "--pdf", "--press", "-o", str(tmp_path / "out")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    (picture,) = [image for page in PdfReader(tmp_path / "out" / "2015-10-press.pdf").pages
                  for image in page.images if image.image.size == (400, 300)]
    assert picture.image.mode == "L" and picture.image.getextrema() == (12, 12)
