"""Pictures as the PDF holds them: in sRGB. WeasyPrint writes a picture's pixels as device RGB
and drops the ICC profile it carries, so an Adobe RGB photograph would print, and show, as if
its numbers were sRGB; it is converted to sRGB with its own profile before WeasyPrint reads it."""

from __future__ import annotations

import io

from PIL import Image, ImageCms


def in_srgb(data: bytes, kind: str) -> bytes:
    """`data`, a picture of `kind` (JPEG, PNG), with an RGB profile of its own converted to
    sRGB (perceptual, transparency kept) and saved again without it; else `data` unchanged."""
    with Image.open(io.BytesIO(data), formats=[kind]) as picture:
        carried = picture.info.get("icc_profile")
        if not carried or picture.mode not in ("RGB", "RGBA"):
            return data
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(carried))
            if source.profile.xcolor_space.strip() != "RGB":
                return data
            converted = ImageCms.profileToProfile(picture.convert("RGB"), source,
                                                  ImageCms.createProfile("sRGB"),
                                                  ImageCms.Intent.PERCEPTUAL)
        except (OSError, ImageCms.PyCMSError):
            return data  # a damaged profile: its numbers are read as sRGB, as browsers do
        if picture.mode == "RGBA":
            converted.putalpha(picture.getchannel("A"))
        converted.info.pop("icc_profile", None)
        out = io.BytesIO()
        converted.save(out, kind, **({"quality": 95} if kind == "JPEG" else {}))
        return out.getvalue()
