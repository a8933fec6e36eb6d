"""`flask tally --pb FILE --rule RULE` prints the winners of a real election."""

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
