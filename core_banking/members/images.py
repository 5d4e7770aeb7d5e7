"""Photos and ID scans as uploaded from a phone camera or a file: checked, cleaned, re-encoded.

Plain Python over Pillow (no Django). What comes in is never stored as it came: the type is
judged by content (not by name or declared type), the declared pixel count is bounded before
any decoding (a small file can declare a huge image), the camera's orientation is applied,
and the picture is re-encoded as a JPEG without metadata (GPS position, device, owner).
"""

from __future__ import annotations

import enum
import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# A 48-megapixel phone photo is about 8000 x 6000; a decoded RGB copy of the limit takes ~190 MB.
MAX_SOURCE_PIXELS = 64_000_000
MAIN_LONGEST_SIDE = 1600
THUMBNAIL_LONGEST_SIDE = 240
MAIN_QUALITY = 85
THUMBNAIL_QUALITY = 80
# JPEG includes MPO, the multi-picture JPEG some phone cameras write; HEIF only where a Pillow
# plug-in for it is installed.
ACCEPTED_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "HEIF", "AVIF")
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1")


class ImageProblem(enum.StrEnum):
    TOO_LARGE = "too_large"
    TOO_MANY_PIXELS = "too_many_pixels"
    NOT_AN_IMAGE = "not_an_image"
    HEIC_UNSUPPORTED = "heic_unsupported"
    DAMAGED = "damaged"


class ImageRejected(ValueError):
    def __init__(self, problem: ImageProblem, detail: str = "") -> None:
        super().__init__(detail or str(problem))
        self.problem = problem


@dataclass(frozen=True)
class CleanImage:
    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    source_format: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()


def _looks_like_heif(data: bytes) -> bool:
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _open(data: bytes) -> Image.Image:
    Image.init()
    formats = [name for name in ACCEPTED_FORMATS if name in Image.OPEN]
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice that; here it is refused outright.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(ImageProblem.TOO_MANY_PIXELS, str(exc)) from exc
        except UnidentifiedImageError as exc:
            if _looks_like_heif(data):
                raise ImageRejected(ImageProblem.HEIC_UNSUPPORTED) from exc
            raise ImageRejected(ImageProblem.NOT_AN_IMAGE) from exc
        except (OSError, SyntaxError, ValueError) as exc:
            raise ImageRejected(ImageProblem.DAMAGED, str(exc)) from exc  # a known format, but cut short
    if image.width * image.height > MAX_SOURCE_PIXELS:
        raise ImageRejected(ImageProblem.TOO_MANY_PIXELS, f"{image.width}x{image.height}")
    return image


def _as_rgb(image: Image.Image) -> Image.Image:
    """Transparent parts become white (a JPEG has no alpha; black would hide a dark ID card)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _jpeg_bytes(image: Image.Image, longest_side: int, quality: int) -> tuple[bytes, int, int]:
    copy = image.copy()
    copy.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    # No exif=, icc_profile= or comment: the file carries pixels only.
    copy.save(buffer, format="JPEG", quality=quality, optimize=True)
    return buffer.getvalue(), copy.width, copy.height


def clean_image(data: bytes) -> CleanImage:
    """The stored JPEG (longest side ≤ 1600 px) and its thumbnail (≤ 240 px), or ``ImageRejected``."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageRejected(ImageProblem.TOO_LARGE, f"{len(data)} bytes")
    image = _open(data)
    source_format = str(image.format)
    if source_format in ("JPEG", "MPO"):
        # Let the JPEG decoder scale down by 1/2, 1/4 or 1/8 while decoding: far less memory.
        image.draft("RGB", (MAIN_LONGEST_SIDE, MAIN_LONGEST_SIDE))
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
        rgb = _as_rgb(upright)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(ImageProblem.DAMAGED, str(exc)) from exc
    jpeg, width, height = _jpeg_bytes(rgb, MAIN_LONGEST_SIDE, MAIN_QUALITY)
    thumbnail, _width, _height = _jpeg_bytes(rgb, THUMBNAIL_LONGEST_SIDE, THUMBNAIL_QUALITY)
    return CleanImage(jpeg=jpeg, thumbnail=thumbnail, width=width, height=height, source_format=source_format)
