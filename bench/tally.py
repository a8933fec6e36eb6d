"""Benchmark: our counting rules against pabutools 1.2.3 on real Pabulib elections, in one run.

For Assen (84 voters), Swiecie (2,553) and Wieliczka (6,586) it times
* our `greedy` and pabutools' `greedy_utilitarian_welfare` (Cost_Sat, ties by cost then id, as in
  tests/tally/test_oracle_pabutools.py), and
* our `equal_shares` and pabutools' `method_of_equal_shares(..., sat_class=Cost_Sat,
  voter_budget_increment=1)` (add-one completion),
and prints both times, the ratio pabutools / ours, and whether the winners are the same (same
projects in the same selection order). Ours is timed as the best of --repeat calls (it is fast),
pabutools once (it takes about a minute in all); parsing is excluded from both. The target is
equal_shares at least 20 times faster than pabutools on every election: it is reported as
PASS/FAIL, never asserted, as timings on a shared machine are noisy. Equal shares winners are
also checked against the file's `selected` column where the file used our rule (Assen, Swiecie).
The exit status is non-zero only if some winners differ.

Run from the repository root: python bench/tally.py [--repeat N] [--elections Assen Swiecie ...]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliberation.tally import PbElection, equal_shares, greedy, project_id_key, read_pb  # noqa: E402

FILES = {
    "Assen": "Netherlands_Assen_2024.pb",
    "Swiecie": "Poland_Swiecie_2023.pb",
    "Wieliczka": "Poland_Wieliczka_2023_Green_Budget.pb",
}
# Wieliczka really used a variant (add1-comparison), so its `selected` column is no oracle.
EXACT_ORACLE = {"Assen", "Swiecie"}
TARGET = 20.0
"""equal_shares must be at least this many times faster than pabutools."""


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
    """Our two rules on a parsed election, returning the winners in selection order."""
    instance, ballots = election.instance, election.ballots
    return {
        "greedy": lambda: greedy(instance.budget, instance.projects, ballots).winners,
        "equal_shares": lambda: equal_shares(instance.budget, instance.projects, ballots).winners,
    }


def pabutools_rules(path: Path) -> dict[str, Callable[[], list[str]]]:
    """pabutools' two rules on a file (parsed here, outside the timing)."""
    from pabutools.election import Cost_Sat, parse_pabulib
    from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares
    from pabutools.tiebreaking import TieBreakingRule

    instance, profile = parse_pabulib(str(path))
    # With Cost_Sat, greedy_utilitarian_welfare ranks by approvals; ties as in our greedy.
    ties = TieBreakingRule(lambda _instance, _profile, project: (project.cost,
                                                                 project_id_key(project.name)))

    def run_greedy() -> list[str]:
        chosen = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat, tie_breaking=ties)
        return [p.name for p in chosen]

    def run_mes() -> list[str]:
        chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat,
                                        voter_budget_increment=1)
        return [p.name for p in chosen]

    return {"greedy": run_greedy, "equal_shares": run_mes}


def main() -> int:
    """Run the benchmark; non-zero exit if any winners disagree."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="calls of our rules (best is kept)")
    parser.add_argument("--elections", nargs="+", choices=list(FILES), default=list(FILES))
    args = parser.parse_args()
    try:
        import pabutools  # noqa: F401
    except ImportError:
        print("pabutools is not importable: install requirements-dev.txt (pabutools==1.2.3)")
        return 2
    folder = pabulib_dir()
    ok = True
    verdicts: list[str] = []
    print(f"{'election':<10} {'voters':>6} {'rule':<13} {'ours (s)':>9} {'pabutools (s)':>13} "
          f"{'ratio':>8}  winners")
    for label in args.elections:
        path = folder / FILES[label]
        election = read_pb(path)
        ours, theirs = our_rules(election), pabutools_rules(path)
        for rule in ("greedy", "equal_shares"):
            our_seconds, our_winners = best_time(ours[rule], args.repeat)
            their_seconds, their_winners = best_time(theirs[rule], 1)
            same = our_winners == their_winners
            ok &= same
            ratio = their_seconds / our_seconds
            note = (f"same {len(our_winners)} in the same order" if same
                    else f"DIFFERENT: ours {our_winners}, pabutools {their_winners}")
            if rule == "equal_shares":
                if label in EXACT_ORACLE:
                    matches = set(our_winners) == election.selected_ids
                    ok &= matches
                    note += "; matches `selected`" if matches else "; DIFFERS from `selected`"
                verdicts.append(f"{label} {ratio:.1f}x {'PASS' if ratio >= TARGET else 'FAIL'}")
            print(f"{label:<10} {len(election.voters):>6} {rule:<13} {our_seconds:>9.4f} "
                  f"{their_seconds:>13.3f} {ratio:>7.1f}x  {note}", flush=True)
    print(f"equal_shares at least {TARGET:.0f}x faster than pabutools: {', '.join(verdicts)}")
    print("winners: all the same" if ok else "winners: SOME DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
