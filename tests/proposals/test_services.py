"""Round lifecycle and proposal operations at the service level."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image
from sqlalchemy import func, select

from deliberation.communities.models import Role
from deliberation.core import uploads
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.proposals import services
from deliberation.proposals.models import (
    Category,
    Objection,
    Photo,
    ProposalStatus,
    RoundPhase,
    Support,
)
from deliberation.proposals.services import RoundSettings
from tests.factories import grant, make_resident, make_user

from .factories import jpeg_bytes, make_proposal, make_round, move_to, png_bytes


@pytest.fixture
def people(world):
    neighbour, _ = make_resident(world.community, login="neighbour")
    third, _ = make_resident(world.community, login="third")
    return world, neighbour, third


# --- rounds ---------------------------------------------------------------------------

@pytest.mark.parametrize("overrides,field", [
    ({"budget": 0}, "budget"),
    ({"project_cap": 2_000_000}, "project_cap"),
    ({"cap_goods": -1}, "cap_goods"),
    ({"support_threshold": -3}, "support_threshold"),
    ({"publicity_days": 0}, "publicity_days"),
    ({"title": "  "}, "title"),
    ({"planned": {RoundPhase.collecting: date(2027, 3, 1), RoundPhase.voting: date(2027, 2, 1)}}, "start_voting"),
])
def test_round_settings_are_validated(world, overrides, field):
    with pytest.raises(DomainError) as error:
        make_round(world.community, world.secretary, **overrides)
    assert error.value.field == field


def test_round_moves_forward_one_phase_at_a_time(world, round_):
    assert round_.phase == RoundPhase.collecting
    with pytest.raises(DomainError):
        round_.advance_to(RoundPhase.voting, by=world.secretary)
    services.advance_round(round_, actor=world.secretary)
    assert round_.phase == RoundPhase.screening
    assert round_.step(RoundPhase.screening).started_by == world.secretary
    assert round_.step(RoundPhase.screening).started_at is not None


def test_settings_lock_after_collecting(world, round_):
    services.advance_round(round_, actor=world.secretary)
    settings = RoundSettings(title="x", budget=1, project_cap=1, cap_services=1, cap_goods=1, cap_works=1)
    with pytest.raises(DomainError):
        services.update_round(round_, settings=settings, actor=world.secretary)


# --- proposals ------------------------------------------------------------------------

def test_resident_submits_a_proposal(world, round_):
    proposal = make_proposal(round_, world.resident)
    assert proposal.status == ProposalStatus.submitted
    assert proposal.community_id == world.community.id


@pytest.mark.parametrize("overrides,field", [
    ({"cost": 0}, "cost"),
    ({"cost": -500}, "cost"),
    ({"category": Category.services, "cost": 200_001}, "cost"),   # over the services cap
    ({"cost": 500_001}, "cost"),                                   # over the per-project cap
    ({"title": ""}, "title"),
    ({"description": " "}, "description"),
])
def test_bad_proposals_are_refused(world, round_, overrides, field):
    with pytest.raises(DomainError) as error:
        make_proposal(round_, world.resident, **overrides)
    assert error.value.field == field


def test_a_proposal_not_tied_to_one_place_is_accepted(world, round_):
    proposal = make_proposal(round_, world.resident, location_text="")  # 不限具体地点: e.g. after-school care
    assert proposal.estate_id is None and proposal.building_id is None and proposal.location_text == ""


def test_every_problem_of_a_proposal_is_listed_at_once(world, round_):
    fields = services.ProposalFields(title=" ", description="", category=Category.services, cost=250_000)
    assert {p.field for p in services.proposal_problems(round_, fields)} == {"title", "description", "cost"}


def test_a_place_of_another_community_is_refused(world, round_):
    other_building = world.other.estates[0].buildings[0]
    with pytest.raises(DomainError):
        make_proposal(round_, world.resident, building_id=other_building.id)


def test_proposals_only_while_collecting(world, round_):
    services.advance_round(round_, actor=world.secretary)
    with pytest.raises(DomainError):
        make_proposal(round_, world.resident)


def test_photos_are_reencoded_without_metadata(world, round_):
    proposal = make_proposal(round_, world.resident, photos=[jpeg_bytes(exif_gps=True), png_bytes()])
    db.session.expire(proposal, ["photos"])
    assert len(proposal.photos) == 2
    stored = uploads.read(proposal.photos[0].filename, uploads.PUBLIC)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and not image.getexif()
    assert proposal.photos[1].filename.endswith(".png")  # transparency kept


@pytest.mark.parametrize("data", [
    b"just some text, named photo.jpg",
    b"\xff\xd8\xff\xe0" + b"\x00" * (5 * 1024 * 1024),   # bigger than 5 MB
    b"GIF89a" + b"\x00" * 64,
])
def test_bad_photos_are_refused(world, round_, data):
    with pytest.raises(DomainError) as error:
        make_proposal(round_, world.resident, photos=[data])
    assert error.value.field == "photos"


def test_at_most_six_photos(world, round_):
    with pytest.raises(DomainError):
        make_proposal(round_, world.resident, photos=[jpeg_bytes()] * 7)


def test_proposer_edits_until_screening(world, round_):
    proposal = make_proposal(round_, world.resident, photos=[jpeg_bytes()])
    fields = services.ProposalFields(title="新标题", description="更新的说明", category=Category.goods, cost=1000,
                                     location_text="活动中心")
    services.update_proposal(proposal, fields=fields, new_photos=[png_bytes()],
                             remove_photo_ids=[proposal.photos[0].id], actor=world.resident)
    assert proposal.title == "新标题" and len(proposal.photos) == 1
    services.advance_round(round_, actor=world.secretary)
    with pytest.raises(DomainError):
        services.update_proposal(proposal, fields=fields, new_photos=[], remove_photo_ids=[], actor=world.resident)


# --- co-signing -----------------------------------------------------------------------

def test_co_sign_once_and_withdraw(people, round_):
    world, neighbour, third = people
    proposal = make_proposal(round_, world.resident)
    services.add_support(proposal, neighbour)
    services.add_support(proposal, third)
    assert proposal.support_count == 2
    with pytest.raises(DomainError):
        services.add_support(proposal, neighbour)
    assert proposal.support_count == 2
    services.withdraw_support(proposal, neighbour)
    assert proposal.support_count == 1
    assert db.session.scalar(select(func.count(Support.id))) == 1


def test_proposer_cannot_co_sign_own_proposal(world, round_):
    proposal = make_proposal(round_, world.resident)
    with pytest.raises(DomainError):
        services.add_support(proposal, world.resident)


def test_below_threshold_is_marked(people):
    world, neighbour, _ = people
    round_ = make_round(world.community, world.secretary, support_threshold=2)
    proposal = make_proposal(round_, world.resident)
    services.add_support(proposal, neighbour)
    assert proposal.below_threshold()


# --- screening, merging, branch review ------------------------------------------------

def test_screening_must_decide_everything(people, round_):
    world, neighbour, _ = people
    a = make_proposal(round_, world.resident)
    b = make_proposal(round_, neighbour, title="楼道照明")
    services.advance_round(round_, actor=world.secretary)
    services.accept_proposal(a, actor=world.secretary)
    with pytest.raises(DomainError):
        services.advance_round(round_, actor=world.secretary)
    services.reject_proposal(b, actor=world.secretary, reason="属于物业维修范围")
    services.advance_round(round_, actor=world.secretary)
    assert round_.phase == RoundPhase.branch_review
    assert b.status == ProposalStatus.rejected and b.status_reason == "属于物业维修范围"


def test_reject_needs_a_reason_and_screening_phase(world, round_):
    proposal = make_proposal(round_, world.resident)
    with pytest.raises(DomainError):
        services.accept_proposal(proposal, actor=world.secretary)  # still collecting
    services.advance_round(round_, actor=world.secretary)
    with pytest.raises(DomainError):
        services.reject_proposal(proposal, actor=world.secretary, reason=" ")


def test_merge_moves_co_signatures_without_duplicates(people, round_):
    world, neighbour, third = people
    source = make_proposal(round_, world.resident, title="健身器材")
    target = make_proposal(round_, neighbour, title="小区健身角")
    services.add_support(source, third)
    services.add_support(target, third)          # already supports the target
    services.add_support(source, neighbour)      # the target's own proposer
    other, _ = make_resident(world.community)
    services.add_support(source, other)
    services.advance_round(round_, actor=world.secretary)
    moved = services.merge_proposal(source, into=target, actor=world.secretary)
    assert moved == 1
    assert source.status == ProposalStatus.merged and source.merged_into == target
    assert target.support_count == 2 and source.support_count == 0
    assert db.session.scalar(select(func.count(Support.id)).where(Support.proposal_id == target.id)) == 2


def test_branch_strikes_and_the_rest_go_on_the_ballot(people, round_):
    world, neighbour, _ = people
    a = make_proposal(round_, world.resident)
    b = make_proposal(round_, neighbour, title="广场舞音响")
    move_to(round_, RoundPhase.branch_review, world.secretary)
    with pytest.raises(DomainError):
        services.strike_proposal(a, actor=world.party, reason="")
    services.strike_proposal(b, actor=world.party, reason="噪音扰民，与居民公约不符")
    services.advance_round(round_, actor=world.party)
    assert round_.phase == RoundPhase.voting
    assert a.status == ProposalStatus.on_ballot and b.status == ProposalStatus.struck


def test_without_branch_review_screening_leads_to_voting(world):
    round_ = make_round(world.community, world.secretary, branch_review_enabled=False)
    proposal = make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.voting, world.secretary)
    assert RoundPhase.branch_review not in round_.phases()
    assert proposal.status == ProposalStatus.on_ballot


def test_voting_needs_something_on_the_ballot(world, round_):
    proposal = make_proposal(round_, world.resident)
    services.advance_round(round_, actor=world.secretary)
    services.reject_proposal(proposal, actor=world.secretary, reason="重复")
    services.advance_round(round_, actor=world.secretary)
    with pytest.raises(DomainError):
        services.advance_round(round_, actor=world.party)


# --- resolution, publicity, implementation, rating ------------------------------------

def test_resolution_funds_within_budget_and_opens_publicity(people):
    world, neighbour, _ = people
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    a = make_proposal(round_, world.resident, cost=60_000)
    b = make_proposal(round_, neighbour, cost=50_000, title="儿童游乐设施")
    move_to(round_, RoundPhase.council_resolution, world.secretary, party=world.party)
    with pytest.raises(DomainError):
        services.advance_round(round_, actor=world.secretary)  # only a resolution moves it on
    with pytest.raises(DomainError):
        services.record_resolution(round_, funded_ids=[a.id, b.id], note="会议", actor=world.secretary)
    services.record_resolution(round_, funded_ids=[a.id], note="议事会第2次会议", actor=world.secretary)
    assert round_.phase == RoundPhase.publicity and round_.publicity_ends_at is not None
    assert (a.status, b.status) == (ProposalStatus.funded, ProposalStatus.not_funded)


def test_publicity_waits_for_the_period_and_for_answers(people, round_):
    world, neighbour, _ = people
    proposal = make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.publicity, world.secretary, party=world.party)
    objection = services.file_objection(proposal, neighbour, body="预算偏高，请公开报价。")
    with pytest.raises(DomainError):
        services.advance_round(round_, actor=world.secretary)  # period not over
    round_.publicity_started_at = round_.publicity_started_at.replace(year=2020)
    with pytest.raises(DomainError):
        services.advance_round(round_, actor=world.secretary)  # objection unanswered
    services.answer_objection(objection, actor=world.secretary, answer="已公开三家报价，见附件。")
    services.advance_round(round_, actor=world.secretary)
    assert round_.phase == RoundPhase.implementing
    assert proposal.status == ProposalStatus.in_progress


def test_one_resident_cannot_hold_the_round_in_publicity_with_a_flood_of_objections(people, round_):
    """Every objection must be answered before the round moves on: one resident may keep one open objection
    per project (all their points fit in it), not hundreds posted by a script for the secretary to answer."""
    world, neighbour, third = people
    proposal = make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.publicity, world.secretary, party=world.party)
    first = services.file_objection(proposal, neighbour, body="预算偏高，请公开报价。")
    with pytest.raises(DomainError) as refused:
        services.file_objection(proposal, neighbour, body="再提一条。")
    assert "尚未答复" in str(refused.value.message) and refused.value.field == "body"
    services.file_objection(proposal, third, body="施工时间？")  # another resident is not held back
    services.answer_objection(first, actor=world.secretary, answer="已公开三家报价，见附件。")
    services.file_objection(proposal, neighbour, body="报价仍偏高。")  # answered: a new one may follow
    assert db.session.scalar(select(func.count(Objection.id)).where(Objection.author_id == neighbour.id)) == 2


def test_progress_completion_and_one_rating_per_resident(people, round_):
    world, neighbour, third = people
    proposal = make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.implementing, world.secretary, party=world.party)
    with pytest.raises(DomainError):
        services.rate_project(proposal, neighbour, stars=5)  # not completed yet
    services.post_progress(proposal, actor=world.secretary, body="已完成招标", photos=[jpeg_bytes()])
    services.post_progress(proposal, actor=world.secretary, body="坡道已建成并验收", photos=[], completed=True)
    assert proposal.status == ProposalStatus.completed
    services.rate_project(proposal, neighbour, stars=5)
    services.rate_project(proposal, third, stars=4)
    with pytest.raises(DomainError):
        services.rate_project(proposal, neighbour, stars=1)
    with pytest.raises(DomainError):
        services.rate_project(proposal, world.resident, stars=6)
    assert services.rating_summary(proposal) == (4.5, 2)
    services.advance_round(round_, actor=world.secretary)
    assert round_.phase == RoundPhase.closed
    assert db.session.scalar(select(func.count(Photo.id)).where(Photo.progress_update_id.is_not(None))) == 1


def test_comments_reports_and_moderation(people, round_):
    world, neighbour, third = people
    proposal = make_proposal(round_, world.resident)
    top = services.add_comment(proposal, neighbour, body="支持！")
    reply = services.add_comment(proposal, third, body="同意", parent=top)
    deeper = services.add_comment(proposal, world.resident, body="谢谢", parent=reply)
    assert deeper.parent_id == top.id  # one level of threading
    assert services.report_comment(reply, neighbour) is True
    assert services.report_comment(reply, neighbour) is False
    assert reply.report_count == 1
    services.moderate_comment(reply, hide=True, actor=world.secretary, reason="人身攻击")
    assert reply.hidden and reply.moderation_reason == "人身攻击"
    with pytest.raises(DomainError):
        services.moderate_comment(reply, hide=True, actor=world.secretary, reason="again")
    services.moderate_comment(reply, hide=False, actor=world.secretary, reason="复核后恢复")
    assert not reply.hidden


def test_secretary_role_can_run_rounds(world):
    from deliberation.core.permissions import can_run_rounds

    assert can_run_rounds(world.secretary, world.community)
    assert can_run_rounds(world.admin, world.community)
    assert not can_run_rounds(world.party, world.community)
    assert not can_run_rounds(world.resident, world.community)
    member = grant(make_user(), world.community, Role.council_member)
    assert not can_run_rounds(member, world.community)
