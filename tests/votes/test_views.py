"""The ballot through HTTP: meter, confirmation, receipt, duplicate refusal, results, ballot list."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from deliberation.core import audit, secrecy
from deliberation.core.audit import AuditEvent
from deliberation.extensions import db
from deliberation.proposals import services as round_services
from deliberation.votes import services
from deliberation.votes.models import Ballot


def cast_via_pages(client, round_, choices) -> str:
    data = {"choices": [str(c) for c in choices]}
    confirm = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/confirm", data=data)
    assert confirm.status_code == 200, confirm.status_code
    cast = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/cast", data=data)
    assert cast.status_code == 303  # POST → redirect → GET: reload, back and the header's buttons keep it
    assert cast.headers["Location"] == f"/c/taoyuan/rounds/{round_.id}/vote/receipt"
    return receipt_code(client, round_)


def receipt_code(client, round_) -> str | None:
    """The code on the receipt page, or None when the page does not show one."""
    receipt = client.get(f"/c/taoyuan/rounds/{round_.id}/vote/receipt")
    if receipt.status_code != 200:
        return None
    assert receipt.headers["Cache-Control"] == "no-store"
    return re.search(r'data-testid="receipt-code">([0-9A-Z-]+)<', receipt.get_data(as_text=True)).group(1)


def header_next(page: str) -> str:
    """The `next` the header's language and text-size forms post."""
    return re.search(r'action="/prefs/text-size".*?name="next" value="([^"]*)"', page, re.S).group(1)


def test_ballot_page_meter_and_refusal_before_submit(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    as_user(voters[0])
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/vote").get_data(as_text=True)
    assert "坡道" in page and 'id="budget-meter"' in page
    meter = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/check", data={"choices": [ramp.id, bench.id]},
                        headers={"HX-Request": "true"})
    body = meter.get_data(as_text=True)
    assert "<html" not in body and "110,000 元" in body and "超过预算" in body
    refused = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/confirm", data={"choices": [ramp.id, bench.id]})
    assert refused.status_code == 422 and "超过预算" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_cast_shows_receipt_once_and_a_second_vote_is_refused(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    as_user(voters[0])
    confirm = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/confirm", data={"choices": [ramp.id, lamp.id]})
    page = confirm.get_data(as_text=True)
    assert "坡道" in page and "路灯" in page and "90,000 元" in page
    code = cast_via_pages(client, round_, [ramp.id, lamp.id])
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    again = client.get(f"/c/taoyuan/rounds/{round_.id}/vote", follow_redirects=True)
    assert again.status_code == 200 and "您已投票" in again.get_data(as_text=True)
    again = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/cast", data={"choices": [bench.id]})
    assert again.status_code == 409
    assert services.ballot_count(round_) == 1


def test_results_hidden_until_close_turnout_visible(client, world, as_user, voting, voters):
    round_, (ramp, *_rest) = voting
    as_user(voters[0])
    cast_via_pages(client, round_, [ramp.id])
    client.post("/logout")
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "已有 1 人投票" in page
    assert "（网上 1，纸质 0）" in page  # full-width brackets on a Chinese page
    assert client.get(f"/c/taoyuan/rounds/{round_.id}/results").status_code == 403
    assert client.get(f"/c/taoyuan/rounds/{round_.id}/ballots").status_code == 403
    assert client.get(f"/c/taoyuan/rounds/{round_.id}/ballots.csv").status_code == 403


def test_voter_finds_their_ballot_in_the_public_list(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    as_user(voters[0])
    code = cast_via_pages(client, round_, [lamp.id])
    as_user(voters[1])
    cast_via_pages(client, round_, [ramp.id])
    round_services.advance_round(round_, actor=world.secretary)
    client.post("/logout")
    page = client.post(f"/c/taoyuan/rounds/{round_.id}/ballots", data={"code": code.lower()}).get_data(as_text=True)
    mine = re.search(r'<article class="my-ballot" data-testid="my-ballot"[^>]*>(.*?)</article>', page, re.S).group(1)
    assert "路灯" in mine and "坡道" not in mine
    wrong = client.post(f"/c/taoyuan/rounds/{round_.id}/ballots", data={"code": "0000-0000-0000"})
    assert wrong.status_code == 422 and "没有找到这个回执码" in wrong.get_data(as_text=True)
    listing = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots.csv").get_data(as_text=True).splitlines()
    *listing, stamp = listing  # the last line is the audit log's head (a "#" comment)
    assert listing[0] == "receipt_hash,choices" and len(listing) == 3
    assert listing[1:] == sorted(listing[1:])
    assert stamp.startswith("# 审计日志链头 audit log head: ") and audit.head().hash in stamp


def test_results_page_shows_turnout_chart_winners_and_explanation(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    for voter, choices in zip(voters[:3], [[lamp.id], [lamp.id, bench.id], [ramp.id]], strict=True):
        services.cast_ballot(round_, voter, choices=choices)
    services.mark_paper_voter(round_, voters[3], actor=world.secretary)
    for operator in (world.secretary, world.admin):  # a blank paper ballot, keyed twice
        services.key_paper_sheet(round_, sheet="P-1", choices=[], operator=operator)
    round_services.advance_round(round_, actor=world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/results").get_data(as_text=True)
    assert "共计入 4 张选票" in page and "1 位纸质投票" in page
    assert page.count("<meter") == 3 and 'value="2"' in page
    assert "路灯：2 票赞成" in page and "因此入选" in page and "不够，因此跳过" in page
    counted = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.action == "round.counted"))
    assert "审计指纹" in page and f"<code>{counted}</code>" in page  # anchors the audit log at the count
    client.post("/prefs/locale", data={"locale": "en"})
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/results").get_data(as_text=True)
    assert "路灯: 2 approvals" in page and "so it is funded" in page


def test_override_is_shown_with_its_reason(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[lamp.id])
    round_services.advance_round(round_, actor=world.secretary)
    as_user(world.secretary)
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/results/override",
                           data={"winners": [ramp.id], "reason": "短"})
    assert response.status_code == 422 and "至少 10 个字" in response.get_data(as_text=True)
    client.post(f"/c/taoyuan/rounds/{round_.id}/results/override",
                data={"winners": [ramp.id], "reason": "议事会现场踏勘后认为坡道最为紧迫"})
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/results").get_data(as_text=True)
    assert "秘书调整了计票结果" in page and "议事会现场踏勘后认为坡道最为紧迫" in page
    overridden = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.action == "round.result_overridden"))
    assert f"<code>{overridden}</code>" in page  # the fingerprint now anchors the override too


def test_paper_pages_record_voters_and_key_sheets(client, world, as_user, voting, voters):
    round_, (ramp, *_rest) = voting
    as_user(world.secretary)
    assert client.post(f"/c/taoyuan/rounds/{round_.id}/paper/voters", data={"voter-voter": "voter0"}).status_code == 303
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/paper/voters", data={"voter-voter": "voter0"})
    assert response.status_code == 422 and "已在本批次投过票" in response.get_data(as_text=True)
    assert "您（或您家）" not in response.get_data(as_text=True)  # said to the operator, not to the voter
    client.post(f"/c/taoyuan/rounds/{round_.id}/paper/sheets", data={"sheet-sheet": "A1", "sheet-choices": [ramp.id]})
    as_user(world.admin)
    client.post(f"/c/taoyuan/rounds/{round_.id}/paper/sheets", data={"sheet-sheet": "a1", "sheet-choices": [ramp.id]})
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/paper").get_data(as_text=True)
    assert "已计入" in page
    assert db.session.scalar(select(func.count(Ballot.id))) == 1
    as_user(voters[0])
    assert client.get(f"/c/taoyuan/rounds/{round_.id}/vote").status_code == 303  # back to the round: voted


def test_results_exports(client, world, voting, voters):
    from io import BytesIO

    from openpyxl import load_workbook

    round_, (ramp, *_rest) = voting
    ramp.title = "=HYPERLINK(\"http://x\")\x0b坡道"  # a resident's title: neither a formula nor a broken file
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    round_services.advance_round(round_, actor=world.secretary)
    rows = client.get(f"/c/taoyuan/rounds/{round_.id}/results.csv").get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[0] == "编号,项目名称,预算（元）,赞成票,结果"
    assert "'=HYPERLINK" in "\n".join(rows)
    assert rows[-1].startswith("# 审计日志链头 audit log head: ") and audit.head().hash in rows[-1]
    workbook = load_workbook(BytesIO(client.get(f"/c/taoyuan/rounds/{round_.id}/results.xlsx").data))
    sheet = workbook.active
    assert sheet["A1"].value == "编号"
    assert workbook.sheetnames[-1] == "审计" and workbook["审计"]["B4"].value == audit.head().hash
    assert any(str(cell.value).startswith("'=HYPERLINK") for cell in sheet["B"])
    pb = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots.pb").get_data(as_text=True)
    assert pb.startswith("META") and "vote_type;approval" in pb


def test_export_pb_command(app, world, voting, voters, tmp_path):
    round_, (ramp, *_rest) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    round_services.advance_round(round_, actor=world.secretary)
    out = tmp_path / "r.pb"
    result = app.test_cli_runner().invoke(args=["export-pb", str(round_.id), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "PROJECTS" in out.read_text(encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["export-pb", "999999"]).exit_code != 0


def test_text_exports_state_their_charset_once(client, world, as_user, voting, voters):
    round_, (ramp, *_rest) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    round_services.advance_round(round_, actor=world.secretary)
    expected = {"ballots.csv": "text/csv; charset=utf-8", "results.csv": "text/csv; charset=utf-8",
                "ballots.pb": "text/plain; charset=utf-8"}
    for path, content_type in expected.items():
        response = client.get(f"/c/taoyuan/rounds/{round_.id}/{path}")
        assert response.headers["Content-Type"] == content_type, path
    as_user(world.secretary)
    response = client.get(f"/c/taoyuan/rounds/{round_.id}/proposals.csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_closing_with_unreconciled_paper_says_what_to_do_on_the_round_page(client, world, as_user, voting, voters):
    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[lamp.id])
    services.mark_paper_voter(round_, voters[1], actor=world.secretary)
    services.mark_paper_voter(round_, voters[2], actor=world.secretary)
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id, lamp.id], operator=world.secretary)
    as_user(world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert 'data-testid="paper-reconciliation"' in page and "只录入一次的选票" in page
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/advance")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/rounds/{round_.id}")
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "暂时不能进入“议事会决议”" in page and "只录入了一次" in page and "只录入了 1 张" in page
    assert client.get(f"/c/taoyuan/rounds/{round_.id}/results").status_code == 403  # not counted
    # The paper page shows the same reconciliation, and names the projects each keying ticked.
    paper = client.get(f"/c/taoyuan/rounds/{round_.id}/paper").get_data(as_text=True)
    assert 'data-testid="paper-reconciliation"' in paper
    entry = re.search(r'data-testid="sheet-entry">(.*?)</div>', paper, re.S).group(1)
    assert "坡道" in entry and "路灯" in entry and "#" not in entry.split("<form")[0]
    assert 'class="sheet-number"' in paper and 'class="sheet-state"' in paper
    # Residents see no reconciliation.
    as_user(voters[3])
    assert 'data-testid="paper-reconciliation"' not in client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)


def test_the_close_button_names_what_the_paper_ballots_still_need(client, world, as_user, voting, voters):
    """The round page shows what blocks closing instead of a button that would be refused."""
    round_, (ramp, *_rest) = voting
    services.mark_paper_voter(round_, voters[1], actor=world.secretary)
    as_user(world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "结束投票并计票" not in page and "只录入了 0 张" in page
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id], operator=world.secretary)
    services.key_paper_sheet(round_, sheet="P-1", choices=[ramp.id], operator=world.party)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    assert "结束投票并计票" in page


def test_the_paper_page_lists_paper_voters_and_withdraws_one_with_a_reason(client, world, as_user, voting, voters):
    round_, _projects = voting
    services.mark_paper_voter(round_, voters[1], actor=world.secretary)
    as_user(world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/paper").get_data(as_text=True)
    voter = re.search(r'data-testid="paper-voter">(.*?)</li>', page, re.S).group(1)
    assert voters[1].display_name in voter and "撤销" in voter
    record = services.paper_voters(round_)[0]
    url = f"/c/taoyuan/rounds/{round_.id}/paper/voters/{record.id}/withdraw"
    form = client.get(url).get_data(as_text=True)
    assert "可以重新" in form
    refused = client.post(url, data={"reason": ""})
    assert refused.status_code == 422 and services.paper_voters(round_)  # nothing changed
    assert client.post(url, data={"reason": "登记错了人"}).status_code == 303
    assert services.paper_voters(round_) == []
    assert "已撤销" in client.get(f"/c/taoyuan/rounds/{round_.id}/paper").get_data(as_text=True)


def test_the_turnout_answers_304_until_someone_votes(client, world):
    """The polled turnout is a bodiless 304 while nobody new has voted; a ballot changes it."""
    from deliberation.proposals.models import RoundPhase
    from deliberation.votes import services as voting
    from tests.factories import make_resident
    from tests.proposals.factories import make_proposal, make_round, move_to

    proposer, _ = make_resident(world.community, login="turnout-proposer")
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, proposer)
    move_to(round_, RoundPhase.voting, world.secretary, party=world.party)
    address = f"/c/taoyuan/rounds/{round_.id}/turnout"
    first = client.get(address, headers={"HX-Request": "true"})
    assert first.status_code == 200 and first.headers["ETag"]
    same = client.get(address, headers={"HX-Request": "true", "If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304 and same.get_data() == b""
    voting.cast_ballot(round_, proposer, choices=[proposal.id])
    after = client.get(address, headers={"HX-Request": "true", "If-None-Match": first.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != first.headers["ETag"]


def test_the_receipt_survives_reload_text_size_and_language(client, world, as_user, voting, voters):
    """Pressing 较大字体 or English on the receipt page used to answer 405 and lose the code."""
    round_, (ramp, _bench, _lamp) = voting
    as_user(voters[0])
    code = cast_via_pages(client, round_, [ramp.id])
    assert receipt_code(client, round_) == code  # reload
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/vote/receipt").get_data(as_text=True)
    assert "30 分钟" in page and "我已记下" in page
    bigger = client.post("/prefs/text-size", data={"next": header_next(page)}, follow_redirects=True)
    assert bigger.status_code == 200 and code in bigger.get_data(as_text=True)
    english = client.post("/prefs/locale", data={"locale": "en", "next": header_next(page)}, follow_redirects=True)
    body = english.get_data(as_text=True)
    assert english.status_code == 200 and code in body and "Your receipt code" in body


def test_the_receipt_code_is_never_in_a_log_a_url_or_the_cookie_in_clear(client, world, as_user, voting, voters,
                                                                          caplog):
    round_, (ramp, _bench, _lamp) = voting
    as_user(voters[0])
    caplog.set_level("DEBUG")
    data = {"choices": [str(ramp.id)]}
    cast = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/cast", data=data)
    code = receipt_code(client, round_)
    assert code is not None
    raw = code.replace("-", "")
    assert raw not in cast.headers["Location"] and code not in cast.headers["Location"]
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {r.__dict__!r}" for r in caplog.records)
    assert raw not in logged and code not in logged
    audited = " ".join(str(e.__dict__) for e in db.session.scalars(select(AuditEvent)))
    assert raw not in audited and code not in audited
    cookie = client.get_cookie("session").value
    assert raw not in cookie and code not in cookie
    kept = client.get_cookie("receipt")  # the code's own cookie: encrypted, HttpOnly, for 30 minutes
    assert kept.http_only and raw not in kept.value and code not in kept.value
    assert kept.expires is not None
    from flask.sessions import SecureCookieSessionInterface
    serializer = SecureCookieSessionInterface().get_signing_serializer(client.application)
    assert code not in str(serializer.loads(cookie))


def test_the_receipt_is_for_this_voter_only_and_ends_on_logout_noted_or_timeout(client, world, as_user, voting,
                                                                              voters, monkeypatch):
    round_, (ramp, _bench, lamp) = voting
    as_user(voters[0])
    code = cast_via_pages(client, round_, [ramp.id])
    as_user(voters[1])  # someone else on this browser, without the voter logging out
    shown = client.get(f"/c/taoyuan/rounds/{round_.id}/vote/receipt", follow_redirects=True).get_data(as_text=True)
    assert code not in shown and "回执码只在投票后 30 分钟内" in shown
    as_user(voters[0])
    assert receipt_code(client, round_) == code
    client.post("/logout")
    as_user(voters[0])
    assert receipt_code(client, round_) is None  # logging out forgot it
    as_user(voters[2])
    code = cast_via_pages(client, round_, [lamp.id])
    noted = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/receipt/noted")
    assert noted.status_code == 303 and noted.headers["Location"] == f"/c/taoyuan/rounds/{round_.id}"
    assert receipt_code(client, round_) is None

    as_user(voters[3])
    code = cast_via_pages(client, round_, [lamp.id])
    from deliberation.votes import receipt_stash
    later = receipt_stash.now() + receipt_stash.RECEIPT_MINUTES * 60 + 1
    monkeypatch.setattr(receipt_stash, "now", lambda: later)
    assert receipt_code(client, round_) is None
    assert services.ballot_count(round_) == 3  # every cast counted once


def test_a_receipt_drawn_twice_in_a_round_seals_the_second_ballot_under_another(client, world, as_user, voting,
                                                                                voters, monkeypatch):
    """A repeated receipt (odds about n in 2^60) must neither lose the ballot nor give two voters one code."""
    round_, (ramp, bench, _lamp) = voting
    drawn = iter(["AAAAAAAAAAAA", "AAAAAAAAAAAA", "BBBBBBBBBBBB"])
    monkeypatch.setattr(services, "new_receipt_code", lambda: next(drawn))
    as_user(voters[0])
    first = cast_via_pages(client, round_, [ramp.id])
    as_user(voters[1])
    second = cast_via_pages(client, round_, [bench.id])
    assert (first, second) == ("AAAA-AAAA-AAAA", "BBBB-BBBB-BBBB")
    assert services.ballot_count(round_) == 2
    assert sorted(services.receipt_hash(round_.id, code) for code in (first, second)) == sorted(
        ballot["receipt_hash"] for ballot in secrecy.peek(services.ballot_scope(round_)))


def test_a_receipt_cookie_tampered_with_or_from_another_key_shows_nothing_and_is_dropped(client, world, as_user,
                                                                                      voting, voters):
    round_, (ramp, _bench, _lamp) = voting
    as_user(voters[0])
    code = cast_via_pages(client, round_, [ramp.id])
    kept = client.get_cookie("receipt")
    assert kept.same_site == "Lax" and kept.path == "/"
    round_id, user_id, until, sealed = kept.value.split(".")
    for forged in (f"{round_id}.{user_id}.{int(until) + 3600}.{sealed}",  # a later end: the tag no longer fits
                   f"{round_id}.{user_id}.{until}.{sealed[:-4]}AAAA",  # the ciphertext changed
                   f"{round_id}.{user_id}.soon.{sealed}"):
        client.set_cookie("receipt", forged)
        shown = client.get(f"/c/taoyuan/rounds/{round_.id}/vote/receipt", follow_redirects=True)
        assert code not in shown.get_data(as_text=True) and client.get_cookie("receipt") is None
    assert services.ballot_count(round_) == 1


def test_the_header_buttons_on_a_422_page_of_a_post_only_route_lead_to_a_page(client, world, as_user, voting,
                                                                               voters):
    round_, (ramp, bench, _lamp) = voting
    as_user(voters[0])
    refused = client.post(f"/c/taoyuan/rounds/{round_.id}/vote/confirm", data={"choices": [ramp.id, bench.id]})
    assert refused.status_code == 422
    target = header_next(refused.get_data(as_text=True))
    assert target == f"/c/taoyuan/rounds/{round_.id}/vote"  # the ballot page, not the POST-only confirm URL
    bigger = client.post("/prefs/text-size", data={"next": target}, follow_redirects=True)
    assert bigger.status_code == 200 and 'id="budget-meter"' in bigger.get_data(as_text=True)


def test_the_public_list_does_not_tell_a_paper_ballot_from_an_online_one(client, world, voting, voters):
    """The one resident who voted on paper (the results say so, building by building; neighbours may know who
    went to the office) is not given away by the public list: no ballot is marked 'on paper', and the hash of
    a guessable sheet number (P-1, P-2, ...) finds nothing."""
    import hashlib

    round_, (ramp, bench, lamp) = voting
    services.cast_ballot(round_, voters[0], choices=[ramp.id])
    services.cast_ballot(round_, voters[1], choices=[bench.id])
    services.mark_paper_voter(round_, voters[2], actor=world.secretary)
    for operator in (world.secretary, world.admin):
        services.key_paper_sheet(round_, sheet="P-1", choices=[lamp.id], operator=operator)
    round_services.advance_round(round_, actor=world.secretary)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots").get_data(as_text=True)
    listing = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots.csv").get_data(as_text=True)
    pb = client.get(f"/c/taoyuan/rounds/{round_.id}/ballots.pb").get_data(as_text=True)
    assert page.count('data-testid="ballot"') == 3 and "路灯" in page
    assert "纸质" not in page and "网上" not in page
    assert listing.splitlines()[0] == "receipt_hash,choices" and "paper" not in listing
    guessed = {hashlib.sha256(f"deliberation-paper:{round_.id}:{sheet}".encode()).hexdigest()
               for sheet in ("P-1", "P1", "p-1", "1", "001")}
    assert not any(h[:16] in page or h in listing or h in pb for h in guessed)
