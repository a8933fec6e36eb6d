"""Benchmark: Method of Equal Shares (add-one completion) on real Pabulib elections.

Prints our `equal_shares` wall time on Assen (84 voters), Swiecie (2,553) and Wieliczka
(6,586), best of --repeat runs, with the number of MES runs and add-one increments. If pabutools
is importable, also times pabutools 1.2.3 on Assen in the same process and prints the ratio
(--pabutools-on-all times it on all three, about a minute). Winners are checked against the
file's `selected` column (Assen, Swiecie) and against pabutools.
Run: python bench/bench_tally.py [--repeat N] [--pabutools-on-all]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deliberation.tally import PbElection, equal_shares, read_pb  # noqa: E402

FILES = {
    "Assen": "Netherlands_Assen_2024.pb",
    "Swiecie": "Poland_Swiecie_2023.pb",
    "Wieliczka": "Poland_Wieliczka_2023_Green_Budget.pb",
}
# Wieliczka really used a variant (add1-comparison), so its `selected` column is no oracle.
EXACT_ORACLE = {"Assen", "Swiecie"}


def pabulib_dir() -> Path:
    """$PABULIB_DIR, or the shared folder beside the repository."""
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "pabulib"
    return Path(os.environ.get("PABULIB_DIR") or default).resolve()


def best_time(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Smallest wall time over `repeat` calls, with the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def ours(election: PbElection) -> Callable[[], object]:
    """Our rule on a parsed election."""
    instance = election.instance
    return lambda: equal_shares(instance.budget, instance.projects, election.ballots)


def pabutools_rule(path: Path) -> Callable[[], list[str]] | None:
    """pabutools' MES on a file (parsing excluded from the timing), or None if not installed."""
    try:
        from pabutools.election import Cost_Sat, parse_pabulib
        from pabutools.rules import method_of_equal_shares
    except ImportError:
        return None
    instance, profile = parse_pabulib(str(path))

    def run() -> list[str]:
        chosen = method_of_equal_shares(instance, profile, sat_class=Cost_Sat,
                                        voter_budget_increment=1)
        return [p.name for p in chosen]

    return run


def main() -> int:
    """Run the benchmark; non-zero exit if any result disagrees with its oracle."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pabutools-on-all", action="store_true")
    args = parser.parse_args()
    folder = pabulib_dir()
    ok = True
    our_times: dict[str, float] = {}
    for label, name in FILES.items():
        election = read_pb(folder / name)
        seconds, outcome = best_time(ours(election), args.repeat)
        our_times[label] = seconds
        verdict = ""
        if label in EXACT_ORACLE:
            matches = set(outcome.winners) == election.selected_ids
            ok &= matches
            verdict = "matches selected" if matches else "DIFFERS from selected"
        print(f"ours      {label:<10} {len(election.voters):>5} voters {seconds:8.3f} s  "
              f"runs={outcome.runs} increments={outcome.increments} {verdict}")
        if label != "Assen" and not args.pabutools_on_all:
            continue
        rule = pabutools_rule(folder / name)
        if rule is None:
            print("pabutools not importable: skipping the comparison")
            continue
        theirs, winners = best_time(rule, 1)
        same = winners == outcome.winners
        ok &= same
        print(f"pabutools {label:<10} {len(election.voters):>5} voters {theirs:8.3f} s  "
              f"ratio pabutools/ours = {theirs / seconds:.1f}x  "
              f"{'same winners in the same order' if same else 'DIFFERENT winners'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
