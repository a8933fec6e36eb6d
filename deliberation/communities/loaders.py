"""Loaders shared by every area whose URLs start with /c/<slug>."""

from __future__ import annotations

from sqlalchemy import select

from deliberation.communities.models import Community
from deliberation.extensions import db


def get_community(slug: str) -> Community:
    """The community at /c/<slug>, or 404."""
    return db.first_or_404(select(Community).where(Community.slug == slug))
