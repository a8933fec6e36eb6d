import pytest

from deliberation.proposals.models import RoundPhase
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to


@pytest.fixture
def voting(world):
    """A round in voting with three projects (costs 60k, 50k, 30k) and a 100k budget."""
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    proposer, _ = make_resident(world.community, login="proposer")
    items = [make_proposal(round_, proposer, title=t, cost=c)
             for t, c in [("坡道", 60_000), ("座椅", 50_000), ("路灯", 30_000)]]
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    return round_, items


@pytest.fixture
def voters(world):
    return [make_resident(world.community, login=f"voter{i}")[0] for i in range(6)]
