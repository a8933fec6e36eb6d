"""The comparison step of "equalshares/add1-comparison", as used in Wieliczka (2023).

Definition (Pabulib's rule list and its checker, `pabulib-checker`, comparison mode
"satisfaction"; equalshares.net describes the same final step): after Equal Shares with add-one
completion, the plain greedy outcome (by score, from scratch, not a completion of Equal Shares) is
computed too. Every voter compares the two outcomes by how many of the projects they supported
each funds. If more voters prefer the greedy outcome than prefer the Equal Shares outcome, the
greedy outcome is used; otherwise (a tie included) Equal Shares is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from .explain import COMPARISON, Outcome, Step


def compare_with_greedy(mes: Outcome, greedy: Outcome, supports: Sequence[frozenset[str]]) -> Outcome:
    """The kept outcome, its steps opened by a COMPARISON step with both voter counts."""
    mes_won, greedy_won = set(mes.winners), set(greedy.winners)
    prefer_mes = prefer_greedy = 0
    for ballot in supports:
        a, b = len(ballot & mes_won), len(ballot & greedy_won)
        if a > b:
            prefer_mes += 1
        elif b > a:
            prefer_greedy += 1
    kept = greedy if prefer_greedy > prefer_mes else mes
    step = Step(kind=COMPARISON, remaining_before=kept.remaining, remaining_after=kept.remaining,
                prefer_equal_shares=prefer_mes, prefer_greedy=prefer_greedy,
                kept="greedy" if kept is greedy else "equal_shares")
    return dataclasses.replace(kept, rule=mes.rule, steps=[step, *kept.steps])
