"""Checking an uploaded image from its bytes: never trust the client's filename or type."""

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

# Pillow format name -> (the content type we serve it with, the file extension we store).
ACCEPTED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


class NotAnAcceptedImage(Exception):
    """The bytes are not a JPEG, PNG or WebP image (whatever the client called them)."""


class InvalidImage(Exception):
    """An accepted format, but broken or of unacceptable dimensions."""


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    extension: str
    width: int
    height: int


def inspect_image(data: bytes, *, min_side: int, max_side: int) -> ImageInfo:
    """Identifies the image from its content (magic bytes and header), checks its size
    in pixels, and verifies the file is intact. CPU work: run it in a thread."""
    try:
        with warnings.catch_warnings():
            # A huge pixel count is refused below by its dimensions, before any decoding;
            # Pillow's "decompression bomb" warning would only be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                image_format, (width, height) = image.format, image.size
                if image_format not in ACCEPTED_FORMATS:
                    raise NotAnAcceptedImage(f"{image_format} images are not accepted")
                if not (min_side <= width <= max_side and min_side <= height <= max_side):
                    raise InvalidImage(
                        f"the image is {width}x{height} pixels; each side must be between "
                        f"{min_side} and {max_side}"
                    )
                image.verify()  # checks the structure (and PNG checksums) without decoding
    except UnidentifiedImageError as exc:
        raise NotAnAcceptedImage("the file is not an image") from exc
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("the image is damaged or cannot be read") from exc
    content_type, extension = ACCEPTED_FORMATS[image_format]
    return ImageInfo(content_type, extension, width, height)
