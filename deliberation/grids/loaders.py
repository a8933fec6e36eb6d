"""Load the area's objects of the community at /c/<slug>, or 404."""

from __future__ import annotations

from flask import abort

from deliberation.communities.models import Community
from deliberation.extensions import db
from deliberation.grids.models import (
    Grid,
    GridPartyMember,
    GridWorker,
    HandlingUnit,
    ResidentRequest,
    UnitRepresentative,
)


def _in(obj, community: Community):
    if obj is None or obj.community_id != community.id:
        abort(404)
    return obj


def get_grid(community: Community, grid_id: int) -> Grid:
    return _in(db.session.get(Grid, grid_id), community)


def get_unit(community: Community, unit_id: int) -> HandlingUnit:
    return _in(db.session.get(HandlingUnit, unit_id), community)


def get_request(community: Community, request_id: int) -> ResidentRequest:
    return _in(db.session.get(ResidentRequest, request_id), community)


def get_worker(grid: Grid, worker_id: int) -> GridWorker:
    worker = db.session.get(GridWorker, worker_id)
    if worker is None or worker.grid_id != grid.id:
        abort(404)
    return worker


def get_party_member(grid: Grid, user_id: int) -> GridPartyMember:
    return db.get_or_404(GridPartyMember, (grid.id, user_id))


def get_representative(unit: HandlingUnit, user_id: int) -> UnitRepresentative:
    return db.get_or_404(UnitRepresentative, (unit.id, user_id))
