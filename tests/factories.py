"""Factory helpers; each takes overrides and goes through the services where one exists."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from deliberation.auth import services as auth_services
from deliberation.auth.models import User
from deliberation.communities import services
from deliberation.communities.models import Building, Community, Residency, Role

PASSWORD = "correct-horse-9"
_counter = itertools.count(1)


def make_user(*, login: str | None = None, display_name: str | None = None, phone: str | None = None,
              password: str = PASSWORD, is_site_admin: bool = False) -> User:
    n = next(_counter)
    return auth_services.create_user(
        login=login or f"user{n}", display_name=display_name or f"测试用户{n}",
        phone=phone if phone is not None else f"135{n:08d}", password=password, is_site_admin=is_site_admin,
    )


def make_community(*, slug: str | None = None, name: str = "桃源社区", actor: User | None = None,
                   buildings: dict[str, list[str]] | None = None) -> Community:
    n = next(_counter)
    actor = actor or make_user(is_site_admin=True)
    community = services.create_community(slug=slug or f"community-{n}", name=name, district="深圳市南山区",
                                          street="桃源街道", actor=actor)
    for estate_name, names in (buildings or {"桃源村一区": ["1栋", "2栋"], "龙辉花园": ["A座"]}).items():
        estate = services.add_estate(community, name=estate_name, actor=actor)
        for building_name in names:
            services.add_building(estate, name=building_name, actor=actor)
    return community


def building(community: Community, name: str = "1栋") -> Building:
    return next(b for b in services.buildings_of(community) if b.name == name)


def make_resident(community: Community, *, verified: bool = True, unit: str = "1", room: str | None = None,
                  building_name: str = "1栋", **user_overrides) -> tuple[User, Residency]:
    user = make_user(**user_overrides)
    residency = services.register_residency(user, community, building=building(community, building_name),
                                            unit=unit, room=room or str(100 + next(_counter)))
    if verified:
        services.verify_residency(residency, actor=user)
    return user, residency


def grant(user: User, community: Community, role: Role) -> User:
    services.grant_role(community, user=user, role=role, actor=user)
    return user


@dataclass
class World:
    """Two communities and one user per role that the permission tests compare."""

    community: Community
    other: Community
    site_admin: User
    admin: User
    other_admin: User
    resident: User
    unverified: User
    secretary: User
    party: User
    pending: Residency

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


def build_world() -> World:
    site_admin = make_user(login="site-admin", is_site_admin=True)
    community = make_community(slug="taoyuan", actor=site_admin)
    other = make_community(slug="other", name="蛇口社区", actor=site_admin)
    admin = grant(make_user(login="admin"), community, Role.community_admin)
    other_admin = grant(make_user(login="other-admin"), other, Role.community_admin)
    resident, _ = make_resident(community, login="resident")
    unverified, pending = make_resident(community, verified=False, login="unverified")
    secretary, _ = make_resident(community, login="secretary")
    grant(secretary, community, Role.council_secretary)
    party = grant(make_user(login="party"), community, Role.party_branch)
    return World(community, other, site_admin, admin, other_admin, resident, unverified, secretary, party, pending)
