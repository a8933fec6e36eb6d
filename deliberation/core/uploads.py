"""Image uploads: checked by content, size-capped, re-encoded without metadata, stored under random names.

Only JPEG, PNG and WebP are accepted, whatever the file is called. Re-encoding drops EXIF (which
can hold a phone's GPS position), ICC profiles and anything hidden after the image data; the image
is turned upright first and shrunk to at most MAX_SIDE pixels on its longer side. Every area that
takes photos (proposals, progress updates, evaluation evidence) goes through clean_image.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, current_app, g, has_app_context, send_from_directory
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import event
from sqlalchemy.orm import Session

from deliberation.core.errors import DomainError

MAX_BYTES = 5 * 1024 * 1024
# Checked from the header, before decoding: a 36-megapixel PNG of a few kilobytes costs seconds of CPU.
# 24 megapixels takes a 6000 × 4000 camera photo; phones save 12.
MAX_PIXELS = 24_000_000
MAX_SIDE = 2560  # larger photos are scaled down: evidence needs to be legible, not print quality
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def _refuse(message, field: str) -> DomainError:
    return DomainError(message, field=field, status_code=422)


def _too_many_pixels(field: str) -> DomainError:
    return _refuse(_l("The photo has too many pixels: at most %(megapixels)s megapixels are accepted. Choose a "
                      "smaller photo or reduce its size.", megapixels=MAX_PIXELS // 1_000_000), field)


def clean_image(data: bytes, *, field: str = "photos") -> CleanImage:
    """Decode the upload (JPEG, PNG or WebP by content, whatever its name), re-encode it without EXIF,
    GPS or ICC metadata, with the camera's orientation applied."""
    if not data:
        raise _refuse(_l("Choose a photo."), field)
    if len(data) > MAX_BYTES:
        raise _refuse(_l("The photo is larger than 5 MB. Choose a smaller one."), field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                if image_format not in FORMATS:
                    raise _refuse(_l("Only JPEG, PNG and WebP photos are accepted."), field)
                # Image.open read only the header: nothing has been decoded yet.
                if probe.width * probe.height > MAX_PIXELS:
                    raise _too_many_pixels(field)
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image)
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:  # raised by the header
        raise _too_many_pixels(field) from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise _refuse(_l("This file is not a readable JPEG, PNG or WebP photo."), field) from error

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


def store_clean(clean: CleanImage, folder: Path) -> str:
    """Write a cleaned image under a random name in `folder` and return the name.
    The file is deleted again if the transaction that should reference it does not commit."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_urlsafe(18)}.{clean.extension}"
    (folder / name).write_bytes(clean.data)
    if has_app_context():
        _files()["written"].append(folder / name)
    return name


def store_image(data: bytes, *, field: str = "photos") -> StoredImage:
    """Check, clean and save one public image; return where it went."""
    clean = clean_image(data, field=field)
    return StoredImage(store_clean(clean, upload_dir()), clean.width, clean.height, len(clean.data))


def delete_after_commit(filename: str) -> None:
    """Delete a stored photo once the transaction that removed its row commits (not before:
    if that transaction fails, the photo is still shown)."""
    _files()["discarded"].append(upload_dir() / Path(filename).name)


# Files follow the database transaction. A photo is written before the row naming it is committed:
# when the request fails instead (a later photo refused, a rule broken), nothing else would ever
# delete it. Files written in an app context are kept once the session commits and deleted when
# the context ends without a commit; files discarded are deleted once the deletion commits.

def _files() -> dict[str, list[Path]]:
    return g.setdefault("_upload_files", {"written": [], "discarded": []})


@event.listens_for(Session, "after_commit")
def _files_committed(session: Session) -> None:
    files = g.get("_upload_files") if has_app_context() else None
    if files:
        files["written"].clear()
        for path in files["discarded"]:
            path.unlink(missing_ok=True)
        files["discarded"].clear()


def remove_uncommitted_files(_error: BaseException | None = None) -> None:
    """Teardown of every app context: delete the files whose rows were never committed."""
    for path in g.pop("_upload_files", {}).get("written", []):
        path.unlink(missing_ok=True)


bp = Blueprint("uploads", __name__)
bp.record_once(lambda state: state.app.teardown_appcontext(remove_uncommitted_files))


@bp.get("/uploads/<name>")
def serve(name: str):
    """Serve a stored photo; names are random, so they cannot be guessed."""
    return send_from_directory(upload_dir(), name, max_age=60 * 60 * 24 * 30)
