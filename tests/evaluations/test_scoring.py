"""The score arithmetic: weights, rounding (one decimal, half up), grade bands, survey aggregation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from deliberation.evaluations import chart
from deliberation.evaluations.rubrics import DEFAULT_RUBRICS
from deliberation.evaluations.scoring import (
    Grade,
    ScoringError,
    WeightedItem,
    aggregate_from_counts,
    aggregate_survey,
    compute_total,
    grade_for,
    needs_review,
    parse_score,
    round_half_up,
    turnout_percent,
)

D = Decimal


@pytest.mark.parametrize("raw,rounded,grade", [
    ("89.95", "90.0", Grade.excellent),
    ("89.94", "89.9", Grade.good),
    ("90", "90.0", Grade.excellent),
    ("79.95", "80.0", Grade.good),
    ("79.949", "79.9", Grade.passing),
    ("59.95", "60.0", Grade.passing),
    ("59.94", "59.9", Grade.failing),
    ("0", "0.0", Grade.failing),
    ("100", "100.0", Grade.excellent),
])
def test_rounding_half_up_then_grade_at_band_edges(raw, rounded, grade):
    assert round_half_up(D(raw)) == D(rounded)
    assert grade_for(round_half_up(D(raw))) == grade


def test_half_up_is_not_bankers_rounding():
    # Python's default (half even) would give 0.2 for 0.25 and 89.8 for 89.85.
    assert round_half_up(D("0.25")) == D("0.3")
    assert round_half_up(D("89.85")) == D("89.9")


def test_a_weighted_total_of_89_95_is_published_as_90_0_excellent():
    items = [WeightedItem(1, 50), WeightedItem(2, 50)]
    result = compute_total(items, {1: D("89.9"), 2: D("90.0")}, satisfaction_weight=0, satisfaction_score=None)
    assert result.total == D("90.0") and result.grade == Grade.excellent


def test_a_weighted_total_of_89_94_stays_good():
    items = [WeightedItem(1, 60), WeightedItem(2, 40)]
    # 0.6 × 89.9 + 0.4 × 90.0 = 53.94 + 36.0 = 89.94
    result = compute_total(items, {1: D("89.9"), 2: D("90.0")}, satisfaction_weight=0, satisfaction_score=None)
    assert result.total == D("89.9") and result.grade == Grade.good


def test_satisfaction_30_management_40_comprehensive_30():
    items = [WeightedItem(1, 25, "management"), WeightedItem(2, 15, "management"), WeightedItem(3, 30, "comprehensive")]
    result = compute_total(items, {1: D(80), 2: D(60), 3: D(90)}, satisfaction_weight=30, satisfaction_score=D(70))
    # 0.3 × 70 + 0.25 × 80 + 0.15 × 60 + 0.3 × 90 = 21 + 20 + 9 + 27 = 77
    assert result.total == D("77.0") and result.grade == Grade.passing
    assert result.parts == {"satisfaction": D("21.0"), "management": D("29.0"), "comprehensive": D("27.0")}


@pytest.mark.parametrize("weights", [(30, 40, 29), (30, 40, 31), (0, 0, 0), (-10, 60, 50), (101, 0, -1)])
def test_weights_must_be_whole_and_add_up_to_100(weights):
    satisfaction, a, b = weights
    with pytest.raises(ScoringError):
        compute_total([WeightedItem(1, a), WeightedItem(2, b)], {1: D(80), 2: D(80)}, satisfaction_weight=satisfaction,
                      satisfaction_score=D(80))


def test_a_missing_criterion_cannot_be_scored():
    items = [WeightedItem(1, 50), WeightedItem(2, 50)]
    with pytest.raises(ScoringError, match="without a score"):
        compute_total(items, {1: D(80)}, satisfaction_weight=0, satisfaction_score=None)


def test_a_score_for_an_unknown_criterion_is_refused():
    with pytest.raises(ScoringError, match="not in the rubric"):
        compute_total([WeightedItem(1, 100)], {1: D(80), 9: D(80)}, satisfaction_weight=0, satisfaction_score=None)


def test_the_survey_result_is_needed_when_it_has_a_weight():
    with pytest.raises(ScoringError, match="satisfaction"):
        compute_total([WeightedItem(1, 70)], {1: D(80)}, satisfaction_weight=30, satisfaction_score=None)


@pytest.mark.parametrize("score", [D("100.1"), D("-0.1")])
def test_scores_out_of_range_are_refused(score):
    with pytest.raises(ScoringError):
        compute_total([WeightedItem(1, 100)], {1: score}, satisfaction_weight=0, satisfaction_score=None)


@pytest.mark.parametrize("raw,expected", [("85", D("85.0")), ("85.5", D("85.5")), (" 100 ", D("100.0")),
                                          ("0", D("0.0")), ("", None), (None, None), ("７５", D("75.0"))])
def test_parse_score_accepts(raw, expected):
    assert parse_score(raw) == expected


@pytest.mark.parametrize("raw", ["101", "-1", "85.55", "abc", "NaN", "Infinity", "1e3"])
def test_parse_score_refuses(raw):
    with pytest.raises(ScoringError):
        parse_score(raw)


def test_survey_aggregate_is_the_mean_rating_times_20():
    result = aggregate_survey([(1, 5), (1, 4), (2, 3)], responses=2)
    assert result.score == D("80.0")
    assert result.per_item == {1: D("4.5"), 2: D("3.0")}
    assert result.responses == 2


def test_survey_aggregate_rounds_half_up_once():
    # (5 + 5 + 4) / 3 × 20 = 93.333…
    assert aggregate_survey([(1, 5), (1, 5), (1, 4)], responses=3).score == D("93.3")
    # (79 × 4 + 3) / 80 = 3.9875; × 20 = 79.75 → 79.8 (half up, not half even)
    ratings = [(1, 4)] * 79 + [(1, 3)]
    assert aggregate_survey(ratings, responses=80).score == D("79.8")


def test_survey_aggregate_from_grouped_counts_matches():
    counts = [(1, 5, 3), (1, 2, 1), (2, 4, 4)]
    grouped = aggregate_from_counts(counts, responses=4)
    flat = aggregate_survey([(1, 5)] * 3 + [(1, 2)] + [(2, 4)] * 4, responses=4)
    assert grouped == flat and grouped.score == D("82.5")  # 33 / 8 × 20


def test_a_survey_without_answers_has_no_score():
    assert aggregate_survey([], responses=0).score is None


@pytest.mark.parametrize("rating", [0, 6])
def test_survey_ratings_outside_1_to_5_are_refused(rating):
    with pytest.raises(ScoringError):
        aggregate_survey([(1, rating)], responses=1)


@pytest.mark.parametrize("grades,expected", [
    ([Grade.failing, Grade.failing], True),
    ([Grade.failing, Grade.failing, Grade.good], True),
    ([Grade.failing, Grade.passing, Grade.failing], False),
    ([Grade.passing, Grade.failing, Grade.failing], False),
    ([Grade.failing], False),
    ([], False),
])
def test_two_consecutive_fails_call_for_a_review(grades, expected):
    assert needs_review(grades) is expected


def test_turnout_percent():
    assert turnout_percent(2, 3) == D("66.7")
    assert turnout_percent(0, 0) is None


@pytest.mark.parametrize("kind,names", [
    ("property_firm", ["安全管理", "环境卫生", "绿化养护", "设施设备维护", "秩序维护", "服务态度与投诉处理", "收费与公示"]),
    ("owner_committee", ["依法履职", "财务公开", "议事规范", "沟通回应", "维修资金管理"]),
])
def test_default_rubrics_ship_the_expected_criteria_weighted_to_100(kind, names):
    rubric = DEFAULT_RUBRICS[kind]
    assert [c.name for c in rubric.criteria] == names
    assert rubric.satisfaction_weight == 30
    assert rubric.satisfaction_weight + sum(c.weight for c in rubric.criteria) == 100
    by_part = {}
    for c in rubric.criteria:
        by_part[c.part] = by_part.get(c.part, 0) + c.weight
    assert by_part == {"management": 40, "comprehensive": 30}
    assert all(all(band for band in c.bands) for c in rubric.criteria)
    assert any(c.resident_facing for c in rubric.criteria)


def test_chart_places_periods_left_to_right_and_higher_totals_higher():
    result = chart.history_chart([("2026-Q1", D("92.0"), "excellent"), ("2026-Q2", D("55.0"), "fail")])
    first, second = result.points
    assert first.x < second.x and first.y < second.y
    assert chart.history_chart([("2026-Q1", D("100"), "excellent")]).points[0].y == chart.TOP
    assert result.polyline.count(",") == 2


def test_chart_labels_every_other_period_when_there_are_many_and_always_the_newest():
    history = [(f"20{25 + i // 4}-Q{i % 4 + 1}", D(80), "good") for i in range(8)]
    labelled = [p.show_period for p in chart.history_chart(history).points]
    assert labelled[-1] and labelled.count(True) == 4
    assert all(p.show_period for p in chart.history_chart(history[:6]).points)
