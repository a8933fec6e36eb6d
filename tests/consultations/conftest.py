import pytest

from tests.councils.factories import make_council


@pytest.fixture
def council(world):
    """A 15-member council whose first member is the plain `resident` of the world."""
    return make_council(world.community, world.admin, members=15, seat_users=[world.resident])
