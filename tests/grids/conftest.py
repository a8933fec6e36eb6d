from __future__ import annotations

import pytest

from tests.grids.factories import Grids, make_grids


@pytest.fixture
def g(world) -> Grids:
    return make_grids(world)
