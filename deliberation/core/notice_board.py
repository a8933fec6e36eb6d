"""The community notice board (公示栏) is assembled from sections that each area contributes.

An area registers a provider under a key; the provider returns the section's template and data
for one community (with a fixed number of queries). Registering the same key again replaces the
earlier provider, so a placeholder can stand in until its area exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NoticeSection:
    key: str
    template: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _Provider:
    order: int
    build: Callable[..., NoticeSection]


_providers: dict[str, _Provider] = {}


def register(key: str, *, order: int):
    """Decorator: `build(community) -> NoticeSection` provides the section `key`."""

    def decorator(build: Callable[..., NoticeSection]):
        _providers[key] = _Provider(order, build)
        return build

    return decorator


def sections_for(community) -> list[NoticeSection]:
    """Every section of the community's notice board, in display order."""
    return [provider.build(community) for _key, provider in sorted(_providers.items(), key=lambda kv: kv[1].order)]
