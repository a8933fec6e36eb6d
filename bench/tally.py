"""Benchmark: our counting rules against pabutools 1.2.3 on real Pabulib elections, in one run.

For Assen (84 voters), Swiecie (2,553) and Wieliczka (6,586) it times, ours against pabutools:
* greedy: pabutools' `greedy_utilitarian_welfare` (Cost_Sat, ties by cost then id, as in
  tests/tally/test_oracle_pabutools.py);
* equalshares/add1: `method_of_equal_shares(..., sat_class=Cost_Sat, voter_budget_increment=1)`;
* equalshares/add1-comparison: `exhaustion_by_budget_increase(method_of_equal_shares (Cost_Sat),
  exhaustive_stop=False, budget_step=n)`, then greedy and the comparison step (as in
  tests/tally/test_oracle_variants.py);
* equalshares-points/add1: `method_of_equal_shares(..., sat_class=Cardinality_Sat,
  voter_budget_increment=1)`: on approval ballots a voter's points are 1 per approved project,
  which is Cardinality_Sat;
and prints both times, the ratio pabutools / ours, and whether the winners are the same (same
projects in the same order; the same set for add1-comparison, whose pabutools list order can
differ). Ours is timed as the best of --repeat calls (it is fast), pabutools once (several
minutes in all); parsing is excluded from both. The target is every equal-shares variant at least
20 times faster than pabutools on Swiecie and Wieliczka: it is reported as PASS/FAIL, never
asserted, as timings on a shared machine are noisy. Winners of the rule each file really used
are also checked against its `selected` column. The exit status is non-zero only if some winners
differ.

Run from the repository root: python bench/tally.py [--repeat N] [--elections Assen Swiecie ...]
[--rules greedy equalshares/add1 ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliberation.tally import PbElection, count, project_id_key, read_pb  # noqa: E402

FILES = {
    "Assen": "Netherlands_Assen_2024.pb",
    "Swiecie": "Poland_Swiecie_2023.pb",
    "Wieliczka": "Poland_Wieliczka_2023_Green_Budget.pb",
}
RULE_NAMES = ("greedy", "equalshares/add1", "equalshares/add1-comparison", "equalshares-points/add1")
SAME_SET_ONLY = {"equalshares/add1-comparison"}
TARGET = 20.0
"""Every equal-shares variant must be at least this many times faster than pabutools..."""
TARGET_ELECTIONS = {"Swiecie", "Wieliczka"}
"""... on these elections."""


def pabulib_dir() -> Path:
    """The elections the tests carry (tests/data/pabulib)."""
    return Path(__file__).resolve().parents[1] / "tests" / "data" / "pabulib"


def best_time(action: Callable[[], list[str]], repeat: int) -> tuple[float, list[str]]:
    """Smallest wall time over `repeat` calls, with the result of the last one."""
    best, result = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def our_rules(election: PbElection) -> dict[str, Callable[[], list[str]]]:
    """Our rules on a parsed election, returning the winners in selection order."""
    instance, ballots = election.instance, election.ballots

    def rule(name: str) -> Callable[[], list[str]]:
        return lambda: count(instance.budget, instance.projects, ballots, rule=name).winners

    return {name: rule(name) for name in RULE_NAMES}


def pabutools_rules(path: Path) -> dict[str, Callable[[], list[str]]]:
    """pabutools' counterparts on a file (parsed here, outside the timing)."""
    from pabutools.election import Cardinality_Sat, Cost_Sat, parse_pabulib
    from pabutools.rules import (
        exhaustion_by_budget_increase,
        greedy_utilitarian_welfare,
        method_of_equal_shares,
    )
    from pabutools.tiebreaking import TieBreakingRule, lexico_tie_breaking

    instance, profile = parse_pabulib(str(path))
    # With Cost_Sat, greedy_utilitarian_welfare ranks by approvals; ties as in our greedy.
    ties = TieBreakingRule(lambda _instance, _profile, project: (project.cost,
                                                                 project_id_key(project.name)))
    n = profile.num_ballots()

    def run_greedy() -> list[str]:
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=ties)
        return [p.name for p in chosen]

    def run_mes() -> list[str]:
        chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat,
                                        voter_budget_increment=1)
        return [p.name for p in chosen]

    def run_comparison() -> list[str]:
        # Past every voter holding the largest cost, nothing changes: bound the search there.
        bound = instance.budget_limit + n * (max(p.cost for p in instance) + 2)
        mes = [p.name for p in exhaustion_by_budget_increase(
            instance, profile, method_of_equal_shares,
            {"sat_class": Cost_Sat, "tie_breaking": lexico_tie_breaking},
            exhaustive_stop=False, budget_step=n, budget_bound=bound)]
        greedy = run_greedy()
        approved = [{p.name for p in ballot} for ballot in profile]
        prefer_mes = sum(len(b & set(mes)) > len(b & set(greedy)) for b in approved)
        prefer_greedy = sum(len(b & set(greedy)) > len(b & set(mes)) for b in approved)
        return greedy if prefer_greedy > prefer_mes else mes

    def run_points() -> list[str]:
        chosen = method_of_equal_shares(instance, profile, sat_class=Cardinality_Sat,
                                        voter_budget_increment=1)
        return [p.name for p in chosen]

    return {"greedy": run_greedy, "equalshares/add1": run_mes,
            "equalshares/add1-comparison": run_comparison, "equalshares-points/add1": run_points}


def main() -> int:
    """Run the benchmark; non-zero exit if any winners disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="calls of our rules (best is kept)")
    parser.add_argument("--elections", nargs="+", choices=list(FILES), default=list(FILES))
    parser.add_argument("--rules", nargs="+", choices=list(RULE_NAMES), default=list(RULE_NAMES))
    args = parser.parse_args()
    try:
        import pabutools  # noqa: F401
    except ImportError:
        print("pabutools is not importable: install requirements-dev.txt (pabutools==1.2.3)")
        return 2
    folder = pabulib_dir()
    ok = True
    verdicts: list[str] = []
    print(f"{'election':<10} {'voters':>6} {'rule':<28} {'ours (s)':>9} {'pabutools (s)':>13} "
          f"{'ratio':>8}  winners")
    for label in args.elections:
        path = folder / FILES[label]
        election = read_pb(path)
        ours, theirs = our_rules(election), pabutools_rules(path)
        for rule in args.rules:
            our_seconds, our_winners = best_time(ours[rule], args.repeat)
            their_seconds, their_winners = best_time(theirs[rule], 1)
            if rule in SAME_SET_ONLY:
                same = set(our_winners) == set(their_winners)
                note = f"same {len(our_winners)} projects" if same else "DIFFERENT"
            else:
                same = our_winners == their_winners
                note = f"same {len(our_winners)} in the same order" if same else "DIFFERENT"
            if not same:
                note += f": ours {our_winners}, pabutools {their_winners}"
            ok &= same
            ratio = their_seconds / our_seconds
            if rule == election.meta.get("rule"):
                matches = set(our_winners) == election.selected_ids
                ok &= matches
                note += "; matches `selected`" if matches else "; DIFFERS from `selected`"
            if rule.startswith("equalshares") and label in TARGET_ELECTIONS:
                verdicts.append(f"{label} {rule} {ratio:.1f}x {'PASS' if ratio >= TARGET else 'FAIL'}")
            print(f"{label:<10} {len(election.voters):>6} {rule:<28} {our_seconds:>9.4f} "
                  f"{their_seconds:>13.3f} {ratio:>7.1f}x  {note}", flush=True)
    print(f"every equal-shares variant at least {TARGET:.0f}x faster than pabutools:")
    for verdict in verdicts:
        print(f"  {verdict}")
    print("winners: all the same" if ok else "winners: SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
