"""Demo ballots: web votes with realistic preferences and paper sheets keyed by two operators."""

from __future__ import annotations

import random

from deliberation.auth.models import User
from deliberation.proposals.models import BallotType, Round
from deliberation.votes import services


def cast_demo_ballots(round_: Round, voters: list[User], *, web: int, paper: int, operators: tuple[User, User],
                      seed: int, mismatch: bool = False) -> None:
    """`web` residents vote online, `paper` more on paper (two keyings each); choices fit the rules of any
    ballot type (ranked: `[id, rank]` pairs, cumulative: `[id, points]` pairs)."""
    rng = random.Random(seed)
    items = services.ballot_items(round_)
    popularity = {p.id: rng.uniform(0.15, 0.75) for p in items}

    def choices() -> list:
        picked = [p.id for p in items if rng.random() < popularity[p.id]]
        if round_.ballot_type == BallotType.ranked:  # best first: the more popular, the likelier on top
            picked.sort(key=lambda pid: -popularity[pid] * rng.random())
            return [[pid, rank] for rank, pid in enumerate(picked[:round_.max_approvals], start=1)]
        if round_.ballot_type == BallotType.cumulative:
            left, spread = round_.points_total, []
            for pid in sorted(picked, key=lambda pid: -popularity[pid] * rng.random()):
                points = min(left, rng.randint(1, round_.points_per_project))
                if points:
                    spread.append([pid, points])
                    left -= points
            return sorted(spread)
        while services.check_choices(round_, picked, items).problems:
            picked.pop(rng.randrange(len(picked)))
        return picked

    chosen_voters = rng.sample(voters, web + paper)
    for voter in chosen_voters[:web]:
        services.cast_ballot(round_, voter, choices=choices())
    first, second = operators
    for number, voter in enumerate(chosen_voters[web:], start=1):
        services.mark_paper_voter(round_, voter, actor=first)
        sheet, ticks = f"P-{number:04d}", choices()
        services.key_paper_sheet(round_, sheet=sheet, choices=ticks, operator=first)
        if mismatch and number == paper:
            ticks = ticks[1:] if ticks else [items[0].id]  # a keying error left for the secretary to resolve
        services.key_paper_sheet(round_, sheet=sheet, choices=ticks, operator=second)
