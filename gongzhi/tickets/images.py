"""Cleaning a resident's photo before it is stored.

The file is judged by its content, never by its name or the browser's content type: Pillow must
recognise it as one of the allowed formats and verify it. Then it is decoded once (refusing
decompression bombs), turned upright by its EXIF orientation, shrunk to at most MAX_SIDE pixels
and re-encoded as a fresh JPEG, which carries no metadata at all: no GPS position, no camera
serial, no comment.
"""

from __future__ import annotations

import io
import uuid
import warnings
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from gongzhi.core.errors import ValidationFailed

MAX_PHOTO_BYTES = 10 * 1024 * 1024
# Pixels we agree to decode: 50 megapixels is more than any phone camera takes; a small file that
# claims more (a decompression bomb) is refused before decoding.
MAX_PIXELS = 50_000_000
MAX_SIDE = 1600
JPEG_QUALITY = 82
BASE_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})


def allowed_formats() -> frozenset[str]:
    """JPEG, PNG and WebP; HEIC/HEIF (iPhones) too when a HEIF plugin (pillow-heif) is installed."""
    registered = set(Image.OPEN)
    return BASE_FORMATS | ({"HEIF"} & registered)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_photo", extra={"fields": {"photos": message}})


def _read(uploaded: Any) -> bytes:
    size = getattr(uploaded, "size", None)
    if size is not None and size > MAX_PHOTO_BYTES:
        raise _refuse(
            _("This photo is too large. Choose a photo under %(mb)d MB.") % {"mb": MAX_PHOTO_BYTES // 2**20}
        )
    if hasattr(uploaded, "seek"):
        uploaded.seek(0)
    source: IO[bytes] = uploaded
    data = source.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:
        raise _refuse(
            _("This photo is too large. Choose a photo under %(mb)d MB.") % {"mb": MAX_PHOTO_BYTES // 2**20}
        )
    if not data:
        raise _refuse(_("This file is empty. Choose a photo."))
    return data


def _open(data: bytes, formats: frozenset[str]) -> Image.Image:
    """Open and verify the image, refusing other formats and bombs; returns it decoded."""
    not_a_photo = _refuse(_("This file is not a photo. Choose a JPEG, PNG or WebP picture."))
    with warnings.catch_warnings():
        # Pillow warns (and beyond twice its limit raises) on huge images: both are refusals here.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=sorted(formats)) as probe:
                width, height = probe.size
                if width * height > MAX_PIXELS:
                    raise _refuse(_("This picture is too big to handle. Choose a normal photo."))
                probe.verify()
            # verify() leaves the image unusable: open again to decode.
            image = Image.open(io.BytesIO(data), formats=sorted(formats))
            image.load()
        except ValidationFailed:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _refuse(_("This picture is too big to handle. Choose a normal photo.")) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
            raise not_a_photo from None
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with transparency painted on white (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def clean_photo(uploaded: Any) -> File[bytes]:
    """A safe JPEG of the uploaded photo (upright, ≤ MAX_SIDE px, no metadata) with a random name.

    Raises ValidationFailed (field "photos") for files too large, not images, not an allowed
    format, or decompression bombs.
    """
    data = _read(uploaded)
    image = _open(data, allowed_formats())
    try:
        upright = ImageOps.exif_transpose(image) or image
        flat = _flatten(upright)
        flat.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        # A brand-new image: nothing of the original's info (EXIF, XMP, ICC, comments) comes along.
        clean = Image.new("RGB", flat.size)
        clean.paste(flat)
        output = io.BytesIO()
        clean.save(output, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    finally:
        image.close()
    return ContentFile(output.getvalue(), name=f"{uuid.uuid4().hex}.jpg")
