"""Evidence photos: cleaned like every upload (deliberation.core.uploads), stored apart from the public
photos (area "evidence") because they stay private to the Party branch until the evaluation is published."""

from __future__ import annotations

from deliberation.core.uploads import EVIDENCE, CleanImage, store_clean
from deliberation.core.uploads import clean_image as _clean_image


def clean_image(data: bytes) -> CleanImage:
    return _clean_image(data, field="photo")


def store(clean: CleanImage) -> str:
    """Add the cleaned photo to the transaction under a random name and return the name."""
    return store_clean(clean, EVIDENCE)
