"""Equal Shares' fast path against counting every increment from scratch, and against pabutools.

The fast path skips increments that provably repeat an outcome, restarts each run from the
last round of the previous run that is still valid (re-valued at the new increment), and does
not recompute a project whose lower bound of rho already exceeds the best one. None of this may
change anything but the number of runs: the steps must be exactly those of `skip_ahead=False`,
which counts every increment from scratch like pabutools.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from deliberation.tally import Project, equal_shares, read_pb

from .test_equal_shares import pabulib_dir, without_run_counts
from .test_oracle_pabutools import Election, pabutools_mes

REPO = Path(__file__).resolve().parents[2]


def assert_same_count(fast, slow) -> None:
    """Everything but the number of runs is identical."""
    assert (fast.winners, fast.total_cost, fast.increments, fast.voter_budget) == (
        slow.winners, slow.total_cost, slow.increments, slow.voter_budget)
    assert without_run_counts(fast.steps) == without_run_counts(slow.steps)
    assert fast.runs <= slow.runs


@pytest.mark.parametrize("path", sorted(pabulib_dir().glob("*.pb")), ids=lambda p: p.stem)
def test_fast_path_gives_the_steps_of_counting_every_increment(path: Path) -> None:
    election = read_pb(path)
    instance = election.instance
    fast = equal_shares(instance.budget, instance.projects, election.ballots)
    slow = equal_shares(instance.budget, instance.projects, election.ballots, skip_ahead=False)
    assert_same_count(fast, slow)


# Observed with pabutools 1.2.3 (about 25 s; bench/tally.py checks it again). Wieliczka really
# used a variant of the rule, so its `selected` column cannot serve as the oracle.
WIELICZKA = ["24", "41", "40", "74", "19", "6", "58", "32", "25", "20", "60", "43", "29", "17",
             "39", "42", "26", "70", "34", "71", "62", "88", "61", "9", "7", "36", "56", "33",
             "66", "67", "69"]


def test_wieliczka_gives_pabutools_winners_in_order() -> None:
    election = read_pb(pabulib_dir() / "Poland_Wieliczka_2023_Green_Budget.pb")
    instance = election.instance
    outcome = equal_shares(instance.budget, instance.projects, election.ballots)
    assert outcome.winners == WIELICZKA
    assert outcome.increments == 150
    assert outcome.total_cost <= instance.budget


def clustered_election(rng: random.Random) -> Election:
    """Voters mostly copy a few ballots (so groups carry weight), 2-16 projects, costs on scales
    from single units to thousands, and budgets that make the completion run long."""
    ids = [str(i) for i in rng.sample(range(1, 40), rng.randint(2, 16))]
    if rng.random() < 0.4:
        costs = [rng.choice([5, 10, 20, 40, 80]) * rng.choice([1, 10, 100]) for _ in ids]
    else:
        costs = [rng.randint(1, rng.choice([50, 1000, 20000])) for _ in ids]
    density = rng.uniform(0.05, 0.8)
    prototypes = [frozenset(i for i in ids if rng.random() < density)
                  for _ in range(rng.randint(1, 12))]
    ballots = [rng.choice(prototypes) if rng.random() < 0.7
               else frozenset(i for i in ids if rng.random() < density)
               for _ in range(rng.randint(1, rng.choice([10, 60, 200])))]
    budget = rng.randint(1, max(2, int(sum(costs) * rng.uniform(0.2, 1.2))))
    return budget, [Project(i, c) for i, c in zip(ids, costs, strict=True)], ballots


CLUSTERED = [clustered_election(random.Random(f"clustered-{seed}")) for seed in range(200)]
CLUSTERED_IDS = [f"clustered-{i}" for i in range(len(CLUSTERED))]


@pytest.mark.parametrize("election", CLUSTERED, ids=CLUSTERED_IDS)
def test_fast_path_gives_the_steps_of_counting_every_increment_on_clustered_elections(
        election: Election) -> None:
    assert_same_count(equal_shares(*election), equal_shares(*election, skip_ahead=False))


@pytest.mark.parametrize("election", CLUSTERED[::8], ids=CLUSTERED_IDS[::8])
def test_clustered_elections_match_pabutools(election: Election) -> None:
    assert equal_shares(*election).winners == pabutools_mes(election)


def test_clustered_elections_exercise_the_fast_path() -> None:
    # Guard against a generator that stops producing long completions.
    fast = [equal_shares(*e) for e in CLUSTERED]
    assert sum(o.increments >= 100 for o in fast) >= 40
    assert sum(o.runs < o.increments for o in fast) >= 80


def test_no_module_imports_a_top_level_tally() -> None:
    # bench/tally.py runs as a script with bench/ first on sys.path: `import tally` would load it.
    pattern = re.compile(r"^\s*(import|from)\s+tally\b", re.MULTILINE)
    offenders = [str(path.relative_to(REPO)) for path in REPO.rglob("*.py")
                 if not any(part.startswith(".") or part == "node_modules"
                            for part in path.relative_to(REPO).parts)
                 and pattern.search(path.read_text(encoding="utf-8", errors="replace"))]
    assert offenders == []


def test_benchmark_script_starts_from_the_repository_root() -> None:
    result = subprocess.run([sys.executable, "bench/tally.py", "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "--repeat" in result.stdout
