"""Every rounds-and-proposals route, every role, in the phase where the route is meant to work."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliberation.proposals import services
from deliberation.proposals.models import Objection, Proposal, Round, RoundPhase
from tests.access import assert_access
from tests.factories import make_resident

from .factories import make_proposal, make_round, move_to

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "other_admin", "site_admin", "admin"]
EVERYONE = set(ROLES)
LOGGED_IN = EVERYONE - {"anonymous"}
RUNNERS = {"secretary", "admin"}
RESIDENTS = {"resident", "secretary"}  # verified residents of the community (the secretary lives there)
PARTY = {"party"}


@dataclass
class Scene:
    round: Round
    proposal: Proposal
    other: Proposal
    comment: object
    objection: Objection | None


def scene(world, phase: RoundPhase) -> Scene:
    """A round in `phase` with two proposals by a resident outside the compared roles."""
    proposer, _ = make_resident(world.community, login="proposer")
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, proposer)
    other = make_proposal(round_, proposer, title="楼道照明")
    comment = services.add_comment(proposal, proposer, body="欢迎大家附议")
    target = RoundPhase.council_resolution if phase in (RoundPhase.publicity, RoundPhase.implementing) else phase
    move_to(round_, target, world.secretary, party=world.party)
    objection = None
    if phase in (RoundPhase.publicity, RoundPhase.implementing):
        services.record_resolution(round_, funded_ids=[proposal.id], note="议事会会议", actor=world.secretary)
        objection = services.file_objection(proposal, proposer, body="请公开报价")
    if phase == RoundPhase.implementing:
        services.answer_objection(objection, actor=world.secretary, answer="已公开")
        move_to(round_, RoundPhase.implementing, world.secretary)
    return Scene(round_, proposal, other, comment, objection)


C, S, B, R, P, IMPL = (RoundPhase.collecting, RoundPhase.screening, RoundPhase.branch_review,
                    RoundPhase.council_resolution, RoundPhase.publicity, RoundPhase.implementing)
ROUTES = [
    (C, "GET", lambda s: "/c/taoyuan/rounds", None, EVERYONE),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}", None, EVERYONE),
    (C, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}", None, EVERYONE),
    (C, "GET", lambda s: "/c/taoyuan/rounds/new", None, RUNNERS),
    (C, "POST", lambda s: "/c/taoyuan/rounds/new", {"title": "x"}, RUNNERS),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/edit", None, RUNNERS),
    (C, "POST", lambda s: f"/c/taoyuan/rounds/{s.round.id}/edit", {"title": ""}, RUNNERS),
    (C, "POST", lambda s: f"/c/taoyuan/rounds/{s.round.id}/advance", {}, RUNNERS),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/moderation", None, RUNNERS),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/proposals.csv", None, RUNNERS),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/proposals.xlsx", None, RUNNERS),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/propose", None, RESIDENTS),
    (C, "POST", lambda s: f"/c/taoyuan/rounds/{s.round.id}/propose", {"title": ""}, RESIDENTS),
    (C, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/edit", None, set()),
    (C, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/support", {}, RESIDENTS),
    (C, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/comments", {"body": "好"}, RESIDENTS),
    # Verified residents of the community and its staff; not users of other communities or unverified ones.
    (C, "POST", lambda s: f"/c/taoyuan/comments/{s.comment.id}/report", {}, RESIDENTS | {"admin", "party"}),
    (C, "GET", lambda s: f"/c/taoyuan/comments/{s.comment.id}/hide", None, RUNNERS),
    (C, "POST", lambda s: f"/c/taoyuan/comments/{s.comment.id}/hide", {"reason": "广告"}, RUNNERS),
    (S, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/accept", {}, RUNNERS),
    (S, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/accept", None, RUNNERS),
    (S, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/screening", None, RUNNERS),
    (C, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/screening", None, RUNNERS),
    (S, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/reject", None, RUNNERS),
    (S, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/reject", {"reason": "重复"}, RUNNERS),
    (S, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/merge", None, RUNNERS),
    (S, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/merge", lambda s: {"target": s.other.id}, RUNNERS),
    (B, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/strike", None, PARTY),
    (B, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/strike", {"reason": "不符合规定"}, PARTY),
    (B, "POST", lambda s: f"/c/taoyuan/rounds/{s.round.id}/advance", {}, PARTY),
    (R, "GET", lambda s: f"/c/taoyuan/rounds/{s.round.id}/resolution", None, RUNNERS),
    (R, "POST", lambda s: f"/c/taoyuan/rounds/{s.round.id}/resolution",
     lambda s: {"funded": [str(s.proposal.id)], "note": "会议"}, RUNNERS),
    (R, "POST", lambda s: f"/c/taoyuan/rounds/{s.round.id}/advance", {}, set()),
    (P, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/objections", {"body": "有异议"}, RESIDENTS),
    (P, "GET", lambda s: f"/c/taoyuan/objections/{s.objection.id}/answer", None, RUNNERS),
    (P, "POST", lambda s: f"/c/taoyuan/objections/{s.objection.id}/answer", {"answer": "答复"}, RUNNERS),
    (IMPL, "GET", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/progress", None, RUNNERS),
    (IMPL, "POST", lambda s: f"/c/taoyuan/proposals/{s.proposal.id}/progress", {"body": "开工"}, RUNNERS),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("phase", "method", "url", "data", "allowed"), ROUTES,
                         ids=[f"{p.value}-{m}-{i}" for i, (p, m, *_rest) in enumerate(ROUTES)])
def test_route_access(client, world, as_user, role, phase, method, url, data, allowed):
    s = scene(world, phase)
    as_user(world.user(role))
    response = client.open(url(s), method=method, data=data(s) if callable(data) else data)
    assert_access(response, role, allowed)


def test_only_the_proposer_edits(client, world, as_user):
    s = scene(world, RoundPhase.collecting)
    as_user(s.proposal.proposer)
    assert client.get(f"/c/taoyuan/proposals/{s.proposal.id}/edit").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_only_residents_rate_completed_projects(client, world, as_user, role):
    s = scene(world, RoundPhase.implementing)
    services.post_progress(s.proposal, actor=world.secretary, body="完工", photos=[], completed=True)
    as_user(world.user(role))
    response = client.post(f"/c/taoyuan/proposals/{s.proposal.id}/rating", data={"stars": "5"})
    if role in RESIDENTS:
        assert response.status_code == 303
    else:
        assert response.status_code == (302 if role == "anonymous" else 403)


def test_routes_of_another_community_are_not_found(client, world, as_user):
    s = scene(world, RoundPhase.collecting)
    as_user(world.other_admin)
    assert client.get(f"/c/other/rounds/{s.round.id}").status_code == 404
    assert client.post(f"/c/other/rounds/{s.round.id}/advance").status_code == 404
    assert client.get(f"/c/other/proposals/{s.proposal.id}").status_code == 404
