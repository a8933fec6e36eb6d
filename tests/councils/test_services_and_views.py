"""Setting up a council term: rules, members, and the public page."""

from __future__ import annotations

from datetime import date

import pytest

from deliberation.core.errors import DomainError
from deliberation.councils import services
from deliberation.councils.models import SeatType
from deliberation.councils.rules import PassBasis
from tests.conftest import login_as
from tests.councils.factories import make_council


def test_defaults_follow_the_usual_council_rules(world):
    council = make_council(world.community, world.admin, members=15)
    assert (council.quorum_num, council.quorum_den, council.quorum_strict) == (2, 3, True)
    assert council.pass_basis == PassBasis.all_members and (council.pass_num, council.pass_den) == (1, 2)
    assert council.notice_days == 3 and council.quorum_count == 11


def test_only_verified_residents_sit_once(world):
    council = make_council(world.community, world.admin, members=0)
    with pytest.raises(DomainError):
        services.add_member(council, world.unverified, seat=SeatType.deputy, actor=world.admin)
    with pytest.raises(DomainError):
        services.add_member(council, world.party, seat=SeatType.party_committee, actor=world.admin)  # not a resident
    services.add_member(council, world.resident, seat=SeatType.deputy, actor=world.admin)
    with pytest.raises(DomainError):
        services.add_member(council, world.resident, seat=SeatType.deputy, actor=world.admin)


def test_bad_rules_are_refused(world):
    bad = dict(name="议事会", term_label="第一届", term_start=date(2026, 1, 1), term_end=date(2028, 1, 1))
    with pytest.raises(DomainError):
        services.create_council(world.community, settings=services.CouncilSettings(**{**bad, "quorum_num": 4}),
                                actor=world.admin)
    with pytest.raises(DomainError):
        services.create_council(world.community, settings=services.CouncilSettings(
            **{**bad, "term_end": date(2025, 1, 1)}), actor=world.admin)
    services.create_council(world.community, settings=services.CouncilSettings(**bad), actor=world.admin)
    with pytest.raises(DomainError):  # same term twice
        services.create_council(world.community, settings=services.CouncilSettings(**bad), actor=world.admin)


def test_admin_sets_up_a_term_and_seats_members_and_the_public_page_lists_them(client, world):
    login_as(client, world.admin)
    response = client.post("/c/taoyuan/council/new", data={
        "name": "桃源社区居民议事会", "term_label": "第三届", "term_start": "2026-01-01", "term_end": "2028-12-31",
        "quorum_num": "2", "quorum_den": "3", "quorum_strict": "y", "pass_basis": "present", "pass_num": "1",
        "pass_den": "2", "pass_strict": "y", "notice_days": "5"})
    assert response.status_code == 303
    council = services.current_council(world.community)
    assert council.pass_basis == PassBasis.present and council.notice_days == 5
    response = client.post(f"/c/taoyuan/council/{council.id}/members",
                           data={"user": str(world.resident.id), "seat": "deputy"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and world.resident.display_name in response.get_data(as_text=True)
    response = client.post(f"/c/taoyuan/council/{council.id}/members",
                           data={"user": str(world.unverified.id), "seat": "deputy"})
    assert response.status_code == 422
    client.post("/logout")
    page = client.get("/c/taoyuan/council").get_data(as_text=True)
    assert world.resident.display_name in page and "人大代表" in page and "5 天" in page


def test_council_page_uses_a_fixed_number_of_queries(client, world, count_queries):
    from deliberation.extensions import db

    council = make_council(world.community, world.admin, members=3)
    db.session.commit()
    with count_queries() as counter:
        assert client.get("/c/taoyuan/council").status_code == 200
    few = counter.count
    from tests.factories import make_resident

    for n in range(8):
        user, _ = make_resident(world.community, login=f"extra-{n}")
        services.add_member(council, user, seat=SeatType.elected_resident, actor=world.admin)
    db.session.commit()
    with count_queries() as counter:
        page = client.get("/c/taoyuan/council").get_data(as_text=True)
    assert counter.count == few and page.count('data-testid="council-member"') == 11


def test_admin_changes_the_rules_of_a_council(client, world):
    council = make_council(world.community, world.admin, members=3)
    login_as(client, world.admin)
    response = client.post(f"/c/taoyuan/council/{council.id}/edit", data={
        "name": " 桃源社区居民议事会 ", "term_label": "第三届", "term_start": "2026-01-01", "term_end": "2028-12-31",
        "quorum_num": "1", "quorum_den": "2", "quorum_strict": "y", "pass_basis": "present", "pass_num": "2",
        "pass_den": "3", "notice_days": "7"})
    assert response.status_code == 303
    client.get("/")  # a fresh request reads what was committed
    assert council.pass_basis == PassBasis.present and isinstance(council.pass_basis, PassBasis)
    assert (council.quorum_num, council.quorum_den, council.pass_num, council.pass_den) == (1, 2, 2, 3)
    assert council.notice_days == 7 and council.pass_strict is False and council.name == "桃源社区居民议事会"
    page = client.get(f"/c/taoyuan/council/{council.id}").get_data(as_text=True)
    assert "7 天" in page
