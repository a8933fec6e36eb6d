"""Score arithmetic of an evaluation: pure functions on Decimals, no Flask and no database.

The total is the resident-satisfaction part (survey, on a 0–100 scale) times its weight plus each
criterion's score (0–100, set by the Party branch) times its weight, divided by 100; the weights
of a rubric add up to 100 (satisfaction 30 + management criteria 40 + comprehensive criteria 30 by
default, as in DESIGN.md). Every published figure is rounded once, to one decimal, half up; the
grade is read from the rounded total, so 89.95 shows as 90.0 and is 优秀.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)
RATING_MIN, RATING_MAX = 1, 5
# A 1–5 answer counts as 20–100 points (非常满意 100, 满意 80, 一般 60, 不满意 40, 非常不满意 20).
POINTS_PER_RATING_STEP = Decimal(20)


class Grade(enum.StrEnum):
    excellent = "excellent"  # 优秀
    good = "good"  # 良好
    passing = "pass"  # 合格
    failing = "fail"  # 不合格


# Lower bound of each grade, highest first.
GRADE_BANDS: tuple[tuple[Decimal, Grade], ...] = (
    (Decimal(90), Grade.excellent),
    (Decimal(80), Grade.good),
    (Decimal(60), Grade.passing),
)


class ScoringError(ValueError):
    """Input that cannot be scored (a weight or score out of range, a missing criterion)."""


def round_half_up(value: Decimal) -> Decimal:
    """One decimal, half up: 89.95 → 90.0, 89.94 → 89.9."""
    return Decimal(value).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def grade_for(total: Decimal) -> Grade:
    """The grade of a (rounded) total: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, 不合格 below."""
    for lower, grade in GRADE_BANDS:
        if total >= lower:
            return grade
    return Grade.failing


@dataclass(frozen=True)
class WeightedItem:
    """One criterion of a rubric as the arithmetic sees it."""

    key: int
    weight: int
    part: str = "management"


@dataclass(frozen=True)
class ScoreResult:
    total: Decimal
    grade: Grade
    satisfaction_points: Decimal  # contribution of the survey to the total (before rounding the total)
    parts: dict[str, Decimal]  # contribution of each part of the rubric, rounded for display


def check_weights(satisfaction_weight: int, items: Sequence[WeightedItem]) -> None:
    """Weights are whole numbers from 0 to 100 that add up to exactly 100."""
    weights = [satisfaction_weight, *(item.weight for item in items)]
    if any(not isinstance(w, int) or w < 0 or w > 100 for w in weights):
        raise ScoringError("weights must be whole numbers from 0 to 100")
    if sum(weights) != 100:
        raise ScoringError(f"weights add up to {sum(weights)}, not 100")


def parse_score(raw: str | Decimal | int | None) -> Decimal | None:
    """A score typed by a person: blank → None; otherwise 0–100 with at most one decimal."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = Decimal(str(raw).strip().replace("，", ".").replace("。", "."))
    except ArithmeticError as error:
        raise ScoringError("not a number") from error
    if not value.is_finite() or value < 0 or value > HUNDRED:
        raise ScoringError("out of range")
    if value != value.quantize(ONE_DECIMAL):
        raise ScoringError("more than one decimal")
    return value.quantize(ONE_DECIMAL)


def compute_total(items: Sequence[WeightedItem], scores: Mapping[int, Decimal], *, satisfaction_weight: int,
                  satisfaction_score: Decimal | None) -> ScoreResult:
    """Weighted total and grade; every criterion needs a score, and the survey one if its weight is not 0."""
    check_weights(satisfaction_weight, items)
    missing = [item.key for item in items if scores.get(item.key) is None]
    if missing:
        raise ScoringError(f"criteria without a score: {missing}")
    unknown = set(scores) - {item.key for item in items}
    if unknown:
        raise ScoringError(f"scores for criteria not in the rubric: {sorted(unknown)}")
    if satisfaction_weight and satisfaction_score is None:
        raise ScoringError("the satisfaction score is missing")
    for value in [*scores.values(), satisfaction_score or Decimal(0)]:
        if value < 0 or value > HUNDRED:
            raise ScoringError("a score is out of range 0–100")

    satisfaction_points = (satisfaction_score or Decimal(0)) * satisfaction_weight / HUNDRED
    parts: dict[str, Decimal] = {"satisfaction": satisfaction_points}
    for item in items:
        parts[item.part] = parts.get(item.part, Decimal(0)) + Decimal(scores[item.key]) * item.weight / HUNDRED
    raw_total = sum(parts.values(), Decimal(0))
    total = round_half_up(raw_total)
    return ScoreResult(total=total, grade=grade_for(total), satisfaction_points=satisfaction_points,
                       parts={name: round_half_up(value) for name, value in parts.items()})


@dataclass(frozen=True)
class SurveyAggregate:
    responses: int
    score: Decimal | None  # 0–100, one decimal; None without answers
    per_item: dict[int, Decimal]  # criterion key → mean rating (1–5), one decimal


def aggregate_survey(ratings: Iterable[tuple[int, int]], *, responses: int) -> SurveyAggregate:
    """Aggregate (criterion key, rating 1–5) pairs: mean rating × 20 over every answer given.

    Only the aggregate leaves this function; a resident's individual answers never do.
    """
    return aggregate_from_counts(((key, rating, 1) for key, rating in ratings), responses=responses)


def aggregate_from_counts(counts: Iterable[tuple[int, int, int]], *, responses: int) -> SurveyAggregate:
    """The same aggregate from (criterion key, rating, how many) rows, as a GROUP BY returns them."""
    total = 0
    count = 0
    per_item_sum: dict[int, int] = {}
    per_item_count: dict[int, int] = {}
    for key, rating, n in counts:
        if not RATING_MIN <= rating <= RATING_MAX:
            raise ScoringError(f"rating {rating} is not from {RATING_MIN} to {RATING_MAX}")
        total += rating * n
        count += n
        per_item_sum[key] = per_item_sum.get(key, 0) + rating * n
        per_item_count[key] = per_item_count.get(key, 0) + n
    if not count:
        return SurveyAggregate(responses=responses, score=None, per_item={})
    score = round_half_up(Decimal(total) * POINTS_PER_RATING_STEP / count)
    per_item = {key: round_half_up(Decimal(per_item_sum[key]) / per_item_count[key]) for key in per_item_sum}
    return SurveyAggregate(responses=responses, score=score, per_item=per_item)


def needs_review(grades_newest_first: Sequence[Grade]) -> bool:
    """Two consecutive 不合格 (the two most recent evaluated periods) call for a review of the contract or term."""
    return len(grades_newest_first) >= 2 and all(g == Grade.failing for g in grades_newest_first[:2])


def turnout_percent(responses: int, eligible: int) -> Decimal | None:
    """Share of eligible residents who answered, in percent with one decimal."""
    if eligible <= 0:
        return None
    return round_half_up(Decimal(responses) * HUNDRED / eligible)
