"""Rounds and proposals through HTTP: forms, htmx partials, bad input, exports."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from deliberation.core import audit, uploads
from deliberation.extensions import db
from deliberation.proposals.models import Category, Comment, Objection, Proposal, ProposalStatus, Round, RoundPhase
from tests.factories import building

from .factories import jpeg_bytes, make_proposal, make_round, move_to


def proposal_form(world, **overrides):
    data = {"title": "楼道加装扶手", "description": "老人上下楼不方便。", "category": "works", "cost": "30,000",
            "place": f"b{building(world.community).id}", "location_text": ""}
    return {**data, **overrides}


def proposals_count() -> int:
    return db.session.scalar(select(func.count(Proposal.id)))


def test_secretary_creates_a_round(client, world, as_user):
    as_user(world.secretary)
    response = client.post("/c/taoyuan/rounds/new", data={
        "title": "2027年度民生微实事", "budget": "2,000,000", "project_cap": "500000", "cap_services": "200000",
        "cap_goods": "500000", "cap_works": "500000", "support_threshold": "3", "branch_review_enabled": "y",
        "publicity_days": "5", "start_collecting": "2027-01-01", "start_screening": "2027-02-01"})
    assert response.status_code == 303
    round_ = db.session.scalar(select(Round))
    assert round_.budget == 2_000_000 and round_.support_threshold == 3
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'aria-current="step"' in page and "征集" in page and "2027-02-01" in page


@pytest.mark.parametrize("overrides,message", [
    ({"budget": "abc"}, "请输入整数金额"),
    ({"budget": "0"}, "预算必须是正数"),
    ({"project_cap": "9,000,000"}, "单个项目上限必须为正数"),
    ({"title": ""}, "此项必填。"),
    ({"publicity_days": "0"}, "1 到 60 天"),
    ({"start_collecting": "2027-05-01", "start_screening": "2027-02-01"}, "计划日期必须按阶段顺序"),
])
def test_bad_round_input_is_explained_and_nothing_saved(client, world, as_user, overrides, message):
    as_user(world.secretary)
    data = {"title": "批次", "budget": "1000000", "project_cap": "500000", "cap_services": "200000",
            "cap_goods": "500000", "cap_works": "500000", "publicity_days": "5", **overrides}
    response = client.post("/c/taoyuan/rounds/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Round.id))) == 0


def test_resident_submits_a_proposal_with_a_photo(client, world, as_user, round_):
    as_user(world.resident)
    data = proposal_form(world, photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg")])
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    proposal = db.session.scalar(select(Proposal))
    assert proposal.cost == 30_000 and len(proposal.photos) == 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "楼道加装扶手" in page and f"/uploads/{proposal.photos[0].filename}" in page
    assert client.get(f"/uploads/{proposal.photos[0].filename}").status_code == 200


@pytest.mark.parametrize("overrides,files,message", [
    ({"cost": "-5"}, None, "预估费用必须是正整数"),
    ({"cost": "600000"}, None, "最多 500,000 元"),
    ({"category": "services", "cost": "250000"}, None, "最多 200,000 元"),
    ({"title": ""}, None, "此项必填。"),
    ({"description": ""}, None, "此项必填。"),
    ({}, [(io.BytesIO(b"not an image at all"), "photo.jpg")], "不是可读取的 JPEG、PNG 或 WebP 照片"),
    ({}, [(io.BytesIO(b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024)), "big.jpg")], "照片超过 5 MB"),
])
def test_bad_proposal_input_is_explained_and_nothing_saved(client, world, as_user, round_, overrides, files, message):
    as_user(world.resident)
    data = proposal_form(world, **overrides)
    if files:
        data["photos"] = files
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "楼道加装扶手" in page or overrides.get("title") == ""  # what was typed is kept
    assert proposals_count() == 0


def test_proposing_in_a_round_that_is_not_collecting_is_explained(client, world, as_user, round_):
    move_to(round_, RoundPhase.screening, world.secretary)
    as_user(world.resident)
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=proposal_form(world))
    assert response.status_code == 409
    assert "该批次目前不征集项目" in response.get_data(as_text=True)
    assert proposals_count() == 0


def test_co_sign_with_htmx_returns_the_panel(client, world, as_user, proposal, neighbour):
    as_user(neighbour)
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/support", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="support-panel"' in body and "<html" not in body
    assert "1 人附议" in body
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/support", headers={"HX-Request": "true"})
    assert response.status_code == 409
    db.session.refresh(proposal)
    assert proposal.support_count == 1
    client.post(f"/c/taoyuan/proposals/{proposal.id}/withdraw-support")
    db.session.refresh(proposal)
    assert proposal.support_count == 0


def test_list_filters_sort_search_and_htmx_partial(client, world, round_, neighbour):
    make_proposal(round_, world.resident, title="儿童游乐场翻新", category=Category.goods, cost=300_000)
    make_proposal(round_, neighbour, title="长者饭堂", cost=20_000)
    url = f"/c/taoyuan/rounds/{round_.id}"
    page = client.get(url, query_string={"q": "饭堂"}).get_data(as_text=True)
    assert "长者饭堂" in page and "儿童游乐场翻新" not in page
    page = client.get(url, query_string={"category": "goods"}).get_data(as_text=True)
    assert "儿童游乐场翻新" in page and "长者饭堂" not in page
    partial = client.get(url, query_string={"sort": "cost_low"}, headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert "<html" not in body and body.index("长者饭堂") < body.index("儿童游乐场翻新")
    assert "HX-Request" in partial.headers["Vary"]
    page = client.get(url, query_string={"q": "%_"}).get_data(as_text=True)  # wildcards are literal
    assert "0 个项目" in page


def test_screening_accept_reject_with_reason_shown_publicly(client, world, as_user, round_, neighbour):
    a = make_proposal(round_, world.resident)
    b = make_proposal(round_, neighbour, title="楼顶花园")
    move_to(round_, RoundPhase.screening, world.secretary)
    as_user(world.secretary)
    client.post(f"/c/taoyuan/proposals/{a.id}/accept")
    response = client.post(f"/c/taoyuan/proposals/{b.id}/reject", data={"reason": ""})
    assert response.status_code == 422 and "此项必填。" in response.get_data(as_text=True)
    client.post(f"/c/taoyuan/proposals/{b.id}/reject", data={"reason": "楼顶属于公共维修基金范围"})
    db.session.refresh(a)
    db.session.refresh(b)
    assert a.status == ProposalStatus.accepted and b.status == ProposalStatus.rejected
    client.post("/logout")
    assert "楼顶属于公共维修基金范围" in client.get(f"/c/taoyuan/proposals/{b.id}").get_data(as_text=True)


def test_party_branch_strikes_then_passes_the_list(client, world, as_user, round_, neighbour):
    a = make_proposal(round_, world.resident)
    b = make_proposal(round_, neighbour, title="外墙广告屏")
    move_to(round_, RoundPhase.branch_review, world.secretary)
    as_user(world.party)
    client.post(f"/c/taoyuan/proposals/{b.id}/strike", data={"reason": "商业广告不属于民生项目"})
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/advance", data={"confirmed": "1"})
    assert response.status_code == 303
    db.session.refresh(round_)
    assert round_.phase == RoundPhase.voting
    page = client.get(f"/c/taoyuan/proposals/{a.id}").get_data(as_text=True)
    assert "列入投票" in page


def test_resolution_form_refuses_over_budget(client, world, as_user, neighbour):
    round_ = make_round(world.community, world.secretary, budget=100_000, project_cap=100_000)
    a = make_proposal(round_, world.resident, cost=70_000)
    b = make_proposal(round_, neighbour, cost=60_000, title="休闲座椅")
    move_to(round_, RoundPhase.council_resolution, world.secretary, party=world.party)
    as_user(world.secretary)
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/resolution",
                           data={"funded": [str(a.id), str(b.id)], "note": "议事会第3次会议"})
    assert response.status_code == 422 and "超过预算" in response.get_data(as_text=True)
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/resolution", data={"funded": [str(a.id)], "note": "议事会第3次会议"})
    assert response.status_code == 303
    home = client.get("/c/taoyuan").get_data(as_text=True)
    assert "公示中的项目" in home and "加装无障碍坡道" in home


def test_objection_and_public_answer(client, world, as_user, proposal, neighbour):
    move_to(proposal.round, RoundPhase.publicity, world.secretary, party=world.party)
    as_user(neighbour)
    client.post(f"/c/taoyuan/proposals/{proposal.id}/objections", data={"body": "施工时间会影响出行吗？"})
    objection = db.session.scalar(select(Objection))
    as_user(world.secretary)
    client.post(f"/c/taoyuan/objections/{objection.id}/answer", data={"answer": "安排在周末施工。"})
    page = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert "施工时间会影响出行吗？" in page and "安排在周末施工。" in page
    assert objection.answer == "安排在周末施工。"


def test_progress_and_rating_through_the_pages(client, world, as_user, proposal, neighbour):
    move_to(proposal.round, RoundPhase.implementing, world.secretary, party=world.party)
    as_user(world.secretary)
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/progress",
                           data={"body": "已完工", "completed": "y", "photos": [(io.BytesIO(jpeg_bytes()), "done.jpg")]},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    as_user(neighbour)
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/rating", data={"stars": "9"})
    assert response.status_code == 422
    client.post(f"/c/taoyuan/proposals/{proposal.id}/rating", data={"stars": "4"})
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/rating", data={"stars": "5"})
    assert response.status_code == 422 and "您已经评价过这个项目" in response.get_data(as_text=True)
    page = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert "4.0" in page and "1 位居民" in page


def test_comment_report_hide_restore(client, world, as_user, proposal, neighbour):
    as_user(neighbour)
    client.post(f"/c/taoyuan/proposals/{proposal.id}/comments", data={"body": "这个很有必要"})
    comment = db.session.scalar(select(Comment))
    as_user(world.resident)
    client.post(f"/c/taoyuan/comments/{comment.id}/report")
    as_user(world.secretary)
    assert "这个很有必要" in client.get(f"/c/taoyuan/rounds/{proposal.round_id}/moderation").get_data(as_text=True)
    client.post(f"/c/taoyuan/comments/{comment.id}/hide", data={"reason": "测试隐藏"})
    page = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert "这个很有必要" not in page and "测试隐藏" in page


@pytest.mark.parametrize("role,offered", [("resident", True), ("admin", True), ("party", True),
                                          ("unverified", False), ("other_admin", False), ("site_admin", False)])
def test_report_button_only_for_residents_and_staff_of_the_community(client, world, as_user, proposal, neighbour,
                                                                     role, offered):
    from deliberation.proposals import services

    comment = services.add_comment(proposal, neighbour, body="这个很有必要")
    as_user(world.user(role))
    page = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert (f"/comments/{comment.id}/report" in page) is offered
    response = client.post(f"/c/taoyuan/comments/{comment.id}/report")
    assert response.status_code == (303 if offered else 403)


def test_exports_have_chinese_headers_and_neutralise_formulas(client, world, as_user, round_):
    make_proposal(round_, world.resident, title="=HYPERLINK(\"http://x\")")
    as_user(world.secretary)
    response = client.get(f"/c/taoyuan/rounds/{round_.id}/proposals.csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:4] == ["编号", "项目名称", "类别", "预算（元）"]
    assert rows[1][1].startswith("'=") and rows[1][2] == "工程类" and rows[1][3] == "80000"
    # The last line is a comment with the audit log's head at export time: the file anchors the log.
    assert len(rows) == 3 and rows[2][0].startswith("# 审计日志链头 audit log head: ")
    assert rows[2][0].split()[-4:-2] == [str(audit.head().seq), audit.head().hash]
    response = client.get(f"/c/taoyuan/rounds/{round_.id}/proposals.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook.active
    assert sheet["A1"].value == "编号" and sheet["D2"].value == 80000
    assert workbook.sheetnames == ["项目清单", "审计"] and workbook["审计"]["B4"].value == audit.head().hash


def test_exports_survive_control_characters_pasted_into_a_proposal(client, world, as_user, round_):
    """A vertical tab pasted from Word is legal in a form but not in an .xlsx: the export must not fail."""
    make_proposal(round_, world.resident, title="加装扶手\x0b一楼", description="说明\x01")
    as_user(world.secretary)
    response = client.get(f"/c/taoyuan/rounds/{round_.id}/proposals.xlsx")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.data)).active["B2"].value == "加装扶手 一楼"
    assert "加装扶手 一楼" in client.get(f"/c/taoyuan/rounds/{round_.id}/proposals.csv").get_data(as_text=True)


def test_proposer_sees_a_merge_on_their_own_page(client, world, as_user, round_, neighbour):
    source = make_proposal(round_, world.resident, title="健身器材")
    target = make_proposal(round_, neighbour, title="小区健身角")
    move_to(round_, RoundPhase.screening, world.secretary)
    as_user(world.secretary)
    client.post(f"/c/taoyuan/proposals/{source.id}/merge", data={"target": target.id})
    as_user(world.resident)
    page = client.get("/account").get_data(as_text=True)
    assert "健身器材" in page and "已合并到" in page and "小区健身角" in page


def stored_files(app) -> set[str]:
    """The names of the stored public photos."""
    return set(db.session.scalars(select(uploads.StoredFile.name).where(uploads.StoredFile.area == uploads.PUBLIC)))


def test_photos_of_a_refused_proposal_leave_no_file_behind(app, client, world, as_user, round_):
    before = stored_files(app)
    as_user(world.resident)
    data = proposal_form(world, photos=[(io.BytesIO(jpeg_bytes()), "1.jpg"), (io.BytesIO(jpeg_bytes()), "2.jpg"),
                                        (io.BytesIO(b"not an image at all"), "3.jpg")])
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    assert response.status_code == 422 and proposals_count() == 0
    assert stored_files(app) == before  # the first two photos are only kept for the next try (not public)


def test_a_photo_the_proposer_removes_is_no_longer_served(app, client, world, as_user, round_):
    as_user(world.resident)
    data = proposal_form(world, photos=[(io.BytesIO(jpeg_bytes()), "1.jpg"), (io.BytesIO(jpeg_bytes()), "2.jpg")])
    client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    proposal = db.session.scalar(select(Proposal))
    removed, kept = proposal.photos
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/edit",
                           data=proposal_form(world, remove_photos=[str(removed.id)]), content_type="multipart/form-data")
    assert response.status_code == 303
    assert client.get(f"/uploads/{removed.filename}").status_code == 404
    assert client.get(f"/uploads/{kept.filename}").status_code == 200
    assert removed.filename not in stored_files(app) and kept.filename in stored_files(app)


def test_the_default_place_not_tied_to_one_place_is_accepted(client, world, as_user, round_):
    as_user(world.resident)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/propose").get_data(as_text=True)
    assert re.search(r'<option[^>]*value=""[^>]*>不限具体地点</option>', page)  # the default choice
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose",
                           data=proposal_form(world, place="", location_text=""))
    assert response.status_code == 303
    assert proposals_count() == 1


def test_every_mistake_is_shown_at_once(client, world, as_user, round_):
    as_user(world.resident)
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose",
                           data=proposal_form(world, title="", category="services", cost="250000"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "此项必填。" in page and "最多 200,000 元" in page  # the form's and the round's rules together
    assert proposals_count() == 0


def test_each_estate_appears_once_in_the_place_list(client, world, as_user, round_):
    as_user(world.resident)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}/propose").get_data(as_text=True)
    groups = re.findall(r'<optgroup label="([^"]+)"', page)
    assert groups and len(groups) == len(set(groups)) == len(world.community.estates)


def _kept_token(page: str) -> str:
    match = re.search(r'name="photo_stash" value="([^"]+)"', page)
    assert match, "the form carries the kept photos on"
    return match.group(1)


def test_photos_are_kept_when_the_form_comes_back_with_a_mistake(client, world, as_user, round_):
    as_user(world.resident)
    data = proposal_form(world, title="", photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg"),
                                                  (io.BytesIO(jpeg_bytes(color=(0, 0, 200))), "台阶.jpg")])
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "已保留 2 张照片，无需重新选择" in page
    token = _kept_token(page)
    # The resident fixes the title and drops the second photo; no file is chosen again.
    second = re.findall(r'name="drop_photo" value="([^"]+)"', page)[1]
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose",
                           data=proposal_form(world, photo_stash=token, drop_photo=second),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    proposal = db.session.scalar(select(Proposal))
    assert len(proposal.photos) == 1


def test_a_refused_photo_is_named_and_the_good_ones_are_kept(client, world, as_user, round_):
    as_user(world.resident)
    data = proposal_form(world, photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg"),
                                        (io.BytesIO(b"not an image at all"), "photo.jpg")])
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "不是可读取的 JPEG、PNG 或 WebP 照片" in page and "已保留 1 张照片" in page
    assert proposals_count() == 0


def test_kept_photos_are_only_for_the_person_who_chose_them(app, client, world, as_user, round_, neighbour):
    from tests.conftest import login_as

    as_user(world.resident)
    data = proposal_form(world, title="", photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg")])
    page = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    token = _kept_token(page)
    other = app.test_client()
    login_as(other, neighbour)
    response = other.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=proposal_form(world, photo_stash=token))
    assert response.status_code == 303
    assert db.session.scalar(select(Proposal)).photos == []


def test_a_neighbour_reaches_the_co_sign_button_before_the_photos(client, world, as_user, round_):
    """On a phone the proposal's photo filled the first screen and pushed 附议 below it."""
    from tests.factories import make_resident

    as_user(world.resident)
    data = proposal_form(world, photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg")])
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    neighbour, _ = make_resident(world.community, login="neighbour-cosigner")
    db.session.commit()
    as_user(neighbour)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert page.index("附议</button>") < page.index('<div class="photos">')


def test_a_proposal_accepted_below_the_threshold_says_why_with_a_chinese_colon(client, world, as_user, round_):
    proposal = make_proposal(round_, world.resident)
    proposal.threshold_reason = "议事会认为急需。"
    db.session.commit()
    page = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert re.search(r"未达附议门槛[^<]*：</strong>", page), re.findall(r"门槛.{0,40}", page)


def test_the_branch_reviewing_a_list_is_told_how_to_strike_an_item_before_approving_it(client, world, as_user, round_):
    """The round page offered the branch one button, 通过清单，开始投票, and no word on how to strike an item."""
    proposal = make_proposal(round_, world.resident)
    move_to(round_, RoundPhase.branch_review, world.secretary)
    db.session.commit()
    as_user(world.party)
    page = client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
    hint = page.index("如需删除某个项目")
    assert "从投票清单中删除" in page[hint:hint + 200] and 'href="#proposals-heading"' in page[hint:hint + 400]
    assert hint < page.index('id="proposals-heading"')
    detail = client.get(f"/c/taoyuan/proposals/{proposal.id}").get_data(as_text=True)
    assert "从投票清单中删除" in detail
    as_user(world.resident)
    assert "如需删除某个项目" not in client.get(f"/c/taoyuan/rounds/{round_.id}").get_data(as_text=True)
