"""Evidence photos: cleaned like every upload (deliberation.core.uploads), stored in their own folder
because they stay private to the Party branch until the evaluation is published."""

from __future__ import annotations

from pathlib import Path

from deliberation.core.uploads import CleanImage, store_clean
from deliberation.core.uploads import clean_image as _clean_image


def clean_image(data: bytes) -> CleanImage:
    return _clean_image(data, field="photo")


def store(clean: CleanImage, upload_dir: Path) -> str:
    """Write the cleaned photo under a random name and return the name."""
    return store_clean(clean, upload_dir)
