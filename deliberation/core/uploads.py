"""Image uploads: checked by content, size-capped, re-encoded without metadata, stored under random names.

Only JPEG, PNG and WebP are accepted, whatever the file is called. Re-encoding drops EXIF (which
can hold a phone's GPS position) and anything hidden after the image data; the image is turned
upright first and shrunk to at most MAX_SIDE pixels on its longer side.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, current_app, send_from_directory
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from deliberation.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
MAX_SIDE = 2048
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP"}
# Refuse decompression bombs well before Pillow's own (warning-only) default.
Image.MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class StoredImage:
    filename: str
    width: int
    height: int
    size: int


def upload_dir() -> Path:
    folder = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.config["INSTANCE_DIR"]) / "uploads")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check_image(data: bytes, *, field: str = "photos") -> Image.Image:
    """Open and fully decode an uploaded image, or raise DomainError saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise DomainError(_l("Each photo may be at most 5 MB."), field=field, status_code=422)
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ACCEPTED_FORMATS:
            raise DomainError(_l("Photos must be JPEG, PNG or WebP images."), field=field, status_code=422)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DomainError(_l("This file is not a picture we can read. Choose a JPEG, PNG or WebP photo."),
                          field=field, status_code=422) from error
    return image


def store_image(data: bytes, *, field: str = "photos") -> StoredImage:
    """Check, clean and save one image; return where it went."""
    image = ImageOps.exif_transpose(check_image(data, field=field))
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info)
    out = io.BytesIO()
    if has_alpha:
        image.convert("RGBA").save(out, format="PNG", optimize=True)
        extension = "png"
    else:
        image.convert("RGB").save(out, format="JPEG", quality=85, optimize=True)
        extension = "jpg"
    filename = f"{secrets.token_urlsafe(18)}.{extension}"
    (upload_dir() / filename).write_bytes(out.getvalue())
    return StoredImage(filename, image.width, image.height, out.tell())


def delete_stored(filename: str) -> None:
    """Remove a stored file (used when the transaction that referenced it fails)."""
    (upload_dir() / Path(filename).name).unlink(missing_ok=True)


bp = Blueprint("uploads", __name__)


@bp.get("/uploads/<name>")
def serve(name: str):
    """Serve a stored photo; names are random, so they cannot be guessed."""
    return send_from_directory(upload_dir(), name, max_age=60 * 60 * 24 * 30)
