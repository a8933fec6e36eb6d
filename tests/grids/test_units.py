"""The office deactivates a handling unit: no longer offered for whistling; its history and rates stay."""

from __future__ import annotations

from sqlalchemy import select

from deliberation.core.audit import AuditEvent
from deliberation.extensions import db
from deliberation.grids import rates
from deliberation.grids.models import RequestStatus, StepAction
from tests.conftest import login_as
from tests.grids.factories import answered, file


def page(response) -> str:
    return response.get_data(as_text=True)


def test_office_deactivates_a_unit_after_confirming_and_workers_no_longer_see_it(client, world, g):
    from deliberation.grids import requests as handling

    done = answered(world, g)  # the firm handled this one, and the resident was satisfied
    handling.rate(done, resident=world.resident, resolved=True, satisfaction=5)
    open_one = file(world)

    handling.sign(open_one, actor=g.worker)
    handling.whistle(open_one, g.firm_unit, actor=g.worker)
    db.session.commit()
    login_as(client, world.admin)
    url = f"/c/taoyuan/units/{g.firm_unit.id}/deactivate"
    asked = client.post(url)
    assert asked.status_code == 200 and g.firm_unit.name in page(asked)
    assert "1" in page(asked)  # the open request still with it is announced
    db.session.expire_all()
    assert g.firm_unit.active
    assert client.post(url, data={"confirmed": "1"}).status_code == 303
    db.session.expire_all()
    assert not g.firm_unit.active
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "unit.deactivated"))
    admin_page = page(client.get("/c/taoyuan/grids/manage"))
    assert g.firm_unit.name in admin_page  # still listed, marked inactive, and can be listed again
    assert f"/units/{g.firm_unit.id}/reactivate" in admin_page

    login_as(client, g.worker)
    fresh = file(world)
    handling.sign(fresh, actor=g.worker)
    db.session.commit()
    detail = page(client.get(f"/c/taoyuan/requests/{fresh.id}"))
    assert f'value="{g.firm_unit.id}"' not in detail and f'value="{g.street.id}"' in detail
    refused = client.post(f"/c/taoyuan/requests/{fresh.id}/whistle", data={"unit": g.firm_unit.id})
    assert refused.status_code == 422
    db.session.expire_all()
    assert fresh.status == RequestStatus.signed

    # its history stays: the answered request, the open one still with it, its rates
    assert done.handling_unit_id == g.firm_unit.id and open_one.handling_unit_id == g.firm_unit.id
    assert any(s.action == StepAction.whistled for s in open_one.steps)
    trend = rates.unit_trend(g.firm_unit, rates.month_of(done.closed_at))
    assert (rates.total(trend).closed, rates.total(trend).satisfied) == (1, 1)  # its rates still count it
    assert client.get(f"/c/taoyuan/requests/ranking/units/{g.firm_unit.id}").status_code == 200


def test_office_lists_a_unit_again(client, world, g):
    from deliberation.grids import services

    services.set_unit_active(g.street, False, actor=world.admin)
    db.session.commit()
    login_as(client, world.admin)
    assert client.post(f"/c/taoyuan/units/{g.street.id}/reactivate").status_code == 303
    db.session.expire_all()
    assert g.street.active
    again = client.post(f"/c/taoyuan/units/{g.street.id}/reactivate", follow_redirects=True)
    assert again.status_code == 409


def _before_first_section(html: str) -> str:
    return html[html.index("<main"):html.index("<h2")]


def test_a_refused_unit_says_so_at_the_top_of_the_long_office_page_and_links_to_the_form(client, world, g):
    """The grids page is some twenty screens long on a phone; the unit form sits near the end. A refused
    form came back scrolled to the top with nothing changed in sight: now the top says it was not saved
    and links to the form, which is open and shows the error."""
    import re

    login_as(client, world.admin)
    response = client.post("/c/taoyuan/units/new", data={"kind": "property_firm", "organisation": "",
                                                        "name": "", "contact_phone": "0755-1234"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    top = _before_first_section(html)
    assert "没有保存" in top and 'href="#add-unit"' in top, top
    assert re.search(r'<details id="add-unit" open>', html)
    assert 'value="0755-1234"' in html  # what was typed stays


def test_a_refused_representative_keeps_what_was_typed_and_is_announced_at_the_top(client, world, g):
    login_as(client, world.admin)
    response = client.post(f"/c/taoyuan/units/{g.street.id}/representatives", data={"user": "nobody-like-this"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'href="#unit-{g.street.id}"' in _before_first_section(html)
    assert 'value="nobody-like-this"' in html


def test_a_page_without_a_refused_form_has_no_alert(client, world, g):
    login_as(client, world.admin)
    assert "没有保存" not in client.get("/c/taoyuan/grids/manage").get_data(as_text=True)
