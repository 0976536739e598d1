"""Uploaded images are judged by their bytes: format, size in pixels, integrity."""

import io

import pytest
from PIL import Image

from roadmap_shared.storage.images import (
    ImageInfo,
    InvalidImage,
    NotAnAcceptedImage,
    inspect_image,
)

LIMITS = {"min_side": 64, "max_side": 4096}


def image_bytes(image_format: str = "PNG", size: tuple[int, int] = (200, 100)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color=(200, 30, 60)).save(buffer, format=image_format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("image_format", "expected"),
    [
        ("PNG", ImageInfo("image/png", "png", 200, 100)),
        ("JPEG", ImageInfo("image/jpeg", "jpg", 200, 100)),
        ("WEBP", ImageInfo("image/webp", "webp", 200, 100)),
    ],
)
def test_accepted_formats_are_recognised_from_their_bytes(
    image_format: str, expected: ImageInfo
) -> None:
    assert inspect_image(image_bytes(image_format), **LIMITS) == expected


@pytest.mark.parametrize("data", [image_bytes("GIF"), b"<script>alert(1)</script>"])
def test_other_formats_and_non_images_are_not_accepted(data: bytes) -> None:
    with pytest.raises(NotAnAcceptedImage):
        inspect_image(data, **LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(image_bytes(size=(63, 100)), id="too-small"),
        pytest.param(image_bytes(size=(4097, 100)), id="too-large"),
        pytest.param(image_bytes()[:-40], id="cut-short"),
    ],
)
def test_images_of_the_wrong_size_or_damaged_are_invalid(data: bytes) -> None:
    with pytest.raises(InvalidImage):
        inspect_image(data, **LIMITS)
