"""Photos are judged by content, shrunk, turned upright and stripped of every piece of metadata."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import ExifTags, Image

from gongzhi.core.errors import ValidationFailed
from gongzhi.tickets import images
from gongzhi.tickets.images import MAX_PHOTO_BYTES, MAX_SIDE, clean_photo


def _jpeg_with_gps(size: tuple[int, int] = (2400, 1800), orientation: int = 1) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (35.0, 33.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 49.0, 30.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif, comment=b"secret comment")
    return buffer.getvalue()


def _upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def _reopen(cleaned: object) -> Image.Image:
    cleaned.seek(0)  # type: ignore[attr-defined]
    return Image.open(io.BytesIO(cleaned.read()))  # type: ignore[attr-defined]


def test_it_strips_gps_and_all_metadata_and_shrinks_to_1600_px() -> None:
    original = Image.open(io.BytesIO(_jpeg_with_gps()))
    assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test image really has a location

    cleaned = clean_photo(_upload(_jpeg_with_gps()))

    result = _reopen(cleaned)
    assert result.format == "JPEG"
    assert max(result.size) == MAX_SIDE
    assert result.size == (1600, 1200)
    assert len(result.getexif()) == 0
    assert "exif" not in result.info
    assert "comment" not in result.info
    cleaned.seek(0)
    raw = cleaned.read()
    assert b"PhoneMaker" not in raw and b"secret comment" not in raw
    assert cleaned.name.endswith(".jpg")
    assert cleaned.name != "photo.jpg" and len(cleaned.name) == 36


def test_it_applies_the_exif_orientation() -> None:
    # Orientation 6: the camera was turned; the stored 300×200 picture is shown 200×300.
    cleaned = clean_photo(_upload(_jpeg_with_gps(size=(300, 200), orientation=6)))

    assert _reopen(cleaned).size == (200, 300)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_it_accepts_png_and_webp_and_re_encodes_them_as_jpeg(fmt: str) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (120, 80), (0, 128, 0, 128)).save(buffer, format=fmt)

    cleaned = clean_photo(_upload(buffer.getvalue(), name=f"x.{fmt.lower()}"))

    result = _reopen(cleaned)
    assert result.format == "JPEG" and result.mode == "RGB" and result.size == (120, 80)


def test_a_small_photo_is_not_enlarged() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "white").save(buffer, format="JPEG")

    assert _reopen(clean_photo(_upload(buffer.getvalue()))).size == (640, 480)


def test_a_text_file_named_jpg_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        clean_photo(_upload(b"<script>alert(1)</script> not a picture at all", name="cat.jpg"))

    assert "photos" in refused.value.extra["fields"]


def test_a_truncated_jpeg_is_refused() -> None:
    data = _jpeg_with_gps(size=(400, 300))

    with pytest.raises(ValidationFailed):
        clean_photo(_upload(data[: len(data) // 3]))


def test_other_image_formats_are_refused_even_with_a_jpg_name() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, format="GIF")

    with pytest.raises(ValidationFailed):
        clean_photo(_upload(buffer.getvalue(), name="photo.jpg"))


def test_an_oversized_file_is_refused_before_it_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(images, "_open", never)
    upload = _upload(b"\xff\xd8\xff" + b"0" * MAX_PHOTO_BYTES)

    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        clean_photo(upload)

    assert "too large" in str(refused.value.message)


def test_a_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # A tiny PNG that claims a huge canvas: refused from its header, before any decoding.
    monkeypatch.setattr(images, "MAX_PIXELS", 10_000)
    buffer = io.BytesIO()
    Image.new("L", (1000, 1000), 0).save(buffer, format="PNG", optimize=True)
    assert len(buffer.getvalue()) < 10_000

    with translation.override("en"), pytest.raises(ValidationFailed) as refused:
        clean_photo(_upload(buffer.getvalue(), name="bomb.png"))

    assert "too big" in str(refused.value.message)


def test_heif_is_allowed_only_when_a_plugin_is_installed() -> None:
    assert images.allowed_formats() >= {"JPEG", "PNG", "WEBP"}
    assert ("HEIF" in images.allowed_formats()) == ("HEIF" in Image.OPEN)


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(min_value=1, max_value=3200),
    height=st.integers(min_value=1, max_value=3200),
    orientation=st.sampled_from([1, 3, 6, 8]),
)
def test_any_photo_comes_out_a_jpeg_within_1600_px_with_its_shape(
    width: int, height: int, orientation: int
) -> None:
    cleaned = _reopen(clean_photo(_upload(_jpeg_with_gps(size=(width, height), orientation=orientation))))

    expected_w, expected_h = (height, width) if orientation in (6, 8) else (width, height)
    assert cleaned.format == "JPEG" and len(cleaned.getexif()) == 0
    assert max(cleaned.size) <= MAX_SIDE
    if max(expected_w, expected_h) <= MAX_SIDE:
        assert cleaned.size == (expected_w, expected_h)
    else:
        width_out, height_out = cleaned.size
        assert max(cleaned.size) == MAX_SIDE
        # The same shape, up to rounding each side to whole pixels.
        assert abs(width_out * expected_h - height_out * expected_w) <= expected_w + expected_h
