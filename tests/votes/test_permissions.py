"""Every ballot route, every role."""

from __future__ import annotations

import pytest

from deliberation.proposals import services as round_services
from deliberation.proposals.models import RoundPhase
from deliberation.votes import services
from tests.access import assert_access
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "other_admin", "site_admin", "admin"]
EVERYONE = set(ROLES)
RUNNERS = {"secretary", "admin"}
RESIDENTS = {"resident", "secretary"}


def scene(world, *, closed: bool):
    proposer, _ = make_resident(world.community, login="proposer")
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, proposer)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    services.mark_paper_voter(round_, make_resident(world.community, login="on-paper")[0], actor=world.secretary)
    services.key_paper_sheet(round_, sheet="S1", choices=[proposal.id], operator=world.secretary)
    entry = services.paper_sheets(round_)[0].entries[0]
    if closed:
        services.key_paper_sheet(round_, sheet="S1", choices=[proposal.id], operator=world.admin)
        services.cast_ballot(round_, proposer, choices=[proposal.id])
        round_services.advance_round(round_, actor=world.secretary)
    return round_, proposal, entry


OPEN_ROUTES = [
    ("GET", "/vote", None, RESIDENTS),
    ("POST", "/vote/check", lambda p: {"choices": [p.id]}, RESIDENTS),
    ("POST", "/vote/confirm", lambda p: {"choices": [p.id]}, RESIDENTS),
    ("POST", "/vote/cast", lambda p: {"choices": [p.id]}, RESIDENTS),
    # Without a code kept in this browser's session for this voter: a redirect to the round, for anyone.
    ("GET", "/vote/receipt", None, EVERYONE - {"anonymous"}),
    ("POST", "/vote/receipt/noted", None, EVERYONE - {"anonymous"}),
    ("GET", "/paper", None, RUNNERS),
    ("POST", "/paper/voters", lambda p: {"voter-voter": "proposer"}, RUNNERS),
    ("POST", "/paper/sheets", lambda p: {"sheet-sheet": "S9", "sheet-choices": [p.id]}, RUNNERS),
    ("POST", "/paper/entries/{entry}/delete", None, RUNNERS),
    ("GET", "/paper/voters/{voter}/withdraw", None, RUNNERS),
    ("POST", "/paper/voters/{voter}/withdraw", lambda p: {"reason": "选票遗失，无法录入"}, RUNNERS),
    ("GET", "/turnout", None, EVERYONE),
    ("GET", "/ballot-rules", None, RUNNERS),
    ("GET", "/voting-close", None, RUNNERS),
    ("POST", "/voting-close", lambda p: {"closes_at": "2099-01-01T20:00"}, RUNNERS),
]
CLOSED_ROUTES = [
    ("GET", "/results", None, EVERYONE),
    ("GET", "/results.csv", None, EVERYONE),
    ("GET", "/results.xlsx", None, EVERYONE),
    ("GET", "/ballots", None, EVERYONE),
    ("POST", "/ballots", lambda p: {"code": "ABCD-EFGH-JKMN"}, EVERYONE),
    ("GET", "/ballots.csv", None, EVERYONE),
    ("GET", "/ballots.pb", None, EVERYONE),
    ("GET", "/results/override", None, RUNNERS),
    ("POST", "/results/override", lambda p: {"winners": [p.id], "reason": "议事会决定调整结果的理由"}, RUNNERS),
    ("GET", "/voting-close", None, set()),  # voting has closed: no one changes its planned close
]




@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "data", "allowed"), OPEN_ROUTES, ids=[r[1] + r[0] for r in OPEN_ROUTES])
def test_routes_while_voting(client, world, as_user, role, method, path, data, allowed):
    round_, proposal, entry = scene(world, closed=False)
    as_user(world.user(role))
    url = f"/c/taoyuan/rounds/{round_.id}" + path.format(entry=entry.id, voter=services.paper_voters(round_)[0].id)
    assert_access(client.open(url, method=method, data=data(proposal) if data else None), role, allowed)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "data", "allowed"), CLOSED_ROUTES,
                         ids=[r[1] + r[0] for r in CLOSED_ROUTES])
def test_routes_after_closing(client, world, as_user, role, method, path, data, allowed):
    round_, proposal, _entry = scene(world, closed=True)
    as_user(world.user(role))
    assert_access(client.open(f"/c/taoyuan/rounds/{round_.id}{path}", method=method, data=data(proposal) if data else None),
          role, allowed)


@pytest.mark.parametrize("role", ROLES)
def test_ballot_rules_can_be_saved_only_by_runners(client, world, as_user, role):
    round_ = make_round(world.community, world.secretary)
    as_user(world.user(role))
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/ballot-rules",
                           data={"max_approvals": "3", "counting_rule": "equal_shares", "must_fit_budget": "y"})
    assert_access(response, role, RUNNERS)
