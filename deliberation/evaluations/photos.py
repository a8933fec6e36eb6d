"""Evidence photos: checked by content, re-encoded without metadata, stored under random names."""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from deliberation.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 5 MB file that decodes to more is a decompression bomb
MAX_SIDE = 2560  # larger photos are scaled down: evidence needs to be legible, not print quality
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _refuse(message) -> DomainError:
    return DomainError(message, field="photo", status_code=422)


def clean_image(data: bytes) -> CleanImage:
    """Decode the upload (JPEG, PNG or WebP by content, whatever its name), re-encode it without EXIF,
    GPS or ICC metadata, with the camera's orientation applied."""
    if not data:
        raise _refuse(_l("Choose a photo."))
    if len(data) > MAX_BYTES:
        raise _refuse(_l("The photo is larger than 5 MB. Choose a smaller one."))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                if image_format not in FORMATS:
                    raise _refuse(_l("Only JPEG, PNG and WebP photos are accepted."))
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse(_l("The photo has too many pixels."))
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as error:
        raise _refuse(_l("This file is not a readable JPEG, PNG or WebP photo.")) from error

    image.thumbnail((MAX_SIDE, MAX_SIDE))
    image.info = {}  # some encoders fall back to the decoded file's EXIF, ICC profile or text chunks
    content_type, extension = FORMATS[image_format]
    out = io.BytesIO()
    if image_format == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=85, optimize=True)
    elif image_format == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA")
        image.save(out, "WEBP", quality=85)
    return CleanImage(out.getvalue(), content_type, extension, image.width, image.height)


def store(clean: CleanImage, upload_dir: Path) -> str:
    """Write the cleaned photo under a random name and return the name."""
    upload_dir.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{clean.extension}"
    (upload_dir / name).write_bytes(clean.data)
    return name
