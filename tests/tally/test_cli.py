"""`flask tally --pb FILE [--rule RULE]` prints the winners of a real election."""

from __future__ import annotations

import pytest

from deliberation.tally import read_pb
from tests.pabulib_files import CARRIED

PABULIB = CARRIED


@pytest.mark.parametrize("name,rule", [("Netherlands_Assen_2024.pb", "equal_shares"),
                                       ("Poland_Warszawa_2019_Muranow.pb", "greedy")])
def test_flask_tally_prints_the_real_winners(app, name, rule):
    path = PABULIB / name
    result = app.test_cli_runner().invoke(args=["tally", "--pb", str(path), "--rule", rule])
    assert result.exit_code == 0, result.output
    selected = read_pb(path).selected_ids
    assert set(result.output.split()) == selected


def test_flask_tally_reports_a_broken_file(app, tmp_path):
    broken = tmp_path / "broken.pb"
    broken.write_text("META\nkey;value\nbudget;abc\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["tally", "--pb", str(broken), "--rule", "greedy"])
    assert result.exit_code != 0


GOOD_META = "META\nkey;value\nbudget;1000\nvote_type;approval\n"
GOOD_PROJECTS = "PROJECTS\nproject_id;cost;name\n1;400;坡道\n2;300;座椅\n"
GOOD_VOTES = "VOTES\nvoter_id;vote\nv1;1,2\nv2;2\n"

MALFORMED = {
    "gbk": (GOOD_META + GOOD_PROJECTS + GOOD_VOTES).encode("gbk"),
    "binary": bytes(range(256)) * 4,
    "empty": b"",
    "nul_bytes": (GOOD_META + "\x00\x00\n" + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "negative_cost": (GOOD_META + GOOD_PROJECTS.replace("1;400", "1;-400") + GOOD_VOTES).encode(),
    "negative_budget": (GOOD_META.replace("1000", "-1000") + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "huge_exponent": (GOOD_META.replace("1000", "1e999999999") + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "unknown_project": (GOOD_META + GOOD_PROJECTS + GOOD_VOTES.replace("v2;2", "v2;9")).encode(),
    "no_votes": (GOOD_META + GOOD_PROJECTS).encode(),
    "scoring_vote_type": (GOOD_META.replace("approval", "scoring") + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "cumulative_without_points": (GOOD_META.replace("approval", "cumulative") + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "choose_1_with_two": (GOOD_META.replace("approval", "choose-1") + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "ordinal_twice": (GOOD_META.replace("approval", "ordinal") + GOOD_PROJECTS
                      + GOOD_VOTES.replace("v2;2", "v2;2,2")).encode(),
    "too_many_decimals": (GOOD_META.replace("1000", "1000.1234567") + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "threshold_missing": (GOOD_META + "rule;greedy-threshold\n" + GOOD_PROJECTS + GOOD_VOTES).encode(),
    "no_rule_in_meta": (GOOD_META + GOOD_PROJECTS + GOOD_VOTES).encode(),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
@pytest.mark.parametrize("rule", ["greedy", "equal_shares", None])
def test_flask_tally_gives_one_error_line_for_every_malformed_file(app, tmp_path, name, rule):
    path = tmp_path / f"{name}.pb"
    path.write_bytes(MALFORMED[name])
    if name in ("threshold_missing", "no_rule_in_meta"):
        rule = None
    args = ["tally", "--pb", str(path), *(["--rule", rule] if rule else [])]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output


def test_flask_tally_counts_a_well_formed_file(app, tmp_path):
    path = tmp_path / "good.pb"
    path.write_text(GOOD_META + GOOD_PROJECTS + GOOD_VOTES, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["tally", "--pb", str(path), "--rule", "greedy"])
    assert result.exit_code == 0 and result.output.split() == ["2", "1"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1250", "iso-8859-2"])
def test_flask_tally_reads_central_european_encodings(app, tmp_path, encoding):
    text = GOOD_META + GOOD_PROJECTS.replace("坡道", "Zielony skwer - Łódź, Święta").replace("座椅", "Ławka") + GOOD_VOTES
    path = tmp_path / "good.pb"
    path.write_bytes(text.encode(encoding))
    result = app.test_cli_runner().invoke(args=["tally", "--pb", str(path), "--rule", "greedy"])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["2", "1"]
    assert read_pb(path).projects[0].name == "Zielony skwer - Łódź, Święta"


def test_flask_tally_takes_the_rule_from_meta_unless_told(app, tmp_path):
    # Budget 600: greedy funds 2 (300) then skips nothing else that fits... 1 (400) does not fit.
    text = GOOD_META.replace("1000", "600") + "rule;equalshares/add1\n" + GOOD_PROJECTS + GOOD_VOTES
    path = tmp_path / "meta.pb"
    path.write_text(text, encoding="utf-8")
    runner = app.test_cli_runner()
    from_meta = runner.invoke(args=["tally", "--pb", str(path)])
    assert from_meta.exit_code == 0, from_meta.output
    from deliberation.tally import tally_pb
    assert from_meta.output.split() == tally_pb(path, "equalshares/add1").winners
    told = runner.invoke(args=["tally", "--pb", str(path), "--rule", "greedy"])
    assert told.output.split() == ["2"]
