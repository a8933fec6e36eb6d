"""Every ballot type end to end: rules, casting on the ballot page, paper keying, closing, results in
plain words, the public ballot list, receipts and the .pb export."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from deliberation.core.errors import DomainError
from deliberation.core.secrecy import SealedRow
from deliberation.extensions import db
from deliberation.proposals import services as round_services
from deliberation.proposals.models import BallotType, CountingRule, RoundPhase
from deliberation.tally import count, read_pb
from deliberation.votes import exports, services
from deliberation.votes.models import Ballot
from tests.factories import make_resident
from tests.proposals.factories import make_proposal, make_round, move_to

RULES = {
    BallotType.approval: {},
    BallotType.k_approval: {"max_approvals": 2},
    BallotType.cumulative: {"points_total": 10, "points_per_project": 6},
    BallotType.ranked: {"max_approvals": 2},
}


def typed_round(world, ballot_type: BallotType, *, rule: CountingRule = CountingRule.greedy, **overrides):
    """A round in voting with the given ballot type, a 100k budget and three projects: 坡道 60k, 座椅 50k,
    路灯 30k."""
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    proposer, _ = make_resident(world.community, login=f"proposer-{ballot_type.value}")
    items = [make_proposal(round_, proposer, title=t, cost=c) for t, c in [("坡道", 60_000), ("座椅", 50_000),
                                                                           ("路灯", 30_000)]]
    rules = {"per_household": False, "must_fit_budget": False, "counting_rule": rule, **RULES[ballot_type],
             **overrides}
    services.set_ballot_rules(round_, ballot_type=ballot_type, actor=world.secretary, **rules)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    return round_, items


@pytest.fixture
def voters(world):
    return [make_resident(world.community, login=f"voter{i}")[0] for i in range(6)]


def url(round_, path: str) -> str:
    return f"/c/taoyuan/rounds/{round_.id}/{path}"


def assert_passes_the_pabulib_checker(text: str) -> None:
    from pabulib.checker import Checker

    report = Checker().process_files([text])
    assert report["metadata"]["invalid"] == 0, report["summary"]


def cast_via_pages(client, round_, data: dict) -> str:
    confirm = client.post(url(round_, "vote/confirm"), data=data)
    assert confirm.status_code == 200, confirm.get_data(as_text=True)[-2000:]
    cast = client.post(url(round_, "vote/cast"), data=data)
    assert cast.status_code == 303, cast.status_code
    receipt = client.get(cast.headers["Location"])
    return re.search(r'data-testid="receipt-code">([0-9A-Z-]+)<', receipt.get_data(as_text=True)).group(1)


# --- rules --------------------------------------------------------------------------------

def test_rules_choose_a_ballot_type_which_is_locked_when_voting_opens(world):
    round_, _items = typed_round(world, BallotType.cumulative)
    assert (round_.ballot_type, round_.points_total, round_.points_per_project) == (BallotType.cumulative, 10, 6)
    with pytest.raises(DomainError, match="不能再修改"):
        services.set_ballot_rules(round_, per_household=False, ballot_type=BallotType.approval,
                                  must_fit_budget=True, counting_rule=CountingRule.greedy, actor=world.secretary)
    assert round_.ballot_type == BallotType.cumulative


@pytest.mark.parametrize("ballot_type,rules,field", [
    (BallotType.k_approval, {}, "max_approvals"),
    (BallotType.ranked, {"max_approvals": 0}, "max_approvals"),
    (BallotType.cumulative, {}, "points_total"),
    (BallotType.cumulative, {"points_total": 5, "points_per_project": 6}, "points_per_project"),
    (BallotType.ranked, {"max_approvals": 3, "counting_rule": CountingRule.equal_shares}, "counting_rule"),
])
def test_incomplete_rules_are_refused_on_their_field(world, ballot_type, rules, field):
    round_ = make_round(world.community, world.secretary)
    settings = {"per_household": False, "must_fit_budget": True, "counting_rule": CountingRule.greedy, **rules}
    with pytest.raises(DomainError) as error:
        services.set_ballot_rules(round_, ballot_type=ballot_type, actor=world.secretary, **settings)
    assert error.value.field == field


def test_an_approval_ballot_with_a_limit_is_a_k_approval_ballot(world):
    round_ = make_round(world.community, world.secretary)
    services.set_ballot_rules(round_, per_household=False, max_approvals=2, must_fit_budget=True,
                              counting_rule=CountingRule.greedy, actor=world.secretary)
    assert round_.ballot_type == BallotType.k_approval and round_.max_approvals == 2
    services.set_ballot_rules(round_, per_household=False, ballot_type=BallotType.cumulative, max_approvals=2,
                              points_total=10, points_per_project=4, must_fit_budget=True,
                              counting_rule=CountingRule.greedy, actor=world.secretary)
    # Fields of other types are cleared; the budget meter binds approval ballots only.
    assert round_.max_approvals is None and round_.must_fit_budget is False


def test_the_rules_page_sets_the_ballot_type(client, world, as_user):
    round_ = make_round(world.community, world.secretary)
    as_user(world.secretary)
    page = client.get(url(round_, "ballot-rules")).get_data(as_text=True)
    assert 'name="ballot_type"' in page and "积分投票" in page
    refused = client.post(url(round_, "ballot-rules"), data={"ballot_type": "cumulative", "counting_rule": "greedy"})
    assert refused.status_code == 422 and "可分配的积分" in refused.get_data(as_text=True)
    saved = client.post(url(round_, "ballot-rules"), data={"ballot_type": "ranked", "max_approvals": "3",
                                                             "counting_rule": "greedy"})
    assert saved.status_code == 303
    assert round_.ballot_type == BallotType.ranked and round_.max_approvals == 3


# --- checking ballots -------------------------------------------------------------------

@pytest.mark.parametrize("choices,problem", [
    ({"1": "7"}, "最多可得 6 分"),
    ({"1": "6", "2": "5"}, "共给出 11 分"),
    ({"1": "-1"}, "0 或正整数"),
    ({"1": "x"}, "0 或正整数"),
    ({"1": "99999999999999999999"}, "0 或正整数"),
    ({"999": "1"}, "不在投票清单上"),
    (["1", "2"], "0 或正整数"),  # ids without points
])
def test_cumulative_ballots_break_the_rules_with_a_reason(world, choices, problem):
    round_, items = typed_round(world, BallotType.cumulative)
    ids = {"1": items[0].id, "2": items[1].id}
    choices = ({ids.get(k, k): v for k, v in choices.items()} if isinstance(choices, dict)
               else [ids[k] for k in choices])
    check = services.check_choices(round_, choices)
    assert not check.ok and problem in " ".join(str(p) for p in check.problems)


@pytest.mark.parametrize("choices,problem", [
    ({"1": "1", "2": "1"}, "名次相同"),
    ({"1": "3"}, "1（最想要）到 2"),
    ({"1": "0"}, "1（最想要）到 2"),
])
def test_ranked_ballots_break_the_rules_with_a_reason(world, choices, problem):
    round_, items = typed_round(world, BallotType.ranked)
    ids = {"1": items[0].id, "2": items[1].id}
    check = services.check_choices(round_, {ids[k]: v for k, v in choices.items()})
    assert not check.ok and problem in " ".join(str(p) for p in check.problems)


def test_checked_ballots_are_stored_in_one_shape_per_type(world):
    round_, (ramp, bench, lamp) = typed_round(world, BallotType.ranked)
    assert services.check_choices(round_, {str(lamp.id): "2", str(ramp.id): "1"}).stored == [ramp.id, lamp.id]
    round_, (ramp, bench, lamp) = typed_round(world, BallotType.cumulative)
    check = services.check_choices(round_, {str(lamp.id): "4", str(ramp.id): "6", str(bench.id): "0"})
    assert check.ok and check.stored == [[ramp.id, 6], [lamp.id, 4]] and check.points_used == 10


def test_sealed_cumulative_ballots_all_have_one_length(world, voters):
    round_, (ramp, bench, lamp) = typed_round(world, BallotType.cumulative)
    services.cast_ballot(round_, voters[0], choices={})
    services.cast_ballot(round_, voters[1], choices={ramp.id: 4, bench.id: 3, lamp.id: 3})
    lengths = {len(row.box) for row in db.session.scalars(select(SealedRow))}
    assert len(lengths) == 1


# --- end to end ---------------------------------------------------------------------------

def test_cumulative_round_end_to_end(client, world, as_user, voters):
    round_, (ramp, bench, lamp) = typed_round(world, BallotType.cumulative)
    as_user(voters[0])
    page = client.get(url(round_, "vote")).get_data(as_text=True)
    assert f'name="points-{ramp.id}"' in page and "剩余积分：10 / 10" in page
    meter = client.post(url(round_, "vote/check"), data={f"points-{ramp.id}": "6", f"points-{lamp.id}": "3"},
                        headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in meter and "剩余积分：1 / 10" in meter
    # Over the total: refused with the reason, and every number the voter typed is still there.
    refused = client.post(url(round_, "vote/confirm"), data={f"points-{ramp.id}": "6", f"points-{bench.id}": "5"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "共给出 11 分" in body
    assert f'name="points-{ramp.id}" value="6"' in body and f'name="points-{bench.id}" value="5"' in body
    confirm = client.post(url(round_, "vote/confirm"), data={f"points-{ramp.id}": "6", f"points-{lamp.id}": "4"})
    assert "坡道 · 6 分" in confirm.get_data(as_text=True)
    code = cast_via_pages(client, round_, {f"points-{ramp.id}": "6", f"points-{lamp.id}": "4"})
    for voter, points in [(voters[1], {bench.id: 6, lamp.id: 4}), (voters[2], {bench.id: 5, lamp.id: 5})]:
        services.cast_ballot(round_, voter, choices=points)
    # Paper: one sheet keyed twice, matching.
    as_user(world.secretary)
    client.post(url(round_, "paper/voters"), data={"voter-voter": "voter3"})
    sheet = {"sheet-sheet": "P1", f"sheet-points-{ramp.id}": "2", f"sheet-points-{lamp.id}": "1"}
    assert client.post(url(round_, "paper/sheets"), data=sheet).status_code == 303
    as_user(world.admin)
    assert client.post(url(round_, "paper/sheets"), data=sheet).status_code == 303
    paper = client.get(url(round_, "paper")).get_data(as_text=True)
    assert "已计入" in paper and "坡道：2 分" in paper
    round_services.advance_round(round_, actor=world.secretary)
    result = services.result_of(round_)
    # Points: 坡道 6+2 = 8, 座椅 6+5 = 11, 路灯 4+4+5+1 = 14 → 路灯 (30k), 座椅 (50k); 坡道 (60k) does not fit.
    assert result.approvals == {str(ramp.id): 8, str(bench.id): 11, str(lamp.id): 14}
    assert result.winners == [lamp.id, bench.id] and result.ballots_counted == 4
    results = client.get(url(round_, "results")).get_data(as_text=True)
    assert "各项目所得积分" in results and "按所得积分从多到少排列" in results
    assert "路灯：14 分，需 30,000 元" in results and "坡道：8 分，但需 60,000 元" in results
    ballots = client.post(url(round_, "ballots"), data={"code": code}).get_data(as_text=True)
    assert "坡道：6 分" in ballots and "路灯：4 分" in ballots and 'data-testid="my-ballot"' in ballots
    csv = client.get(url(round_, "ballots.csv")).get_data(as_text=True)
    assert f"{ramp.id}:6,{lamp.id}:4" in csv
    text = client.get(url(round_, "ballots.pb")).get_data(as_text=True)
    assert_passes_the_pabulib_checker(text)
    election = read_pb(text)
    assert election.meta["vote_type"] == "cumulative" and election.meta["max_sum_points"] == "10"
    assert "points" in text.split("VOTES")[1].splitlines()[1]
    shaped = [dict(zip(v.vote, v.points, strict=True)) for v in election.voters]
    recount = count(100_000, election.instance.projects, shaped, vote_type="cumulative", rule="greedy")
    assert recount.winners == [str(w) for w in result.winners] == sorted(election.selected_ids, key=recount.winners.index)


def test_ranked_round_end_to_end(client, world, as_user, voters):
    round_, (ramp, bench, lamp) = typed_round(world, BallotType.ranked)
    as_user(voters[0])
    page = client.get(url(round_, "vote")).get_data(as_text=True)
    assert f'name="rank-{ramp.id}"' in page and "已用名次：0 / 2" in page
    refused = client.post(url(round_, "vote/confirm"), data={f"rank-{ramp.id}": "1", f"rank-{lamp.id}": "1"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "名次相同" in body
    assert re.search(rf'name="rank-{lamp.id}".*?<option value="1" selected>', body, re.S)  # kept on error
    confirm = client.post(url(round_, "vote/confirm"), data={f"rank-{lamp.id}": "1", f"rank-{ramp.id}": "2"})
    assert re.search(r"<ol data-testid=\"confirm-list\">\s*<li>路灯.*?<li>坡道", confirm.get_data(as_text=True), re.S)
    code = cast_via_pages(client, round_, {f"rank-{lamp.id}": "1", f"rank-{ramp.id}": "2"})
    services.cast_ballot(round_, voters[1], choices={bench.id: 1, ramp.id: 2})
    services.cast_ballot(round_, voters[2], choices={bench.id: 1})
    # Paper: two keyings that differ are not counted until one is deleted and keyed again.
    as_user(world.secretary)
    client.post(url(round_, "paper/voters"), data={"voter-voter": "voter3"})
    client.post(url(round_, "paper/sheets"), data={"sheet-sheet": "R1", f"sheet-rank-{ramp.id}": "1"})
    as_user(world.admin)
    client.post(url(round_, "paper/sheets"), data={"sheet-sheet": "R1", f"sheet-rank-{ramp.id}": "2"})
    assert "录入不一致" in client.get(url(round_, "paper")).get_data(as_text=True)
    with pytest.raises(DomainError):
        round_services.advance_round(round_, actor=world.secretary)
    db.session.rollback()
    from deliberation.votes.models import PaperEntry
    wrong = db.session.scalar(select(PaperEntry).where(PaperEntry.operator_id == world.admin.id))
    services.delete_paper_entry(wrong, actor=world.admin)
    services.key_paper_sheet(round_, sheet="R1", choices={ramp.id: "1"}, operator=world.admin)
    round_services.advance_round(round_, actor=world.secretary)
    result = services.result_of(round_)
    # Borda on each ballot's length: [路灯, 坡道] 2, 1; [座椅, 坡道] 2, 1; [座椅] 1; paper [坡道] 1.
    assert result.approvals == {str(ramp.id): 3, str(bench.id): 3, str(lamp.id): 2}
    assert result.winners == [bench.id, lamp.id]  # tie 3-3: the cheaper 座椅 first; 坡道 no longer fits
    results = client.get(url(round_, "results")).get_data(as_text=True)
    assert "博达计分" in results and "座椅：排序得分 3，需 50,000 元" in results
    assert "坡道：排序得分 3，但需 60,000 元" in results
    ballots = client.post(url(round_, "ballots"), data={"code": code}).get_data(as_text=True)
    assert "1. 路灯" in ballots and "2. 坡道" in ballots
    text = client.get(url(round_, "ballots.pb")).get_data(as_text=True)
    assert_passes_the_pabulib_checker(text)
    election = read_pb(text)
    assert election.meta["vote_type"] == "ordinal" and election.meta["max_length"] == "2"
    mine = next(v for v in election.voters if v.vote == (str(lamp.id), str(ramp.id)))
    assert mine.vote == (str(lamp.id), str(ramp.id))  # best first
    recount = count(100_000, election.instance.projects, [list(v.vote) for v in election.voters],
                    vote_type="ordinal", rule="greedy", max_rank=2)
    assert recount.winners == [str(w) for w in result.winners]


@pytest.mark.parametrize("ballot_type", [BallotType.approval, BallotType.k_approval])
def test_approval_rounds_end_to_end(client, world, as_user, voters, ballot_type):
    round_, (ramp, bench, lamp) = typed_round(world, ballot_type)
    as_user(voters[0])
    if ballot_type == BallotType.k_approval:
        refused = client.post(url(round_, "vote/confirm"), data={"choices": [ramp.id, bench.id, lamp.id]})
        assert refused.status_code == 422 and "最多可选 2 个项目" in refused.get_data(as_text=True)
    code = cast_via_pages(client, round_, {"choices": [ramp.id, lamp.id]})
    services.cast_ballot(round_, voters[1], choices=[lamp.id])
    as_user(world.secretary)
    client.post(url(round_, "paper/voters"), data={"voter-voter": "voter3"})
    client.post(url(round_, "paper/sheets"), data={"sheet-sheet": "A1", "sheet-choices": [bench.id]})
    as_user(world.admin)
    client.post(url(round_, "paper/sheets"), data={"sheet-sheet": "A1", "sheet-choices": [bench.id]})
    round_services.advance_round(round_, actor=world.secretary)
    result = services.result_of(round_)
    # 路灯 2 approvals; 座椅 and 坡道 1 each, the cheaper 座椅 first; then 坡道 (60k) no longer fits.
    assert result.winners == [lamp.id, bench.id] and result.ballots_counted == 3
    ballots = client.post(url(round_, "ballots"), data={"code": code}).get_data(as_text=True)
    assert 'data-testid="my-ballot"' in ballots
    text = client.get(url(round_, "ballots.pb")).get_data(as_text=True)
    assert_passes_the_pabulib_checker(text)
    election = read_pb(text)
    assert election.meta["vote_type"] == "approval"
    assert ("max_length" in election.meta) == (ballot_type == BallotType.k_approval)


def test_cumulative_equal_shares_counts_with_points(world, voters):
    round_, (ramp, bench, lamp) = typed_round(world, BallotType.cumulative, rule=CountingRule.equal_shares)
    for voter, points in zip(voters[:3], [{ramp.id: 6, lamp.id: 4}, {bench.id: 6, lamp.id: 4}, {lamp.id: 6}],
                             strict=True):
        services.cast_ballot(round_, voter, choices=points)
    round_services.advance_round(round_, actor=world.secretary)
    result = services.result_of(round_)
    assert result.details["pb_rule"] == "equalshares-points/add1" and lamp.id in result.winners
    assert result.details["supporters"][str(lamp.id)] == 3


@pytest.mark.parametrize("ballot_type,sheet,expected", [
    (BallotType.cumulative, {"坡道": "7", "路灯": "5"},
     ["选票 S1 给“坡道”打了 7 分，一个项目最多只能得 6 分。", "选票 S1 共打了 12 分，一张选票最多只能分配 10 分。"]),
    (BallotType.ranked, {"坡道": "1", "座椅": "1", "路灯": "3"},
     ["选票 S1 把“路灯”排在第 3 位，名次只能是 1 到 2。", "选票 S1 有不止一个项目排在第 1 位（坡道、座椅）。"]),
])
def test_invalid_paper_sheets_are_explained_to_the_operators(client, world, as_user, voters, ballot_type, sheet,
                                                              expected):
    """A sheet keyed twice alike but breaking the rules says which sheet, which project and what is wrong,
    in the operators' words (not the voter's "you")."""
    round_, items = typed_round(world, ballot_type)
    field = "points" if ballot_type == BallotType.cumulative else "rank"
    by_title = {p.title: p.id for p in items}
    data = {"sheet-sheet": "S1", **{f"sheet-{field}-{by_title[t]}": v for t, v in sheet.items()}}
    as_user(world.secretary)
    client.post(url(round_, "paper/voters"), data={"voter-voter": "voter0"})
    client.post(url(round_, "paper/sheets"), data=data)
    as_user(world.admin)
    client.post(url(round_, "paper/sheets"), data=data)
    page = client.get(url(round_, "paper")).get_data(as_text=True)
    for reason in expected:
        assert reason in page
    assert not any("您" in str(reason) for reason in services.paper_sheets(round_)[0].reasons)


@pytest.mark.parametrize("ballot_type,words", [
    (BallotType.approval, "每人勾选自己支持的所有项目"),
    (BallotType.k_approval, "每人最多勾选 2 个项目"),
    (BallotType.cumulative, "每人把 10 分分给各个项目，一个项目最多 6 分"),
    (BallotType.ranked, "每人给最多 2 个项目排序，最想要的排第 1"),
])
def test_the_round_page_says_how_residents_vote(client, world, ballot_type, words):
    """Anyone opening the round sees the ballot type and its limits in plain words, before and after voting."""
    round_, _items = typed_round(world, ballot_type)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert words in page
    services.close_voting(round_, actor=world.secretary)
    assert words in client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)


@pytest.mark.parametrize("ballot_type,words", [(BallotType.cumulative, "每人把 10 分分给各个项目，一个项目最多 6 分"),
                                               (BallotType.ranked, "每人给最多 2 个项目排序，最想要的排第 1")])
def test_results_say_the_ballot_type_in_words_and_show_the_outcome_before_the_turnout(client, world, voters,
                                                                                      ballot_type, words):
    """On a phone the first screen of the results shows the projects and who won, and the ballot type with
    its real limits (not "top k")."""
    round_, (ramp, *_rest) = typed_round(world, ballot_type)
    services.cast_ballot(round_, voters[0], choices={ramp.id: 1})
    round_services.advance_round(round_, actor=world.secretary)
    page = client.get(url(round_, "results")).get_data(as_text=True)
    assert words in page and " k " not in page
    assert page.index('data-testid="result-row"') < page.index('id="turnout-heading"')


def test_demo_closed_rounds_export_and_pass_the_pabulib_checker(db_session):
    """The demo's closed rounds, exported, pass the `pabulib-checker` package."""
    from deliberation.demo import load_demo
    from deliberation.proposals.models import Round

    load_demo()
    counted = [r for r in db.session.scalars(select(Round)) if services.result_of(r) is not None]
    assert len(counted) >= 2
    for round_ in counted:
        assert_passes_the_pabulib_checker(exports.export_pb(round_))


def test_no_ballot_of_any_type_can_be_cast_twice(world, voters):
    round_, (ramp, *_rest) = typed_round(world, BallotType.cumulative)
    services.cast_ballot(round_, voters[0], choices={ramp.id: 3})
    with pytest.raises(DomainError):
        services.cast_ballot(round_, voters[0], choices={ramp.id: 3})
    assert db.session.scalar(select(func.count(SealedRow.id))) == 1
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


@pytest.mark.parametrize("ballot_type,field", [(BallotType.cumulative, "points"), (BallotType.ranked, "rank")])
def test_hostile_numbers_are_refused_with_a_message(client, world, as_user, voters, ballot_type, field):
    round_, (ramp, *_rest) = typed_round(world, ballot_type)
    as_user(voters[0])
    for value in ("1e9", "99999999999999999999999", "-5", "１", "\u202e3"):
        for path in ("vote/confirm", "vote/cast"):
            response = client.post(url(round_, path), data={f"{field}-{ramp.id}": value, f"{field}-abc": "1"})
            assert response.status_code in (409, 422), (value, path, response.status_code)
    as_user(world.secretary)
    client.post(url(round_, "paper/voters"), data={"voter-voter": "voter1"})
    keyed = client.post(url(round_, "paper/sheets"), data={"sheet-sheet": "H1", f"sheet-{field}-{ramp.id}": "x"})
    assert keyed.status_code == 422 and "只录入整数" in keyed.get_data(as_text=True)
    assert f'name="sheet-{field}-{ramp.id}" value="x"' in keyed.get_data(as_text=True)  # kept to correct
