"""Every route, every role: allowed or refused as it should be."""

from __future__ import annotations

import pytest

from deliberation.communities.models import Role
from tests.access import assert_access

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "other_admin", "site_admin", "admin"]
EVERYONE = set(ROLES)
LOGGED_IN = EVERYONE - {"anonymous"}
ADMIN = {"admin"}
SITE_ADMIN = {"site_admin"}


def party_grant(world):
    return next(g for g in world.party.role_grants if g.role == Role.party_branch)


# (method, url builder, form data, roles allowed)
ROUTES = [
    ("GET", lambda w: "/", None, EVERYONE),
    ("GET", lambda w: "/c/taoyuan", None, EVERYONE),
    ("GET", lambda w: "/c/taoyuan/register", None, EVERYONE),
    ("GET", lambda w: "/login", None, EVERYONE),
    ("POST", lambda w: "/prefs/locale", {"locale": "en"}, EVERYONE),
    ("POST", lambda w: "/prefs/text-size", {}, EVERYONE),
    ("GET", lambda w: "/account", None, LOGGED_IN),
    ("GET", lambda w: "/account/password", None, LOGGED_IN),
    ("POST", lambda w: "/logout", {}, LOGGED_IN),
    ("GET", lambda w: "/c/taoyuan/admin", None, ADMIN),
    ("GET", lambda w: "/c/taoyuan/admin/residents", None, ADMIN),
    ("GET", lambda w: "/c/taoyuan/admin/residents?status=verified", None, ADMIN),
    ("POST", lambda w: f"/c/taoyuan/admin/residents/{w.pending.id}/verify", {}, ADMIN),
    ("GET", lambda w: f"/c/taoyuan/admin/residents/{w.pending.id}/reject", None, ADMIN),
    ("POST", lambda w: f"/c/taoyuan/admin/residents/{w.pending.id}/reject", {"reason": "查无此人"}, ADMIN),
    ("POST", lambda w: f"/c/taoyuan/admin/residents/{w.pending.id}/moved-out", {}, ADMIN),
    ("GET", lambda w: "/c/taoyuan/admin/roll", None, ADMIN),
    ("POST", lambda w: "/c/taoyuan/admin/roll", {}, ADMIN),
    ("GET", lambda w: "/c/taoyuan/admin/roles", None, ADMIN),
    ("POST", lambda w: "/c/taoyuan/admin/roles", {"user": "resident", "role": "council_member"}, ADMIN),
    ("POST", lambda w: f"/c/taoyuan/admin/roles/{party_grant(w).id}/revoke", {}, ADMIN),
    ("GET", lambda w: "/c/taoyuan/admin/places", None, ADMIN),
    ("POST", lambda w: "/c/taoyuan/admin/places", {"estate-name": "新小区"}, ADMIN),
    ("POST", lambda w: "/c/taoyuan/admin/places/buildings", {"building-name": "9栋"}, ADMIN),
    ("GET", lambda w: "/site/communities", None, SITE_ADMIN),
    ("POST", lambda w: "/site/communities",
     {"name": "新社区", "slug": "xin", "district": "南山区", "street": "粤海街道"}, SITE_ADMIN),
    ("GET", lambda w: "/site/communities/taoyuan/admins", None, SITE_ADMIN),
    ("POST", lambda w: "/site/communities/taoyuan/admins", {"login": "resident"}, SITE_ADMIN),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "data", "allowed"), ROUTES,
                         ids=[f"{m} {i}" for i, (m, *_rest) in enumerate(ROUTES)])
def test_route_access(client, world, as_user, role, method, url, data, allowed):
    as_user(world.user(role))
    response = client.open(url(world), method=method, data=data)
    assert_access(response, role, allowed, allowed_codes=(200, 303, 302, 422))


def test_admin_of_another_community_cannot_touch_this_ones_residents(client, world, as_user):
    as_user(world.other_admin)
    response = client.post(f"/c/other/admin/residents/{world.pending.id}/verify")
    assert response.status_code == 404  # the residency is not in their community
    assert world.pending.status.value == "pending"


def test_site_admin_holds_no_community_role_implicitly(world):
    from deliberation.core import permissions

    for check in (permissions.can_administer_community, permissions.can_verify_residents,
                  permissions.can_import_roll, permissions.can_manage_roles):
        assert not check(world.site_admin, world.community)
    assert not permissions.has_role(world.site_admin, world.community, Role.party_branch)
    assert permissions.can_create_community(world.site_admin)
