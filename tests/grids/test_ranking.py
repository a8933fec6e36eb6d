"""The public ranking page, the trend pages and the exports, through the browser's eyes."""

from __future__ import annotations

import html
import io
import zipfile
from datetime import datetime, timedelta

import pytest

from deliberation.core.models import utcnow
from deliberation.extensions import db
from deliberation.grids import rates, services, topics
from deliberation.grids import requests as handling
from deliberation.grids.models import Channel, MonthlyTopic, RequestCategory, RequestType, UnitKind
from tests.access import assert_access
from tests.conftest import login_as
from tests.factories import building, make_user
from tests.grids.factories import file


def page(response) -> str:
    return response.get_data(as_text=True)


def rated(w, g, *, unit, rep, satisfaction: int, resolved: bool = True, when: datetime | None = None):
    now = when or utcnow() - timedelta(days=1)
    req = file(w, now=now)
    handling.sign(req, actor=g.worker, now=now)
    handling.whistle(req, unit, actor=g.worker, now=now)
    handling.unit_sign(req, actor=rep, now=now)
    handling.answer(req, actor=rep, text="已处理", now=now)
    handling.rate(req, resident=w.resident, resolved=resolved, satisfaction=satisfaction, now=now)
    return req


def test_the_ranking_puts_the_better_unit_first_and_prints_the_definitions(client, world, g):
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=2, resolved=False)
    rated(world, g, unit=g.street, rep=g.street_rep, satisfaction=5)
    db.session.commit()
    body = page(client.get("/c/taoyuan/requests/ranking"))
    assert "data-testid=\"rate-definitions\"" in body and "45%" in body
    units = body[body.index('data-testid="ranking-units"'):body.index('data-testid="ranking-grids"')]
    assert units.index("桃源街道城管科") < units.index(g.firm_unit.name)
    assert "100.0%" in units and "<svg" in body and "<polyline" not in body  # one month: points, no lines


def test_the_trend_pages_draw_one_line_per_rate(client, world, g):
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=5, when=utcnow() - timedelta(days=45))
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=3, when=utcnow() - timedelta(days=10))
    db.session.commit()
    body = page(client.get(f"/c/taoyuan/requests/ranking/units/{g.firm_unit.id}"))
    assert body.count("<polyline") == 3 and 'data-testid="trend-table"' in body
    body = page(client.get(f"/c/taoyuan/requests/ranking/grids/{g.micro.id}"))
    assert body.count("<polyline") == 3


@pytest.mark.parametrize("month", ["2026-13", "abc", "1999-01"])
def test_a_bad_month_is_not_found(client, world, g, month):
    assert client.get(f"/c/taoyuan/requests/ranking?month={month}").status_code == 404
    assert client.get(f"/c/taoyuan/requests/ranking/units/{g.firm_unit.id}?month={month}").status_code == 404


def test_a_unit_or_grid_of_another_community_is_not_found(client, world, g):
    assert client.get(f"/c/other/requests/ranking/units/{g.firm_unit.id}").status_code == 404
    assert client.get(f"/c/other/requests/ranking/grids/{g.micro.id}").status_code == 404


def test_the_ranking_page_runs_a_fixed_number_of_queries(client, world, g, count_queries):
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=4)
    db.session.commit()
    client.get("/c/taoyuan/requests/ranking")  # warm up
    with count_queries() as few:
        assert client.get("/c/taoyuan/requests/ranking").status_code == 200
    for n in range(8):
        unit = services.create_unit(world.community, kind=UnitKind.other, name=f"单位{n}", actor=world.admin)
        rep = make_user(login=f"rep{n}")
        services.add_representative(unit, rep, actor=world.admin)
        for s in (1, 5):
            rated(world, g, unit=unit, rep=rep, satisfaction=s, when=utcnow() - timedelta(days=35 * (n % 3)))
    db.session.commit()
    with count_queries() as many:
        assert client.get("/c/taoyuan/requests/ranking").status_code == 200
    assert many.count == few.count


def _text_of(data: bytes, fmt: str) -> bytes:
    if fmt == "csv":
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:  # every part, with XML character references resolved
        return "".join(html.unescape(archive.read(name).decode("utf-8")) for name in archive.namelist()).encode()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_never_contain_who_asked(client, world, g, fmt):
    req = rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=4)
    fields = handling.RequestFields(type=RequestType.complaint, category=RequestCategory.noise,
                                    text="欧阳锋家装修太吵", building=building(world.community, "1栋"),
                                    place="3单元402")
    handling.file_request(world.community, fields=fields, channel=Channel.phone, entered_by=g.worker,
                          requester_name="欧阳锋", requester_phone="13912345678")
    db.session.commit()
    login_as(client, world.admin)
    month = rates.month_of(req.created_at)
    response = client.get(f"/c/taoyuan/requests/export.{fmt}?month={month}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    content = _text_of(response.data, fmt)
    assert "噪音".encode() in content  # the phoned-in request is there, labelled in Chinese
    assert g.firm_unit.name.encode() in content
    secrets = ["欧阳锋", "13912345678", "3单元402", world.resident.display_name, world.resident.phone, "楼道灯坏了"]
    for secret in secrets:
        assert secret.encode() not in content, secret
    rates_export = _text_of(client.get(f"/c/taoyuan/requests/ranking/export.{fmt}?month={month}").data, fmt)
    assert g.firm_unit.name.encode() in rates_export
    for secret in secrets:
        assert secret.encode() not in rates_export, secret


def test_the_rates_export_carries_the_exact_counts(client, world, g):
    req = rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=4)
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=2, resolved=False)
    db.session.commit()
    month = rates.month_of(req.closed_at)
    text = client.get(f"/c/taoyuan/requests/ranking/export.csv?month={month}").data.decode("utf-8-sig")
    line = next(row for row in text.splitlines() if row.startswith(f"{month},承办单位,{g.firm_unit.name},"))
    assert line.split(",")[7:12] == ["2", "1", "50.0%", "1", "50.0%"]


ROLES = ["anonymous", "unverified", "resident", "admin", "other_admin", "party", "worker", "firm_rep"]


def user_of(world, g, role):
    return {"worker": g.worker, "firm_rep": g.firm_rep}.get(role) or world.user(role)


# The route-by-role matrix of these routes is in tests/grids/test_permissions.py.
@pytest.mark.parametrize("role", ROLES)
def test_choosing_the_topic_is_for_the_office_only(client, world, g, role):
    user = user_of(world, g, role)
    if user is not None:
        login_as(client, user)
    response = client.post("/c/taoyuan/requests/topics/choose",
                           data={"month": rates.current_month(), "category": "parking"})
    assert_access(response, role, {"admin"})


@pytest.mark.parametrize("role", ROLES)
def test_a_chosen_topic_page_is_public(client, world, g, role):
    topics.choose(world.community, rates.current_month(), category=RequestCategory.parking, actor=world.admin)
    db.session.commit()
    user = user_of(world, g, role)
    if user is not None:
        login_as(client, user)
    assert client.get(f"/c/taoyuan/requests/topics/{rates.current_month()}").status_code == 200


# --- 每月一题 ------------------------------------------------------------------------------------

def test_the_office_picks_the_months_topic_and_the_public_follows_it(app, client, world, g):
    for category in (RequestCategory.parking, RequestCategory.parking, RequestCategory.noise):
        file(world, category=category, text="小区里乱停车")
    done = rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=5)
    done.category = RequestCategory.parking
    db.session.commit()
    month = rates.current_month()
    login_as(client, world.admin)
    body = page(client.get("/c/taoyuan/requests/topics/choose"))
    overall = body[body.index('data-testid="frequent-overall"'):]
    assert overall.index("停车") < overall.index("噪音")  # 3 parking (one closed), then 1 noise
    response = client.post("/c/taoyuan/requests/topics/choose",
                           data={"month": month, "category": "parking", "grid": str(g.micro.id), "note": "整治乱停车"})
    assert response.status_code == 303
    anonymous = app.test_client()
    public = page(anonymous.get(f"/c/taoyuan/requests/topics/{month}"))
    assert "整治乱停车" in public and public.count('data-testid="request-row"') == 3  # the micro-grid's parking
    assert "小区里乱停车" not in public and world.resident.display_name not in public  # anonymised
    _requests, progress = topics.topic_requests(topics.topic_of(world.community, month))
    assert (progress.filed, progress.closed, progress.resolved, progress.open) == (3, 1, 1, 2)
    assert month in page(anonymous.get("/c/taoyuan/requests/topics"))


def test_a_past_months_topic_cannot_be_chosen_and_nothing_is_saved(client, world, g):
    login_as(client, world.admin)
    response = client.post("/c/taoyuan/requests/topics/choose", data={"month": "2020-01", "category": "parking"})
    assert response.status_code == 422
    assert db.session.query(MonthlyTopic).count() == 0
    assert client.get("/c/taoyuan/requests/topics/2020-01").status_code == 404


# --- the organisations' pages and their evaluation ---------------------------------------------

def test_the_firms_rates_show_on_its_organisation_page(client, world, g):
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=5)
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=1, resolved=False)
    rated(world, g, unit=g.street, rep=g.street_rep, satisfaction=1, resolved=False)  # not the firm's
    db.session.commit()
    body = page(client.get(f"/c/taoyuan/organisations/{g.firm.id}"))
    section = body[body.index('data-testid="organisation-request-rates"'):]
    section = section[:section.index("</section>")]
    assert "50.0%" in section and "1/2" in section and "1/3" not in section


def test_the_branch_sees_the_quarters_rates_as_evidence_when_it_evaluates(client, world, g):
    from tests.evaluations.factories import make_evaluation

    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=5, when=datetime(2026, 8, 10))  # in 2026-Q3
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=1, resolved=False,
          when=datetime(2026, 10, 10))  # 2026-Q4: not this evaluation's
    evaluation = make_evaluation(g.firm, actor=world.party, period="2026-Q3")
    db.session.commit()
    login_as(client, world.party)
    body = page(client.get(f"/c/taoyuan/evaluations/{evaluation.id}/edit"))
    section = body[body.index('data-testid="organisation-request-rates"'):]
    section = section[:section.index("</section>")]
    assert "2026-07 – 2026-09" in section and "100.0%" in section and "1/1" in section
    # on a phone the four rates read as a card, as on the ranking, instead of a table cut at the right edge
    assert '<table class="stacked"' in section
    for label in ("响应率", "解决率", "满意率", "得分"):
        assert f'data-label="{label}"' in section


def test_an_organisation_that_is_no_unit_shows_no_rates(client, world, g):
    from tests.evaluations.factories import make_organisation

    org = make_organisation(world.community, actor=world.admin)
    db.session.commit()
    assert "organisation-request-rates" not in page(client.get(f"/c/taoyuan/organisations/{org.id}"))


def test_on_a_phone_every_ranking_cell_says_which_rate_it_is(client, world, g):
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=4)
    db.session.commit()
    body = page(client.get("/c/taoyuan/requests/ranking"))
    units = body[body.index('data-testid="ranking-units"'):body.index('data-testid="ranking-grids"')]
    assert 'class="stacked"' in body[:body.index('data-testid="ranking-units"')][-40:]  # cards under 40em
    row = units[units.index('data-testid="ranking-row"'):]
    row = row[:row.index("</tr>")]
    for label in ("名次", "响应率", "解决率", "满意率", "得分"):
        assert f'data-label="{label}"' in row
    assert '<th scope="row" class="card-title">' in row


@pytest.mark.parametrize("kind", ["units", "grids"])
def test_on_a_phone_the_trend_table_reads_as_cards_like_the_ranking(client, world, g, kind):
    """The trend's table used to scroll sideways inside its box at 360 px: it is `table.stacked`, as the
    ranking's, each month a card titled by the month and every cell naming its rate."""
    rated(world, g, unit=g.firm_unit, rep=g.firm_rep, satisfaction=4)
    db.session.commit()
    subject = g.firm_unit.id if kind == "units" else g.micro.id
    body = page(client.get(f"/c/taoyuan/requests/ranking/{kind}/{subject}"))
    table = body[body.index('data-testid="trend-table"'):]
    table = table[:table.index("</table>")]
    assert 'class="stacked"' in body[:body.index('data-testid="trend-table"')][-40:]
    rows = table.split("<tr")[2:]  # after the header row
    assert len(rows) >= 2  # months and the total
    for row in rows:
        assert '<th scope="row" class="card-title">' in row
        for label in ("响应率", "解决率", "满意率", "得分"):
            assert f'data-label="{label}"' in row
