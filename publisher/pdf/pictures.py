"""Pictures as the PDF holds them: in sRGB. WeasyPrint writes a picture's pixels as device RGB
and drops the ICC profile it carries, so an Adobe RGB or Display P3 photograph would print, and
show, as if its numbers were sRGB; it is converted to sRGB with its own profile before
WeasyPrint reads it (`weasyprint/pictures.py`)."""

from __future__ import annotations

import io
from functools import lru_cache

from PIL import Image, ImageCms, ImageOps

from publisher.source.load import IMAGE_TYPES

# What a converted picture is saved as again: JPEG (a photograph) or PNG (lossless), the
# formats whose decoders keep the profile; the others are left as they are.
SAVED = {"JPEG": {"quality": 95}, "PNG": {}}


def picture_problem(data: bytes, kind: str | None) -> str | None:
    """Why `data` is not the picture its file's name says (`kind`, as Pillow names it), or
    None. Only that decoder is tried: Pillow would pick one from the contents, and hand
    PostScript to Ghostscript."""
    if kind is None:
        return f"not a picture a build reads ({', '.join(sorted(IMAGE_TYPES))})"
    try:
        Image.open(io.BytesIO(data), formats=[kind]).close()
    except Image.DecompressionBombError:
        return "has too many pixels to decode safely: scale it down"
    except (OSError, SyntaxError, ValueError):
        return f"not a {kind} picture that can be read: export it as one"
    return None


@lru_cache(maxsize=8)  # each section, and each retry of a layout, fetches its pictures again
def in_srgb(data: bytes, kind: str) -> bytes:
    """`data`, a picture of `kind`, with an RGB profile of its own other than sRGB converted
    to sRGB (perceptual, transparency kept, turned as its EXIF says) and saved again without
    it; else `data` unchanged, as when it is no picture of its kind (WeasyPrint then says so)."""
    try:
        picture = Image.open(io.BytesIO(data), formats=[kind])
    except (OSError, SyntaxError, ValueError):
        return data
    with picture:
        carried = picture.info.get("icc_profile")
        if not carried or kind not in SAVED or picture.mode not in ("RGB", "RGBA"):
            return data
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(carried))
            if (source.profile.xcolor_space.strip() != "RGB"
                    or "sRGB" in ImageCms.getProfileDescription(source)):
                return data
            # Saved again, the picture loses the EXIF orientation WeasyPrint would turn it by.
            upright = ImageOps.exif_transpose(picture)
            converted = ImageCms.profileToProfile(upright.convert("RGB"), source,
                                                  ImageCms.createProfile("sRGB"),
                                                  ImageCms.Intent.PERCEPTUAL)
        except (OSError, SyntaxError, ValueError, ImageCms.PyCMSError):
            return data  # a damaged picture or profile: its numbers are read as sRGB
        if upright.mode == "RGBA":
            converted.putalpha(upright.getchannel("A"))
        converted.info.pop("icc_profile", None)
        out = io.BytesIO()
        converted.save(out, kind, **SAVED[kind])
        return out.getvalue()


@lru_cache(maxsize=8)
def in_eight_bits(data: bytes, kind: str) -> bytes:
    """`data`, a picture of `kind`, with 16-bit grey samples (a PNG's, which Pillow opens as
    mode I;16) scaled to 8 bits and saved again as PNG (turned as its EXIF says, transparency
    kept); else `data` unchanged. WeasyPrint writes such samples as 8-bit RGB: a picture of
    noise in the PDF, which a press build then could not separate into CMYK."""
    try:
        picture = Image.open(io.BytesIO(data), formats=[kind])
    except (OSError, SyntaxError, ValueError):
        return data
    with picture:
        if not picture.mode.startswith("I"):
            return data
        upright = ImageOps.exif_transpose(picture)
        grey = upright.convert("I").point(lambda sample: sample * (1 / 257) + 0.5).convert("L")
        options = {}
        if isinstance(transparent := upright.info.get("transparency"), int):
            options["transparency"] = round(transparent / 257)
        out = io.BytesIO()
        grey.save(out, "PNG", **options)
        return out.getvalue()
