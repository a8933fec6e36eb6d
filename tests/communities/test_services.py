"""Registration, verification, moving out, the roll import and roles, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.communities import services
from deliberation.communities.models import ResidencyStatus, Role, RollEntry
from deliberation.core.errors import DomainError
from deliberation.core.permissions import is_verified_resident
from deliberation.extensions import db
from tests.factories import building, make_community, make_resident, make_user

ROLL = "building,unit,room,name,phone\n1栋,1,301,王芳,13912345678\n2栋,2单元,1502室,李强,13987654321\n"


def roll_size(community) -> int:
    return db.session.scalar(select(func.count(RollEntry.id)).where(RollEntry.community_id == community.id))


@pytest.fixture
def community(db_session):
    return make_community()


@pytest.fixture
def admin(community):
    user = make_user(login="office")
    services.grant_role(community, user=user, role=Role.community_admin, actor=user)
    return user


def test_registration_matching_the_roll_waits_for_the_office_marked_as_a_match(community, admin):
    """Knowing a neighbour's phone number and address proves nothing until the phone is proven."""
    services.import_roll(community, data=ROLL.encode(), actor=admin)
    user, residency = make_resident(community, verified=False, phone="139 1234 5678", unit="1单元", room="301")
    _other, elsewhere = make_resident(community, verified=False, unit="1", room="302")
    assert residency.status == ResidencyStatus.pending
    assert not is_verified_resident(user, community)
    matches = services.roll_matches([residency, elsewhere])
    assert set(matches) == {residency.id} and matches[residency.id].name == "王芳"
    services.verify_residency(residency, actor=admin)
    assert is_verified_resident(user, community) and residency.verified_by == admin


def test_registration_not_on_the_roll_waits_then_is_approved(community, admin):
    user, residency = make_resident(community, verified=False, unit="1", room="302")
    assert residency.status == ResidencyStatus.pending
    assert not is_verified_resident(user, community)
    services.verify_residency(residency, actor=admin)
    assert residency.status == ResidencyStatus.verified
    assert residency.verified_by == admin
    assert is_verified_resident(user, community)


def test_rejected_registration_keeps_the_reason(community, admin):
    user, residency = make_resident(community, verified=False)
    services.reject_residency(residency, actor=admin, reason="该房号不存在")
    assert residency.status == ResidencyStatus.rejected
    assert residency.rejection_reason == "该房号不存在"
    assert not is_verified_resident(user, community)


def test_rejection_needs_a_reason(community, admin):
    _, residency = make_resident(community, verified=False)
    with pytest.raises(DomainError):
        services.reject_residency(residency, actor=admin, reason="   ")
    assert residency.status == ResidencyStatus.pending


def test_moved_out_resident_loses_resident_capabilities(community, admin):
    user, residency = make_resident(community)
    assert is_verified_resident(user, community)
    services.mark_moved_out(residency, actor=admin)
    assert residency.status == ResidencyStatus.moved_out
    assert not is_verified_resident(user, community)
    with pytest.raises(DomainError):
        services.verify_residency(residency, actor=admin)


def test_a_second_open_registration_in_the_same_community_is_refused(community):
    user, _ = make_resident(community, verified=False)
    with pytest.raises(DomainError):
        services.register_residency(user, community, building=building(community), unit="1", room="999")


def test_a_building_of_another_community_is_refused(community):
    other = make_community()
    user = make_user()
    with pytest.raises(DomainError):
        services.register_residency(user, community, building=building(other), unit="1", room="101")


def test_roll_import_of_a_good_file(community, admin):
    report = services.import_roll(community, data=ROLL.encode(), actor=admin)
    assert [r.line for r in report.imported] == [2, 3]
    assert report.rejected == []
    assert roll_size(community) == 2
    second = services.import_roll(community, data=ROLL.encode(), actor=admin)
    assert len(second.unchanged) == 2 and not second.imported
    assert roll_size(community) == 2


def test_roll_import_reports_each_bad_row_and_imports_the_rest(community, admin):
    data = (
        "楼栋,单元,房号,姓名,电话\n"
        "1栋,1,101,张三,13900000001\n"        # good
        "9栋,1,101,李四,13900000002\n"        # unknown building
        "1栋,1,102,王五,12345\n"              # bad phone
        "1栋,,103,赵六,13900000004\n"         # missing unit
        "1栋,1,101,张三,13900000001\n"        # duplicate of line 2
        "2栋,1\n"                             # too few columns
    ).encode()
    report = services.import_roll(community, data=data, actor=admin)
    assert [r.line for r in report.imported] == [2]
    assert [p.line for p in report.rejected] == [3, 4, 5, 6, 7]
    reasons = [str(p.reason) for p in report.rejected]
    assert "9栋" in reasons[0]
    assert "12345" in reasons[1]
    assert "2" in reasons[3]  # names the line it repeats
    assert roll_size(community) == 1


@pytest.mark.parametrize("data", [
    b"building,unit,room,name\n1\xe6\xa0\x8b,1,101,x\n",   # a column is missing
    b"foo,bar\n1,2\n",                                     # not a roll at all
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",          # an image renamed to .csv
    b"",                                                   # empty
    b'building,unit,room,name,phone\n"1\xe6\xa0\x8b,1,101,x,13900000001\n',  # unterminated quote
])
def test_malformed_roll_imports_nothing(community, admin, data):
    with pytest.raises(DomainError):
        services.import_roll(community, data=data, actor=admin)
    assert roll_size(community) == 0


def test_roll_saved_by_excel_in_gb18030_with_semicolons_is_read(community, admin):
    data = "楼栋;单元;房号;姓名;电话\r\n1栋;1;101;张三;13900000001\r\n".encode("gb18030")
    report = services.import_roll(community, data=data, actor=admin)
    assert [r.name for r in report.imported] == ["张三"]


def test_roll_import_counts_waiting_registrations_that_now_match_but_verifies_none(community, admin):
    user, residency = make_resident(community, verified=False, phone="13912345678", unit="1", room="301")
    assert residency.status == ResidencyStatus.pending
    report = services.import_roll(community, data=ROLL.encode(), actor=admin)
    assert report.matching_registrations == 1
    assert residency.status == ResidencyStatus.pending
    assert set(services.roll_matches([residency])) == {residency.id}


def test_grant_and_revoke_a_role(community, admin):
    user = make_user()
    grant = services.grant_role(community, user=user, role=Role.party_branch, actor=admin)
    assert any(g.role == Role.party_branch for g in user.role_grants)
    with pytest.raises(DomainError):
        services.grant_role(community, user=user, role=Role.party_branch, actor=admin)
    services.revoke_role(grant, actor=admin)
    db.session.expire(user)
    assert not user.role_grants


def test_the_last_admin_cannot_revoke_themselves(community, admin):
    grant = next(g for g in admin.role_grants if g.role == Role.community_admin)
    with pytest.raises(DomainError):
        services.revoke_role(grant, actor=admin)


def test_appointing_an_admin_creates_the_account_when_needed(community):
    site_admin = make_user(is_site_admin=True)
    with pytest.raises(DomainError):
        services.appoint_community_admin(community, login="newadmin", display_name="", password="", actor=site_admin)
    user = services.appoint_community_admin(community, login="newadmin", display_name="新管理员",
                                            password="long-enough-1", actor=site_admin)
    assert any(g.role == Role.community_admin and g.community_id == community.id for g in user.role_grants)
