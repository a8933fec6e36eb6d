"""Image uploads: checked by content, size-capped, re-encoded without metadata, stored under random names.

Only JPEG, PNG and WebP are accepted, whatever the file is called. Re-encoding drops EXIF (which
can hold a phone's GPS position), ICC profiles and anything hidden after the image data; the image
is turned upright first and shrunk to at most MAX_SIDE pixels on its longer side. Every area that
takes photos (proposals, progress updates, evaluation evidence) goes through clean_image.

The cleaned images are stored in the database (table stored_files), added to the same transaction
as the rows that name them: a photo exists exactly when its row was committed (no orphan files
when a request fails, no photo lost when one is removed and the removal fails), and every app host
serves every photo, whichever host received it. Names are random and never reused for other
content, so responses carry the name as their ETag and may be cached as immutable. Who may see a file
is decided by the route that serves its area (see the areas below).
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, abort, request
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import DateTime, Index, LargeBinary, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.extensions import db

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


# Areas of stored_files: who may see a file is decided by the route that serves its area.
PUBLIC = "public"      # proposal and progress photos, served to anyone at /uploads/<name>
EVIDENCE = "evidence"  # evaluation evidence, served by the evaluations area to those who may see it
REQUESTS = "requests"  # photos attached to residents' requests, served by the grids area to their handlers
PENDING = "pending"    # photos kept for a form shown again (core/upload_stash.py), never served

PUBLIC_MAX_AGE = 60 * 60 * 24 * 30


class StoredFile(db.Model):
    """One stored image: its bytes, in the database shared by every host."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_area_created_at", "area", "created_at"),)

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    area: Mapped[str] = mapped_column(String(20))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class StoredImage:
    filename: str
    width: int
    height: int
    size: int


def random_name(extension: str) -> str:
    return f"{secrets.token_urlsafe(18)}.{extension}"


def store_clean(clean: CleanImage, area: str = PUBLIC, *, name: str | None = None) -> str:
    """Add a cleaned image to the session's transaction under a random name (or `name`) and return
    the name: it is stored if and only if that transaction commits."""
    name = name or random_name(clean.extension)
    db.session.add(StoredFile(name=name, area=area, content_type=clean.content_type, size=len(clean.data),
                              data=clean.data))
    return name


def store_image(data: bytes, *, field: str = "photos", area: str = PUBLIC) -> StoredImage:
    """Check, clean and store one image (a public one unless `area` says otherwise); return its name and
    size."""
    clean = clean_image(data, field=field)
    return StoredImage(store_clean(clean, area), clean.width, clean.height, len(clean.data))


def delete_after_commit(filename: str) -> None:
    """Delete a stored public photo with the transaction that removed its row: once it commits the
    photo is no longer served; if it fails, the photo is still there."""
    db.session.execute(delete(StoredFile).where(StoredFile.name == filename, StoredFile.area == PUBLIC))


def read(name: str, area: str) -> bytes | None:
    """The stored bytes of `name` in `area`, or None."""
    return db.session.scalar(select(StoredFile.data).where(StoredFile.name == name, StoredFile.area == area))


def file_response(name: str, area: str, *, max_age: int, public: bool = True, immutable: bool = False,
                  content_type: str | None = None) -> Response:
    """The stored file as a response, 404 if there is none. The random name is the ETag (a name is
    never reused for other content): a browser that has it gets 304 without the bytes being sent."""
    row = db.session.execute(select(StoredFile.data, StoredFile.content_type)
                             .where(StoredFile.name == name, StoredFile.area == area)).first()
    if row is None:
        abort(404)
    response = Response(row.data, mimetype=content_type or row.content_type)
    response.set_etag(name)
    if public:
        response.cache_control.public = True
        response.cache_control.max_age = max_age
        response.cache_control.immutable = immutable
    else:
        response.headers["Cache-Control"] = "private, no-store"
    return response.make_conditional(request)


bp = Blueprint("uploads", __name__)


@bp.get("/uploads/<name>")
def serve(name: str):
    """Serve a stored public photo; names are random, so they cannot be guessed."""
    return file_response(name, PUBLIC, max_age=PUBLIC_MAX_AGE, immutable=True)
