import pytest

from tests.factories import make_resident

from .factories import make_proposal, make_round


@pytest.fixture
def neighbour(world):
    user, _ = make_resident(world.community, login="neighbour")
    return user


@pytest.fixture
def round_(world):
    return make_round(world.community, world.secretary)


@pytest.fixture
def proposal(world, round_):
    return make_proposal(round_, world.resident)
