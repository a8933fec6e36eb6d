"""After voting, and the public ballot list on a phone: the round says "you have voted", and a voter
finds their own ballot at the top of a paged, searchable list."""

from __future__ import annotations

import re

from deliberation.proposals import services as round_services
from deliberation.votes import services


def test_round_page_says_you_have_voted_instead_of_a_vote_button(client, world, as_user, voting, voters):
    round_, (ramp, *_rest) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    as_user(voters[0])
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "您已投票" in page and 'data-testid="vote-link"' not in page
    assert f"/c/taoyuan/rounds/{round_.id}/vote" not in page
    as_user(voters[1])  # who has not voted still gets the button
    assert 'data-testid="vote-link"' in client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    round_services.advance_round(round_, actor=world.secretary)
    as_user(voters[0])
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "您已投票" in page
    assert re.search(rf'data-testid="voted".*?href="/c/taoyuan/rounds/{round_.id}/ballots"', page, re.S)


def test_the_vote_link_after_voting_leads_back_to_the_round(client, world, as_user, voting, voters):
    round_, (ramp, *_rest) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    as_user(voters[0])
    response = client.get(f"/c/taoyuan/rounds/{round_.id}/vote")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/c/taoyuan/rounds/{round_.id}")


def _many_ballots(world, round_, items, n: int) -> str:
    from tests.factories import make_resident

    ramp, bench, lamp = items
    code = None
    for i in range(n):
        voter, _ = make_resident(world.community)
        receipt = services.cast_ballot(round_, voter, choices=[lamp.id] if i == n // 2 else [[ramp.id], [bench.id]][i % 2])
        if i == n // 2:
            code = receipt
    round_services.advance_round(round_, actor=world.secretary)
    return code


def test_finding_ones_ballot_shows_its_choices_at_the_top_and_the_list_is_paged(client, world, voting):
    round_, items = voting
    code = _many_ballots(world, round_, items, 120)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots").get_data(as_text=True)
    assert page.count('data-testid="ballot"') == 50  # paged, not a 25,800 px page
    assert "第 1 页，共 3 页" in page
    page3 = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots?page=3").get_data(as_text=True)
    assert page3.count('data-testid="ballot"') == 20
    found = client.post(f"/c/taoyuan/rounds/{round_.id}/ballots", data={"code": code}).get_data(as_text=True)
    top = found.index('data-testid="my-ballot"')
    assert top < found.index('class="ballot-list"')  # before the list, at the top of the page
    mine = re.search(r'data-testid="my-ballot".*?</article>', found, re.S).group(0)
    assert "<li>路灯</li>" in mine and "坡道" not in mine  # project names, one per line


def test_ballot_list_is_searchable_by_hash(client, world, voting):
    round_, items = voting
    _many_ballots(world, round_, items, 60)
    first = services.round_ballots(round_)[7].receipt_hash
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots", query_string={"q": first[:10]}).get_data(as_text=True)
    assert page.count('data-testid="ballot"') == 1 and first[:16] in page


def test_pending_resident_is_told_why_and_what_to_do(client, world, as_user, voting):
    round_, (ramp, *_rest) = voting
    as_user(world.unverified)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert 'data-testid="pending-notice"' in page and "等待社区工作站核实" in page and "社区工作站办理" in page
    vote = client.get(f"/c/taoyuan/rounds/{round_.id}/vote")
    assert vote.status_code == 403 and "核实之后即可投票" in vote.get_data(as_text=True)
    detail = client.get(f"/c/taoyuan/proposals/{ramp.id}").get_data(as_text=True)
    assert 'data-testid="pending-notice"' in detail
