"""Numbers no column can hold, in addresses, parameters and forms, are refused with a translated
400 or 422, never a 500; the error page itself survives a failed transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberation.consultations import services as sessions
from deliberation.extensions import db
from deliberation.proposals.models import Comment, Round
from tests.conftest import login_as
from tests.councils.factories import make_council, make_session, start
from tests.evaluations.factories import make_organisation
from tests.proposals.factories import make_proposal, make_round

HUGE = "99999999999999999999"


@pytest.fixture(autouse=True)
def real_error_pages(app):
    """Exceptions become the 500 page, as in production, instead of reaching the test."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    yield
    app.config["PROPAGATE_EXCEPTIONS"] = None


@pytest.mark.parametrize("query", [f"page={HUGE}", f"estate={HUGE}", f"page=-{HUGE}", "page=abc"])
def test_round_list_parameters_beyond_any_column_are_a_400(client, world, query):
    round_ = make_round(world.community, world.secretary)
    response = client.get(f"/c/taoyuan/rounds/{round_.id}?{query}")
    assert response.status_code == 400
    assert "不是有效的数字" in response.get_data(as_text=True)


def test_a_page_past_the_end_is_an_empty_list_not_an_error(client, world):
    round_ = make_round(world.community, world.secretary)
    assert client.get(f"/c/taoyuan/rounds/{round_.id}?page=2147483647").status_code == 200


def test_residents_page_parameter_is_bounded(client, world):
    login_as(client, world.admin)
    assert client.get(f"/c/taoyuan/admin/residents?page={HUGE}").status_code == 400


@pytest.mark.parametrize("path", [f"/c/taoyuan/rounds/{HUGE}", f"/c/taoyuan/proposals/{HUGE}",
                                  f"/c/taoyuan/council/{HUGE}", f"/c/taoyuan/sessions/{HUGE}"])
def test_ids_in_addresses_beyond_any_column_are_not_found(client, world, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("field", ["budget", "project_cap", "cap_services", "cap_goods", "cap_works",
                                   "support_threshold"])
@pytest.mark.parametrize("value", ["1" + "0" * 20, "-1" + "0" * 20])
def test_round_form_refuses_numbers_too_large_for_a_column(client, world, field, value):
    login_as(client, world.secretary)
    before = db.session.scalar(select(func.count()).select_from(Round))
    data = {"title": "2028年度", "budget": "2000000", "project_cap": "500000", "cap_services": "200000",
            "cap_goods": "500000", "cap_works": "500000", "support_threshold": "0", "publicity_days": "5",
            field: value}
    response = client.post("/c/taoyuan/rounds/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "这个数太大了" in page and 'name="title"' in page  # the form comes back with the message
    assert db.session.scalar(select(func.count()).select_from(Round)) == before


def test_round_form_message_is_translated_to_english(client, world):
    login_as(client, world.secretary)
    client.post("/prefs/locale", data={"locale": "en"})
    response = client.post("/c/taoyuan/rounds/new", data={"title": "x", "budget": "1" + "0" * 20})
    assert response.status_code == 422 and "This number is too large" in response.get_data(as_text=True)


def test_comment_reply_to_a_parent_beyond_any_column(client, world):
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, world.resident)
    login_as(client, world.resident)
    before = db.session.scalar(select(func.count()).select_from(Comment))
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/comments", data={"body": "好", "parent_id": HUGE})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Comment)) == before


def test_survey_with_a_rubric_beyond_any_column(client, world):
    firm = make_organisation(world.community, actor=world.admin)
    login_as(client, world.party)
    response = client.post(f"/c/taoyuan/organisations/{firm.id}/surveys/new",
                           data={"rubric": HUGE, "closes_on": "2030-01-01"})
    assert response.status_code == 422


def test_minutes_correction_of_an_item_beyond_any_column(client, world):
    council = make_council(world.community, world.admin, members=3)
    session = make_session(world.community, world.secretary, council)
    start(session, world.secretary)
    sessions.adjourn_session(session, actor=world.secretary)
    sessions.publish_minutes(session, summary="原文", actor=world.secretary)
    login_as(client, world.secretary)
    response = client.post(f"/c/taoyuan/sessions/{session.id}/minutes/correct",
                           data={"item": HUGE, "text": "新文", "reason": "笔误"})
    assert response.status_code in (400, 422)


def test_error_page_survives_a_transaction_the_database_refused(client, world, monkeypatch):
    from deliberation.proposals import services as proposal_services

    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, world.resident)

    def broken_add_comment(proposal, author, **kwargs):
        db.session.add(Comment(proposal_id=proposal.id, author_id=author.id, body=None))  # NOT NULL
        db.session.flush()

    monkeypatch.setattr(proposal_services, "add_comment", broken_add_comment)
    login_as(client, world.resident)
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/comments", data={"body": "好"})
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "出错了" in page and "退出" in page  # the translated page in the layout of a signed-in user


def test_a_nul_character_is_refused_before_it_reaches_the_database(client, world):
    round_ = make_round(world.community, world.secretary)
    proposal = make_proposal(round_, world.resident)
    login_as(client, world.resident)
    before = db.session.scalar(select(func.count()).select_from(Comment))
    response = client.post(f"/c/taoyuan/proposals/{proposal.id}/comments", data={"body": "好\x00主意"})
    assert response.status_code == 400 and "无法保存的字符" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == before
    assert client.get(f"/c/taoyuan/rounds/{round_.id}?q=%00").status_code == 400


def test_export_pb_refuses_a_round_number_beyond_any_column(app, db_session):
    result = app.test_cli_runner().invoke(args=["export-pb", HUGE])
    assert result.exit_code == 2 and "Error: Invalid value" in result.output
    assert not isinstance(result.exception, OverflowError)
