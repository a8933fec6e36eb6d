"""The rates' monthly roll-up stays equal to a recount from the requests, whatever the steps."""

from __future__ import annotations

import contextlib
import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest
from sqlalchemy import and_, case, func, select, update

from deliberation.core.errors import DomainError
from deliberation.extensions import db
from deliberation.grids import rates, rollup
from deliberation.grids import requests as handling
from deliberation.grids.models import DeadlineClass, RateMonth, ResidentRequest
from deliberation.grids.rates import Rates
from tests.grids.factories import file

MONTHS = ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]


def counted_from_requests(community, months, key, now):
    """The rates' definitions counted straight from the requests (the statements the ranking ran before
    the roll-up existed): the oracle the roll-up must agree with."""
    r = ResidentRequest
    result = defaultdict(Rates)

    def bucket(column):
        return case(*[(column < rates.month_start(rates.shift(m, 1)), m) for m in months], else_=None)

    def window(column):
        return and_(column >= rates.month_start(months[0]), column < rates.month_start(rates.shift(months[-1], 1)))

    answered = and_(r.answered_at.is_not(None), r.answered_at <= r.due_at)
    due_month = bucket(r.due_at).label("month")
    for value, month, count, in_time in db.session.execute(
            select(key, due_month, func.count(), func.sum(case((answered, 1), else_=0)))
            .where(r.community_id == community.id, window(r.due_at), r.answered_at.is_not(None) | (r.due_at <= now))
            .group_by(key, due_month)):
        result[(value, month)] += Rates(due=count, in_time=int(in_time or 0))
    closed_month = bucket(r.closed_at).label("month")
    for value, month, count, resolved, satisfied in db.session.execute(
            select(key, closed_month, func.count(), func.sum(case((r.resolved.is_(True), 1), else_=0)),
                   func.sum(case((r.satisfaction >= 4, 1), else_=0)))
            .where(r.community_id == community.id, r.closed_at.is_not(None), window(r.closed_at))
            .group_by(key, closed_month)):
        result[(value, month)] += Rates(closed=count, resolved=int(resolved or 0), satisfied=int(satisfied or 0))
    return {k: v for k, v in result.items() if k[0] is not None and not v.empty}


def nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if not v.empty}


def random_history(w, g, rng: random.Random, requests: int = 30) -> None:
    """Requests taken through random steps in a random order, refused steps included, then the tick."""
    units = [g.firm_unit, g.street]
    reps = {g.firm_unit.id: g.firm_rep, g.street.id: g.street_rep}
    for _ in range(requests):
        t = datetime(2026, 8, 20) + timedelta(hours=rng.randrange(0, 24 * 100))
        req = file(w, now=t, building_name=rng.choice(["1栋", "A座"]))
        t += timedelta(hours=rng.randrange(1, 12))
        handling.sign(req, actor=g.worker, now=t)
        for _step in range(rng.randrange(0, 3)):  # whistled, maybe on to the other unit, maybe refused
            unit = rng.choice(units)
            t += timedelta(hours=rng.randrange(1, 48))
            with contextlib.suppress(DomainError):
                handling.whistle(req, unit, actor=g.worker, now=t)
        if rng.random() < 0.4:
            with contextlib.suppress(DomainError):
                handling.reclassify(req, rng.choice(list(DeadlineClass)), actor=g.worker, now=t)
        if req.handling_unit_id is not None:
            handling.unit_sign(req, actor=reps[req.handling_unit_id], now=t)
        if rng.random() < 0.15:
            continue  # never answered: a missed deadline, counted live
        t += timedelta(hours=rng.randrange(1, 24 * 20))
        handling.answer(req, actor=g.worker, text="已处理", now=t)
        if rng.random() < 0.3:
            with contextlib.suppress(DomainError):  # a second answer is refused and changes nothing
                handling.answer(req, actor=g.worker, text="再次", now=t)
        roll = rng.random()
        t += timedelta(hours=rng.randrange(1, 24 * 6))
        if roll < 0.45:
            handling.rate(req, resident=w.resident, resolved=rng.random() < 0.7, satisfaction=rng.randint(1, 5), now=t)
        elif roll < 0.7:
            handling.record_callback(req, actor=w.admin, resolved=rng.random() < 0.5,
                                     satisfaction=rng.randint(1, 5), now=t)
        # else: left unrated, for the tick to close
    for day in (datetime(2026, 10, 1), datetime(2026, 11, 3), datetime(2026, 12, 20), datetime(2026, 12, 20)):
        handling.tick(now=day)
    db.session.flush()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_roll_up_equals_a_recount_after_random_steps(world, g, seed):
    random_history(world, g, random.Random(seed))
    stored = rollup.stored(g.community.id)
    assert stored and stored == rollup.recount(g.community.id)
    for now in (datetime(2026, 9, 15), datetime(2026, 11, 20), datetime(2027, 1, 10)):
        by_unit, by_grid = rates.tally(g.community, MONTHS, now=now)
        r = ResidentRequest
        assert nonzero(by_unit) == counted_from_requests(g.community, MONTHS, r.handling_unit_id, now)
        assert nonzero(by_grid) == counted_from_requests(g.community, MONTHS, r.grid_id, now)


def test_rebuild_rates_repairs_a_roll_up_written_around(app, world, g):
    random_history(world, g, random.Random(7), requests=12)
    db.session.commit()
    expected = rollup.stored(g.community.id)
    # Rows lost and a count changed by hand: the ranking would be wrong until the repair.
    db.session.execute(update(RateMonth).where(RateMonth.unit_id.is_not(None)).values(due=RateMonth.due + 5))
    first = db.session.scalars(select(RateMonth).where(RateMonth.grid_id.is_not(None))).first()
    db.session.delete(first)
    db.session.commit()
    assert rollup.stored(g.community.id) != expected
    result = app.test_cli_runner().invoke(args=["requests", "rebuild-rates", "--community", g.community.slug])
    assert result.exit_code == 0, result.output
    assert "taoyuan:" in result.output and " 0 " not in result.output
    db.session.expire_all()
    assert rollup.stored(g.community.id) == expected == rollup.recount(g.community.id)
    again = app.test_cli_runner().invoke(args=["requests", "rebuild-rates"])
    assert again.exit_code == 0 and "taoyuan: 0 roll-up rows corrected." in again.output


def test_rebuild_rates_refuses_an_unknown_community(app, world):
    result = app.test_cli_runner().invoke(args=["requests", "rebuild-rates", "--community", "nowhere"])
    assert result.exit_code != 0
