"""The three rates, checked against cases computed by hand (see the definitions in grids/rates.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from deliberation.extensions import db
from deliberation.grids import rates
from deliberation.grids import requests as handling
from deliberation.grids.rates import Rates
from tests.grids.factories import file

OCT = "2026-10"
NOV = "2026-11"


def at(day: int, hour: int = 2, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour)  # naive UTC; 02:00 UTC is 10:00 in Beijing


def handled(w, g, *, filed: datetime, answered: datetime | None, unit=True):
    req = file(w, now=filed)
    handling.sign(req, actor=g.worker, now=filed)
    if unit:
        handling.whistle(req, g.firm_unit, actor=g.worker, now=filed)
        handling.unit_sign(req, actor=g.firm_rep, now=filed)
    if answered is not None:
        handling.answer(req, actor=g.firm_rep if unit else g.worker, text="已处理", now=answered)
    return req


def scenario(w, g):
    """Five requests in 1栋 (the micro-grid), general class: 7 days to answer.
    A firm, in time, resolved 5★ · B firm, late, unresolved 2★ · C firm, in time, left unrated (tick closes it)
    D worker alone, filed late October so due in November, resolved 4★ · E firm, unanswered, due 5 November."""
    a = handled(w, g, filed=at(5), answered=at(6))
    handling.rate(a, resident=w.resident, resolved=True, satisfaction=5, now=at(8))
    b = handled(w, g, filed=at(10), answered=at(20))
    handling.rate(b, resident=w.resident, resolved=False, satisfaction=2, now=at(21))
    handled(w, g, filed=at(20), answered=at(22))
    handling.tick(now=at(30, 0))  # C answered 22 October, unrated for 7 days: closed unrated on the 30th
    d = handled(w, g, filed=at(28), answered=at(29), unit=False)
    handling.rate(d, resident=w.resident, resolved=True, satisfaction=4, now=at(30, 1))
    handled(w, g, filed=at(29), answered=None)
    db.session.flush()


def test_unit_and_grid_rates_of_a_month_match_the_hand_count(world, g):
    scenario(world, g)
    result = rates.ranking(g.community, OCT, now=at(31))
    firm = next(r for r in result.units if r.subject.id == g.firm_unit.id)
    # Deadlines in October: A, B, C (E is due in November); answered in time: A, C.
    # Closed in October: A, B, C (closed unrated counts); resolved: A; satisfied (4–5★): A.
    assert firm.rates == Rates(due=3, in_time=2, closed=3, resolved=1, satisfied=1)
    assert firm.rates.response == Fraction(2, 3)
    assert firm.rates.resolution == Fraction(1, 3) == firm.rates.satisfaction
    assert firm.rates.score == Fraction(1, 10) * Fraction(2, 3) + Fraction(9, 10) * Fraction(1, 3) == Fraction(11, 30)
    assert firm.rank == 1
    micro = next(r for r in result.grids if r.subject.id == g.micro.id)
    # The grid counts every request arising in it, the worker's own D included (closed in October).
    assert micro.rates == Rates(due=3, in_time=2, closed=4, resolved=2, satisfied=2)
    assert micro.rates.score == Fraction(1, 15) + Fraction(9, 20)
    street = next(r for r in result.units if r.subject.id == g.street.id)
    assert street.rates.empty and street.rank is None
    assert result.total == micro.rates


def test_a_deadline_still_ahead_counts_nowhere_and_a_passed_one_counts_as_missed(world, g):
    scenario(world, g)
    # 3 November: D (due 4 November) is answered, E (due 5 November) neither answered nor past due.
    early = rates.ranking(g.community, NOV, now=at(3, month=11))
    assert early.total.due == 1 and early.total.in_time == 1
    late = rates.ranking(g.community, NOV, now=at(10, month=11))
    assert late.total.due == 2 and late.total.response == Fraction(1, 2)
    firm = next(r for r in late.units if r.subject.id == g.firm_unit.id)
    assert firm.rates == Rates(due=1, in_time=0) and firm.rank is None  # nothing closed: not ranked


def test_months_are_beijing_months(world, g):
    # Due 31 October 15:30 UTC = 23:30 in Beijing: October. Closed 31 October 16:30 UTC = 1 November 00:30.
    req = handled(world, g, filed=datetime(2026, 10, 24, 15, 30), answered=datetime(2026, 10, 25))
    handling.rate(req, resident=world.resident, resolved=True, satisfaction=3, now=datetime(2026, 10, 31, 16, 30))
    db.session.flush()
    october = rates.ranking(g.community, OCT, now=at(20, month=11)).total
    assert october == Rates(due=1, in_time=1)
    november = rates.ranking(g.community, NOV, now=at(20, month=11)).total
    assert november == Rates(closed=1, resolved=1, satisfied=0)  # 3★ is not satisfied


def test_trend_has_every_month_oldest_first(world, g):
    scenario(world, g)
    result = rates.ranking(g.community, NOV, trend_months=3, now=at(10, month=11))
    assert result.months == ["2026-09", OCT, NOV]
    firm = next(r for r in result.units if r.subject.id == g.firm_unit.id)
    assert [m for m, _r in firm.trend] == ["2026-09", OCT, NOV]
    assert firm.trend[0][1] == Rates() and firm.trend[1][1].closed == 3


def test_ties_share_a_place_and_more_requests_come_first(world, g):
    for day in (1, 3):
        req = handled(world, g, filed=at(day), answered=at(day + 1))
        handling.rate(req, resident=world.resident, resolved=True, satisfaction=5, now=at(day + 2))
    req = file(world, now=at(5))
    handling.sign(req, actor=g.worker, now=at(5))
    handling.whistle(req, g.street, actor=g.worker, now=at(5))
    handling.unit_sign(req, actor=g.street_rep, now=at(5))
    handling.answer(req, actor=g.street_rep, text="已清理", now=at(6))
    handling.rate(req, resident=world.resident, resolved=True, satisfaction=4, now=at(7))
    db.session.flush()
    units = rates.ranking(g.community, OCT, now=at(31)).units
    assert [(r.subject.id, r.rank) for r in units] == [(g.firm_unit.id, 1), (g.street.id, 1)]
    assert units[0].rates.score == units[1].rates.score == 1


def test_percent_rounds_half_up_exactly():
    assert rates.percent(Fraction(2, 3)) == "66.7%"
    assert rates.percent(Fraction(1, 8)) == "12.5%"
    assert rates.percent(Fraction(1, 2000)) == "0.1%"
    assert rates.percent(Fraction(1)) == "100.0%"
    assert rates.percent(None) == "—"


def test_month_helpers():
    assert rates.months_ending("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert rates.month_start("2026-01") == datetime(2025, 12, 31, 16)
    assert rates.month_of(datetime(2026, 1, 31, 16)) == "2026-02"
    assert rates.valid_month("2026-12") and not rates.valid_month("2026-13") and not rates.valid_month("x")
    assert rates.month_start("2026-03") - rates.month_start("2026-02") == timedelta(days=28)
