"""Pabulib reading/writing, the CLI helper, and the package's independence from Flask."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from deliberation.tally import (
    PbFormatError,
    Project,
    approval_counts,
    election_from_ballots,
    parse_whole_number,
    read_pb,
    scores_from_pb,
    tally_pb,
    winners_from_pb,
    write_pb,
)
from tests.pabulib_files import pabulib_dir

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "deliberation" / "tally"



def all_files() -> list[Path]:
    """Every .pb file; the README lists ten."""
    files = sorted(pabulib_dir().glob("*.pb"))
    if len(files) < 10:
        pytest.fail(f"expected the 10 Pabulib files in {pabulib_dir()}, found {len(files)}")
    return files


@pytest.mark.parametrize("path", all_files(), ids=lambda p: p.stem)
def test_round_trip_keeps_all_data(path: Path) -> None:
    election = read_pb(path)
    text = write_pb(election)
    again = read_pb(text)
    assert again == election
    assert write_pb(again) == text
    # The file's own vote counts agree with its ballots, so the rule tests use consistent data.
    counts = approval_counts(election.instance.projects, election.ballots)
    assert {p.id: p.votes for p in election.projects} == counts
    assert len(election.voters) == int(election.meta["num_votes"])
    assert len(election.projects) == int(election.meta["num_projects"])


def test_reads_known_facts_of_assen() -> None:
    election = read_pb(pabulib_dir() / "Netherlands_Assen_2024.pb")
    assert (election.budget, len(election.voters), len(election.projects)) == (100000, 84, 14)
    first = election.projects[0]
    assert (first.id, first.cost, first.votes, first.name, first.selected) == (
        "3", 7200, 43, "PopUp Podium", 1)
    assert first.extra["description"].startswith("12x per jaar")
    assert election.ballots[0] == frozenset({"1", "2", "6", "9", "13"})


def test_reads_quoted_names_of_wieliczka() -> None:
    election = read_pb(pabulib_dir() / "Poland_Wieliczka_2023_Green_Budget.pb")
    names = {p.id: p.name for p in election.projects}
    assert names["80"] == 'Drzewne przytulasy i relaksacyjne gniazda w Parku "Stok pod Baranem"'


SAMPLE = (
    "\ufeffMETA\r\n"
    "key;value\r\n"
    "description;A test; with a semicolon\r\n"
    "budget;1000000.0\r\n"
    "vote_type;approval\r\n"
    "PROJECTS\r\n"
    "project_id;cost;votes;name;selected;district\r\n"
    '1;600000.00;2;"Park; playground ""North""";1;east\r\n'
    "2;500000;1;Library;0;west\r\n"
    "VOTES\r\n"
    "voter_id;vote;age\r\n"
    "a;1,2;30\r\n"
    "b;;41\r\n"
    "c;1;\r\n"
)


def test_reads_quotes_decimals_empty_votes_and_extra_columns() -> None:
    election = read_pb(SAMPLE)
    assert election.budget == 1000000
    assert election.meta["description"] == "A test; with a semicolon"
    park = election.projects[0]
    assert (park.cost, park.name, park.extra) == (600000, 'Park; playground "North"',
                                                  {"district": "east"})
    assert election.ballots == [frozenset({"1", "2"}), frozenset(), frozenset({"1"})]
    assert [v.extra["age"] for v in election.voters] == ["30", "41", ""]
    assert read_pb(write_pb(election)) == election
    assert '"Park; playground ""North"""' in write_pb(election)


def test_reads_from_path_object_and_path_string(tmp_path: Path) -> None:
    file = tmp_path / "sample.pb"
    file.write_text(SAMPLE, encoding="utf-8", newline="")
    assert read_pb(file) == read_pb(str(file)) == read_pb(SAMPLE)


@pytest.mark.parametrize("text", ["1000.5", "1e-1", "abc", "", "inf", "1,5"])
def test_non_integer_amounts_fail_loudly(text: str) -> None:
    with pytest.raises(PbFormatError):
        parse_whole_number(text, "budget")


def test_whole_amounts_in_any_notation_are_exact() -> None:
    assert parse_whole_number("1000000.0", "x") == 1000000
    assert parse_whole_number(" 123456789012345678901234567890.000 ", "x") == (
        123456789012345678901234567890)
    assert parse_whole_number("1.5e3", "x") == 1500


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("2;500000;1;Library", "1;500000;1;Library", "duplicate project"),
        ("c;1;", "c;1,7;", "unknown project"),
        ("1;600000.00;", "1;600000.1234567;", "decimal places"),
        ("1;600000.00;", "1;-600000;", "negative"),
        ("VOTES\r\n", "", "missing section"),
        ("c;1;", "c;1;;extra", "more fields"),
    ],
)
def test_malformed_files_fail_loudly(old: str, new: str, message: str) -> None:
    assert old in SAMPLE
    with pytest.raises(PbFormatError, match=message):
        read_pb(SAMPLE.replace(old, new, 1))


def test_decimal_amounts_are_kept_exact_in_minor_units() -> None:
    # The example: a budget of 543715.64 used to be refused.
    election = read_pb(SAMPLE.replace("budget;1000000.0", "budget;543715.64"))
    assert election.scale == 100
    assert election.budget == 54371564
    assert [p.cost for p in election.projects] == [60000000, 50000000]
    assert read_pb(write_pb(election)) == election
    assert "1;600000.00;" in write_pb(election)
    # One currency unit (100 minor units) is the add-one increment; winners are ids as before.
    assert tally_pb(SAMPLE.replace("budget;1000000.0", "budget;543715.64"), "greedy").winners == ["2"]
    assert tally_pb(SAMPLE.replace("budget;1000000.0", "budget;600000.01"), "greedy").winners == ["1"]


def test_election_from_ballots_exports_readable_file() -> None:
    projects = [Project("1", 30, "Bench; park"), Project("2", 50, "Trees")]
    ballots = [{"1"}, {"1", "2"}, set()]
    with pytest.raises(ValueError, match="date_begin, date_end"):
        election_from_ballots(80, projects, ballots, meta={"description": "x", "country": "China",
                                                            "unit": "u", "instance": "1", "rule": "greedy"})
    meta = {"description": "第一轮", "country": "China", "unit": "幸福里", "instance": "1",
            "rule": "greedy", "date_begin": "01.11.2026", "date_end": "15.11.2026"}
    election = election_from_ballots(80, projects, ballots, selected={"1"}, meta=meta)
    text = write_pb(election)
    again = read_pb(text)
    assert again.budget == 80
    # The empty ballot is left out and said in a comment (pabulib-checker refuses empty votes).
    assert again.ballots == [frozenset({"1"}), frozenset({"1", "2"})]
    assert again.meta["num_votes"] == "2"
    assert again.meta["comment"] == "#1: 1 ballot(s) chose no project and are not listed in VOTES."
    assert [(p.id, p.cost, p.name, p.votes, p.selected) for p in again.projects] == [
        ("1", 30, "Bench; park", 2, 1), ("2", 50, "Trees", 1, 0)]


def test_winners_from_pb_for_both_rules() -> None:
    folder = pabulib_dir()
    warszawa = folder / "Poland_Warszawa_2019_Muranow.pb"
    assert set(winners_from_pb(warszawa, "greedy")) == read_pb(warszawa).selected_ids
    assen = folder / "Netherlands_Assen_2024.pb"
    assert set(winners_from_pb(str(assen), "equal_shares")) == read_pb(assen).selected_ids
    assert tally_pb(assen, "equal_shares").rule == "equalshares/add1"


def test_winners_from_pb_rejects_unknown_rules_and_vote_types(tmp_path: Path) -> None:
    file = tmp_path / "scoring.pb"
    file.write_text(SAMPLE.replace("vote_type;approval", "vote_type;scoring"), encoding="utf-8")
    with pytest.raises(PbFormatError, match="not supported"):
        winners_from_pb(file, "greedy")
    file.write_text(SAMPLE, encoding="utf-8")
    with pytest.raises(ValueError, match="unknown rule"):
        winners_from_pb(file, "phragmen")
    with pytest.raises(PbFormatError, match="no rule"):
        winners_from_pb(file)
    file.write_text(SAMPLE.replace("vote_type;approval", "vote_type;approval\r\nrule;equalshares"),
                    encoding="utf-8")
    with pytest.raises(PbFormatError, match="not implemented"):
        winners_from_pb(file)


CUMULATIVE = (
    "META\nkey;value\nbudget;100.50\nvote_type;cumulative\nrule;greedy\n"
    "PROJECTS\nproject_id;cost;votes;score;name;selected\n"
    "a;60.25;2;5;A;1\nb;40.25;2;4;B;1\nc;10;1;3;C;0\n"
    "VOTES\nvoter_id;vote;points\nv1;a,b;3,1\nv2;a,b,c;2,3,3\n"
)


def test_reads_cumulative_points_and_scores() -> None:
    election = read_pb(CUMULATIVE)
    assert election.ballots == [{"a": 3, "b": 1}, {"a": 2, "b": 3, "c": 3}]
    assert [p.score for p in election.projects] == [5, 4, 3]
    assert dict(scores_from_pb(election)) == {"a": 5, "b": 4, "c": 3}
    assert read_pb(write_pb(election)) == election
    assert "v2;a,b,c;2,3,3" in write_pb(election)
    # greedy by points: a (5) then b (4) fill 100.50 exactly; c (3 points) does not fit.
    assert tally_pb(CUMULATIVE).winners == ["a", "b"]
    with pytest.raises(PbFormatError, match="3 project"):
        read_pb(CUMULATIVE.replace("a,b,c;2,3,3", "a,b,c;2,3"))


def test_reads_ordinal_ballots_in_rank_order() -> None:
    text = (CUMULATIVE.replace("vote_type;cumulative", "vote_type;ordinal\nmax_length;3")
            .replace("voter_id;vote;points", "voter_id;vote").replace(";3,1\n", "\n")
            .replace(";2,3,3\n", "\n").replace("v2;a,b,c", "v2;c,b,a"))
    election = read_pb(text)
    assert election.ballots == [("a", "b"), ("c", "b", "a")]
    assert dict(scores_from_pb(election)) == {"a": 2 + 1, "b": 1 + 2, "c": 3}
    assert read_pb(write_pb(election)) == election
    assert "v2;c,b,a" in write_pb(election)


def absolute_imports(source: Path) -> list[str]:
    """Top-level module names a source file imports (relative imports excluded)."""
    names = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append((node.module or "").split(".")[0])
    return names


def test_package_imports_only_the_standard_library() -> None:
    sources = sorted(PACKAGE_DIR.glob("*.py"))
    assert {s.name for s in sources} >= {"__init__.py", "model.py", "greedy.py",
                                         "equal_shares.py", "explain.py", "pabulib.py"}
    for source in sources:
        imported = absolute_imports(source)
        assert "fractions" in imported or source.name != "equal_shares.py"
        outside = [name for name in imported
                   if name != "__future__" and name not in sys.stdlib_module_names]
        assert outside == [], f"{source.name} imports {outside}"


def test_package_works_standalone_with_flask_blocked() -> None:
    # Load deliberation/tally as a top-level package, without deliberation/__init__ (which builds
    # the web app), in a fresh interpreter where importing flask is made impossible.
    script = (
        "import importlib.util, sys\n"
        "sys.modules['flask'] = None\n"
        f"spec = importlib.util.spec_from_file_location('tally_alone', {str(PACKAGE_DIR / '__init__.py')!r},"
        f" submodule_search_locations=[{str(PACKAGE_DIR)!r}])\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['tally_alone'] = module\n"
        "spec.loader.exec_module(module)\n"
        "P = module.Project\n"
        "print(module.equal_shares(30, [P('a', 20), P('b', 10)], [{'a'}, {'a'}, {'b'}]).winners)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'deliberation')))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["['a', 'b']", "['flask']"]
