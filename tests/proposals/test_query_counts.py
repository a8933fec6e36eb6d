"""The proposal list and the notice board run a fixed number of queries: 10 or 200 proposals."""

from __future__ import annotations

import pytest

from deliberation.proposals import services
from deliberation.proposals.models import RoundPhase
from tests.factories import make_resident

from .factories import jpeg_bytes, make_proposal, make_round, move_to


def fill(world, round_, n: int) -> None:
    for i in range(n):
        proposer, _ = make_resident(world.community)
        proposal = make_proposal(round_, proposer, title=f"项目{i}", photos=[jpeg_bytes(size=(8, 8))] if i % 3 == 0 else [])
        services.add_comment(proposal, proposer, body="说明")


@pytest.mark.parametrize("path", ["/c/taoyuan/rounds/{id}", "/c/taoyuan/rounds/{id}?sort=supported&q=项目",
                                  "/c/taoyuan"])
def test_list_and_notice_board_query_count_is_constant(client, world, round_, count_queries, path):
    counts = []
    for total in (10, 200):
        fill(world, round_, total - (10 if counts else 0))
        with count_queries() as counter:
            response = client.get(path.format(id=round_.id))
        assert response.status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


def test_notice_board_with_publicity_and_decisions_is_constant(client, world, count_queries):
    counts = []
    for n in (10, 190):  # a second round brings the total to 200 proposals in publicity
        round_ = make_round(world.community, world.secretary, budget=100_000_000, project_cap=500_000)
        fill(world, round_, n)
        move_to(round_, RoundPhase.publicity, world.secretary, party=world.party)
        with count_queries() as counter:
            page = client.get("/c/taoyuan").get_data(as_text=True)
        assert "项目9" in page
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
