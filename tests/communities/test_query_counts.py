"""List pages run a fixed number of queries whatever the number of rows."""

from __future__ import annotations

import pytest

from deliberation.communities.models import Role
from tests.factories import grant, make_resident, make_user


def add_residents(world, n: int, *, verified: bool) -> None:
    for _ in range(n):
        make_resident(world.community, verified=verified)


@pytest.mark.parametrize("path,status", [
    ("/c/taoyuan/admin/residents?status=pending", False),
    ("/c/taoyuan/admin/residents?status=verified", True),
])
def test_residents_list_query_count_is_constant(client, world, as_user, count_queries, path, status):
    as_user(world.admin)
    counts = []
    for extra in (5, 45):
        add_residents(world, extra, verified=status)
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_roles_page_query_count_is_constant(client, world, as_user, count_queries):
    as_user(world.admin)
    counts = []
    for extra in (3, 30):
        for _ in range(extra):
            grant(make_user(), world.community, Role.council_member)
        with count_queries() as counter:
            assert client.get("/c/taoyuan/admin/roles").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_register_page_query_count_is_constant(client, world, count_queries):
    from deliberation.communities import services

    counts = []
    for extra in (2, 20):
        estate = world.community.estates[0]
        for n in range(extra):
            services.add_building(estate, name=f"{extra}-{n}号楼", actor=world.admin)
        with count_queries() as counter:
            assert client.get("/c/taoyuan/register").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
