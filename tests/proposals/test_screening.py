"""Screening as the secretary meets it: a queue, the co-signature threshold, and a phase button that
says what still blocks it instead of leading to an error page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from deliberation.core.audit import AuditEvent
from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.proposals import services
from deliberation.proposals.models import ProposalStatus, RoundPhase

from .factories import make_proposal, make_round, move_to


@pytest.fixture
def threshold_round(world):
    return make_round(world.community, world.secretary, support_threshold=2)


def test_queue_lists_what_is_left_to_screen(client, world, as_user, threshold_round, neighbour):
    a = make_proposal(threshold_round, world.resident, title="加装坡道")
    b = make_proposal(threshold_round, neighbour, title="楼道照明")
    services.add_support(a, neighbour)
    services.add_support(a, world.secretary)
    services.advance_round(threshold_round, actor=world.secretary)
    services.reject_proposal(b, actor=world.secretary, reason="属于物业维修范围")
    as_user(world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{threshold_round.id}/screening").get_data(as_text=True)
    assert page.count('data-testid="screening-item"') == 1
    assert "加装坡道" in page and "楼道照明" not in page
    round_page = client.get(f"/c/taoyuan/rounds/{threshold_round.id}").get_data(as_text=True)
    assert f"/c/taoyuan/rounds/{threshold_round.id}/screening" in round_page


def test_below_threshold_is_accepted_only_with_a_reason_stored_shown_and_audited(
        client, world, as_user, threshold_round):
    proposal = make_proposal(threshold_round, world.resident)
    services.advance_round(threshold_round, actor=world.secretary)
    with pytest.raises(DomainError):
        services.accept_proposal(proposal, actor=world.secretary)
    as_user(world.secretary)
    detail = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert "附理由受理" in detail  # the button leads to the reason form, not to a refusal
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/accept", data={"reason": ""})
    assert response.status_code == 422
    assert "公开理由" in response.get_data(as_text=True)
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.submitted
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/accept",
                           data={"reason": "涉及无障碍设施，议事会同意优先考虑"})
    assert response.status_code == 303
    db.session.refresh(proposal)
    assert proposal.status == ProposalStatus.accepted
    assert proposal.threshold_reason == "涉及无障碍设施，议事会同意优先考虑"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "proposal.accepted")).one()
    assert "涉及无障碍设施" in event.summary
    client.post("/logout")
    move_to(threshold_round, RoundPhase.voting, world.secretary, party=world.party)
    page = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert "涉及无障碍设施，议事会同意优先考虑" in page  # still public once the proposal is on the ballot


def test_at_or_above_threshold_accepts_without_a_reason(world, threshold_round, neighbour):
    proposal = make_proposal(threshold_round, world.resident)
    services.add_support(proposal, neighbour)
    services.add_support(proposal, world.secretary)
    services.advance_round(threshold_round, actor=world.secretary)
    services.accept_proposal(proposal, actor=world.secretary)
    assert proposal.status == ProposalStatus.accepted and proposal.threshold_reason is None


def test_advance_button_says_what_blocks_it_with_the_services_words(client, world, as_user, round_, neighbour):
    for title in ("甲", "乙", "丙"):
        make_proposal(round_, neighbour, title=title)
    services.advance_round(round_, actor=world.secretary)
    assert [str(b) for b in services.advance_blockers(round_)] == ["还有 3 个项目待初筛。"]
    as_user(world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "还有 3 个项目待初筛。" in page
    assert f"/c/taoyuan/rounds/{round_.id}/advance" not in page  # no button that would be refused
    with pytest.raises(DomainError) as refused:
        services.advance_round(round_, actor=world.secretary)
    assert str(refused.value.message) == "暂时不能进入“党组织审核”： 还有 3 个项目待初筛。"
    for p in services.screening_queue(round_):
        services.accept_proposal(p, actor=world.secretary)
    assert services.advance_blockers(round_) == []
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert f"/c/taoyuan/rounds/{round_.id}/advance" in page


def test_co_signatures_needed_disappears_once_collection_has_ended(client, world, threshold_round):
    proposal = make_proposal(threshold_round, world.resident)
    assert "需要 2 人附议" in client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    services.advance_round(threshold_round, actor=world.secretary)
    assert "需要 2 人附议" not in client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
