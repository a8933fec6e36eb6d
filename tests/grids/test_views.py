"""The area through the browser's eyes: filing, handling, rating; what the public and handlers see."""

from __future__ import annotations

import io
import re

from sqlalchemy import func, select

from deliberation.extensions import db
from deliberation.grids.models import RequestStatus, ResidentRequest
from tests.conftest import login_as
from tests.factories import building
from tests.grids.factories import answered, file
from tests.proposals.factories import jpeg_bytes


def form(world, **overrides):
    data = {"type": "help", "category": "repairs", "place": f"b{building(world.community, '1栋').id}",
            "place_text": "3单元楼道", "text": "三单元楼道灯坏了，晚上很黑。"}
    data.update(overrides)
    return data


def page(response) -> str:
    return response.get_data(as_text=True)


def test_journey_file_whistle_answer_rate(client, world, g):
    login_as(client, world.resident)
    response = client.post("/c/taoyuan/requests/new", content_type="multipart/form-data",
                           data=form(world, photos=[(io.BytesIO(jpeg_bytes()), "灯.jpg")]))
    assert response.status_code == 303
    req = db.session.scalars(select(ResidentRequest)).one()
    assert len(req.photos) == 1 and req.grid_id == g.micro.id
    url = f"/c/taoyuan/requests/{req.id}"

    login_as(client, g.worker)
    assert "三单元楼道灯坏了" in page(client.get("/c/taoyuan/requests/queue"))[:0] + page(client.get(url))
    assert client.post(f"{url}/sign").status_code == 303
    assert client.post(f"{url}/contact", data={"note": "已电话联系"}).status_code == 303
    assert client.post(f"{url}/whistle", data={"unit": g.firm_unit.id, "note": "请物业更换"}).status_code == 303

    login_as(client, g.firm_rep)
    assert str(req.id) in page(client.get("/c/taoyuan/requests/queue"))
    assert client.post(f"{url}/unit-sign").status_code == 303
    assert client.post(f"{url}/answer", data={"answer": "已更换灯泡", "confirmed": "1"}).status_code == 303

    login_as(client, world.resident)
    assert "已更换灯泡" in page(client.get(url))
    assert client.post(f"{url}/rate", data={"resolved": "yes", "satisfaction": "5", "comment": "谢谢",
                                               "confirmed": "1"}).status_code == 303
    db.session.expire_all()
    assert req.status == RequestStatus.closed and req.satisfaction == 5 and req.resolved is True


def test_a_requests_photos_are_only_for_those_who_see_its_words(app, client, world, g):
    """A photo of a resident's request may show their home or their face: it is served to the requester and
    the request's handlers only, privately (no shared cache keeps it), never at the public photo address."""
    req = file(world, photos=[jpeg_bytes()])
    other = file(world, photos=[jpeg_bytes()])
    db.session.commit()
    name = req.photos[0].filename
    address = f"/c/taoyuan/requests/{req.id}/photos/{name}"
    assert client.get(f"/uploads/{name}").status_code == 404  # not a public photo, whoever asks
    assert client.get(address).status_code == 302  # a visitor is asked to log in
    login_as(client, g.other_worker)  # another grid's worker
    assert client.get(address).status_code == 403 and client.get(f"/uploads/{name}").status_code == 404
    for person in (world.resident, g.worker):
        login_as(client, person)
        page_text = page(client.get(f"/c/taoyuan/requests/{req.id}"))
        assert f'src="{address}"' in page_text
        photo = client.get(address)
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:2] == b"\xff\xd8"
        assert "private" in photo.headers["Cache-Control"] and "public" not in photo.headers["Cache-Control"]
    # Another request's photo is not reached through this one's address.
    assert client.get(f"/c/taoyuan/requests/{req.id}/photos/{other.photos[0].filename}").status_code == 404


def test_public_sees_requests_anonymised(client, world, g):
    req = file(world, text="隔壁张三家漏水")
    for url in ("/c/taoyuan/requests", f"/c/taoyuan/requests/{req.id}"):
        text = page(client.get(url))
        assert "隔壁张三家漏水" not in text and world.resident.display_name not in text
        assert g.micro.name in text
    login_as(client, g.worker)
    text = page(client.get(f"/c/taoyuan/requests/{req.id}"))
    assert "隔壁张三家漏水" in text and world.resident.display_name in text
    login_as(client, g.other_worker)
    text = page(client.get(f"/c/taoyuan/requests/{req.id}"))
    assert "隔壁张三家漏水" not in text and world.resident.display_name not in text


def test_bad_input_gets_translated_errors_and_keeps_the_photo(client, world, g):
    login_as(client, world.resident)
    response = client.post("/c/taoyuan/requests/new", content_type="multipart/form-data",
                           data=form(world, text="", place="", photos=[(io.BytesIO(jpeg_bytes()), "a.jpg")]))
    assert response.status_code == 422
    assert "必填" in page(response) and 'name="photo_stash"' in page(response)
    assert db.session.scalar(select(func.count(ResidentRequest.id))) == 0
    stash = page(response).split('name="photo_stash" value="')[1].split('"')[0]
    response = client.post("/c/taoyuan/requests/new", content_type="multipart/form-data",
                           data=form(world, photo_stash=stash))
    assert response.status_code == 303
    assert len(db.session.scalars(select(ResidentRequest)).one().photos) == 1


def test_a_building_without_grid_is_a_form_error(client, world, g):
    login_as(client, world.resident)
    response = client.post("/c/taoyuan/requests/new", data=form(world, place="b999999"))
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(ResidentRequest.id))) == 0


def test_worker_enters_a_phoned_in_request(client, world, g):
    login_as(client, g.worker)
    response = client.post("/c/taoyuan/requests/enter", data=form(world, channel="phone", requester_name="张阿姨",
                                                                  requester_phone="13900000000"))
    assert response.status_code == 303
    req = db.session.scalars(select(ResidentRequest)).one()
    assert req.channel.value == "phone" and req.entered_by_id == g.worker.id and req.requester_name == "张阿姨"


def test_resident_sees_their_grid_and_worker_phone(client, world, g):
    login_as(client, world.resident)
    text = page(client.get("/c/taoyuan/grids"))
    assert 'data-testid="my-grid"' in text and "王网格" in text and "13800000001" in text
    client.get("/")  # anonymous visitors see the tree without phones
    with client.session_transaction() as session:
        session.pop("_user_id", None)
    text = page(client.get("/c/taoyuan/grids"))
    assert "王网格" in text and "13800000001" not in text


def test_office_callback_and_invalid_rating(client, world, g):
    req = answered(world, g)
    login_as(client, world.admin)
    url = f"/c/taoyuan/requests/{req.id}/callback"
    assert client.post(url, data={"resolved": "maybe", "satisfaction": "9", "confirmed": "1"}).status_code == 422
    assert client.post(url, data={"resolved": "no", "satisfaction": "2", "confirmed": "1"}).status_code == 303
    db.session.expire_all()
    assert req.rating_channel.value == "phone_callback" and req.resolved is False


def test_office_draws_the_tree(client, world, g):
    login_as(client, world.admin)
    assert client.post("/c/taoyuan/grids/new", data={"level": "special", "name": "桃源小学", "parent": g.root.id,
                                                     "estate": "", "description": "学校"}).status_code == 303
    response = client.post("/c/taoyuan/grids/new", data={"level": "micro", "name": "错层", "parent": g.root.id})
    assert response.status_code == 422 and "下" in page(response)
    assert client.post(f"/c/taoyuan/grids/{g.micro.id}/workers", data={"user": "other-worker"}).status_code == 303
    response = client.post(f"/c/taoyuan/grids/{g.micro.id}/workers", data={"user": "nobody-here"})
    assert response.status_code == 422
    assert client.post("/c/taoyuan/units/new", data={"kind": "other", "name": "供电所", "organisation": ""}
                       ).status_code == 303
    assert client.post("/c/taoyuan/requests/deadlines", data={"emergency_hours": "1", "utilities_hours": "12",
                                                              "general_hours": "100", "complex_hours": "300"}
                       ).status_code == 303
    assert client.get("/c/taoyuan/grids/manage").status_code == 200


def test_tick_cli(app, world, g):
    from datetime import datetime, timedelta

    req = file(world, now=datetime(2026, 1, 1))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["requests", "tick", "--now",
                                                (datetime(2026, 1, 1) + timedelta(days=8)).isoformat()])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    db.session.expire_all()
    assert req.overdue


def test_todo_lists_what_waits_for_the_worker_the_unit_and_the_resident(client, world, g):
    from deliberation.grids import requests as handling

    new = file(world, text="待签收")
    whistled = file(world)
    handling.sign(whistled, actor=g.worker)
    handling.whistle(whistled, g.street, actor=g.worker)
    done = answered(world, g)
    login_as(client, g.worker)
    text = page(client.get("/todo"))
    assert f"/c/taoyuan/requests/{new.id}" in text and f"/c/taoyuan/requests/{whistled.id}" not in text
    login_as(client, g.street_rep)
    text = page(client.get("/todo"))
    assert f"/c/taoyuan/requests/{whistled.id}" in text and f"/c/taoyuan/requests/{new.id}" not in text
    login_as(client, world.resident)
    text = page(client.get("/todo"))
    assert f"/c/taoyuan/requests/{done.id}" in text and "请说明是否解决" in text


def test_lists_run_a_fixed_number_of_queries(client, world, g, count_queries):
    from deliberation.grids import requests as handling

    def counts():
        result = []
        for user in (None, world.admin, g.worker, g.firm_rep):
            if user is None:
                with client.session_transaction() as session:
                    session.pop("_user_id", None)
            else:
                login_as(client, user)
            for url in ("/c/taoyuan/requests", "/c/taoyuan/requests/queue", "/c/taoyuan/grids"):
                if user is None and url.endswith("queue"):
                    continue
                db.session.commit()
                with count_queries() as counter:
                    assert client.get(url).status_code == 200
                result.append(counter.count)
        return result

    req = answered(world, g)
    first = counts()
    for _ in range(5):
        req = file(world)
        handling.sign(req, actor=g.worker)
        handling.whistle(req, g.firm_unit, actor=g.worker)
    file(world, building_name="A座")
    assert counts() == first


def test_a_file_that_is_not_a_photo_is_refused_with_its_reason(client, world, g):
    login_as(client, world.resident)
    response = client.post("/c/taoyuan/requests/new", content_type="multipart/form-data",
                           data=form(world, photos=[(io.BytesIO(b"not an image at all"), "a.jpg")]))
    assert response.status_code == 422 and "不是可读取的 JPEG、PNG 或 WebP 照片" in page(response)
    assert db.session.scalar(select(func.count(ResidentRequest.id))) == 0


def test_more_than_three_photos_are_refused(client, world, g):
    login_as(client, world.resident)
    photos = [(io.BytesIO(jpeg_bytes()), f"{n}.jpg") for n in range(4)]
    response = client.post("/c/taoyuan/requests/new", content_type="multipart/form-data",
                           data=form(world, photos=photos))
    assert response.status_code == 422 and "最多" in page(response)
    assert db.session.scalar(select(func.count(ResidentRequest.id))) == 0


def test_the_roles_page_does_not_grant_grid_worker_without_a_grid(client, world):
    login_as(client, world.admin)
    response = client.post("/c/taoyuan/admin/roles", data={"user": "secretary", "role": "grid_worker"})
    assert response.status_code == 422
    assert not any(grant.role.value == "grid_worker" for grant in world.secretary.role_grants)


def test_the_request_form_chooses_no_kind_or_category_for_the_resident(client, world, g):
    """Left as it comes, the form used to file a 'danger or safety hazard' inquiry (a 2-hour deadline)."""
    login_as(client, world.resident)
    shown = page(client.get("/c/taoyuan/requests/new"))
    for name in ("type", "category"):  # what a browser sends when the resident leaves the field alone
        first_option = re.search(rf'<select[^>]*name="{name}"[^>]*>\s*<option([^>]*)>', shown).group(1)
        assert 'value=""' in first_option, name
    data = form(world)
    del data["type"], data["category"]
    response = client.post("/c/taoyuan/requests/new", data=data)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(ResidentRequest)) == 0


def test_the_call_back_asks_resolved_or_not_in_plain_words(client, world, g):
    req = answered(world, g)
    login_as(client, world.resident)
    shown = page(client.get(f"/c/taoyuan/requests/{req.id}"))
    assert "解决了" in shown and "没有解决" in shown and "赞成" not in shown


def test_the_handling_unit_is_called_a_handling_unit_not_a_block_of_flats(client, world, g):
    req = file(world)
    login_as(client, g.worker)
    url = f"/c/taoyuan/requests/{req.id}"
    assert client.post(f"{url}/sign").status_code == 303
    form_page = page(client.get(url))
    assert "承办单位" in form_page  # the whistle form's field
    assert client.post(f"{url}/whistle", data={"unit": g.firm_unit.id, "note": "请物业处理"}).status_code == 303
    for text in (page(client.get(url)), page(client.get("/c/taoyuan/requests"))):
        assert "承办单位" in text and g.firm_unit.name in text
        assert "<dt>单元</dt>" not in text and "<th>单元</th>" not in text
        assert 'data-label="单元"' not in text  # what a phone shows beside the unit's name on each card


LONG_TEXT = "楼上卫生间漏水，已经渗到我家客厅天花板，墙皮一片片往下掉，晚上还滴水到地板上。" * 6


def _before(body: str, first: str, then: str) -> bool:
    return first in body and then in body and body.index(first) < body.index(then)


def test_on_a_phone_a_worker_reaches_each_handling_step_from_the_top_of_a_long_request(client, world, g):
    """The request's text and photos can fill a phone's first screen: the step the viewer takes next starts
    above them (a one-tap step) or jumps to its form, so that nobody scrolls to find it."""
    req = file(world, text=LONG_TEXT, photos=[jpeg_bytes(), jpeg_bytes()])
    db.session.commit()
    url = f"/c/taoyuan/requests/{req.id}"
    text = 'data-testid="request-text"'

    login_as(client, g.worker)
    assert _before(page(client.get(url)), 'data-testid="sign-request"', text)
    assert client.post(f"{url}/sign").status_code == 303
    body = page(client.get(url))
    assert _before(body, 'href="#answer"', text)
    assert 'id="answer"' in body and _before(body, text, 'data-testid="answer-request"')  # the form after the text

    assert client.post(f"{url}/whistle", data={"unit": g.firm_unit.id, "note": "请物业处理"}).status_code == 303
    login_as(client, g.firm_rep)
    assert _before(page(client.get(url)), 'data-testid="unit-sign-request"', text)
    assert client.post(f"{url}/unit-sign").status_code == 303
    assert _before(page(client.get(url)), 'href="#answer"', text)
    assert client.post(f"{url}/answer", data={"answer": "已维修", "confirmed": "1"}).status_code == 303

    login_as(client, world.resident)
    body = page(client.get(url))
    assert _before(body, 'href="#outcome"', 'data-testid="request-answer"') and 'id="outcome"' in body


def test_a_request_without_a_next_step_for_the_viewer_has_no_jump(client, world, g):
    req = file(world)
    db.session.commit()
    body = page(client.get(f"/c/taoyuan/requests/{req.id}"))  # the public
    assert 'href="#answer"' not in body and 'href="#outcome"' not in body


def test_the_deadline_class_sits_in_full_width_brackets_on_a_chinese_page(client, world, g):
    req = file(world)
    db.session.commit()
    body = page(client.get(f"/c/taoyuan/requests/{req.id}"))
    assert re.search(r"<dd>[0-9: -]+（一般）</dd>", body) and "(一般)" not in body


def test_on_a_phone_the_whole_request_card_opens_the_request(client, world, g):
    """Each row of a request list is a card on a phone; its one link, the request's number, covers the card
    (a.card-link in app.css), so that the thumb need not find two digits."""
    req = file(world)
    db.session.commit()
    body = page(client.get("/c/taoyuan/requests"))
    assert f'<a class="card-link" href="/c/taoyuan/requests/{req.id}">{req.id}</a>' in body


def test_my_requests_offers_filing_one_as_its_first_action(client, world, g):
    """With no request yet, the page said only 'no requests': filing one was a word in the area's menu."""
    login_as(client, world.resident)
    body = page(client.get("/c/taoyuan/requests/mine"))
    assert 'href="/c/taoyuan/requests/new" role="button"' in body
    assert body.index('role="button" data-testid="file-request-button"') < body.index('id="request-table"')


def test_the_public_list_shows_twenty_requests_a_page_newest_first_and_pages_back(client, world, g):
    """On a phone each request is a card: the public list once showed its latest hundred at once (about
    28,000 px), and none older. Now twenty a page, newest first, with the pages before them a tap away."""
    from datetime import timedelta

    from deliberation.core.models import utcnow

    start = utcnow() - timedelta(days=3)
    filed = [file(world, now=start + timedelta(minutes=i)) for i in range(45)]
    db.session.commit()
    newest_first = [r.id for r in reversed(filed)]

    def shown(url):
        text = page(client.get(url))
        return [int(n) for n in re.findall(r'class="card-link" href="/c/taoyuan/requests/(\d+)"', text)], text

    first, text = shown("/c/taoyuan/requests")
    assert first == newest_first[:20] and "第 1 页，共 3 页" in text and 'data-testid="older-requests"' in text
    assert 'href="/c/taoyuan/requests?page=2"' in text and 'data-testid="newer-requests"' not in text
    second, _ = shown("/c/taoyuan/requests?page=2")
    third, text = shown("/c/taoyuan/requests?page=3")
    assert second == newest_first[20:40] and third == newest_first[40:]
    assert 'data-testid="older-requests"' not in text and 'href="/c/taoyuan/requests?page=2"' in text
    for hostile in ("0", "-3"):
        assert shown(f"/c/taoyuan/requests?page={hostile}")[0] == newest_first[:20]
    assert client.get("/c/taoyuan/requests?page=abc").status_code == 400


def test_the_office_queue_opens_on_what_to_do_first_and_filters_by_it(client, world, g):
    """The queue was a long list of cards with nothing to act on at the top: the office now sees at once how
    many requests are overdue, wait to be signed and wait for the call-back, each a filter a tap away."""
    from datetime import timedelta

    from deliberation.core.models import utcnow
    from deliberation.grids import requests as handling

    late = file(world, text="垃圾桶满了没人清", now=utcnow() - timedelta(days=20))
    handling.tick()
    fresh = file(world, text="路灯不亮")  # waits for the grid worker to sign, as the late one does
    signed = file(world, text="井盖松动")
    handling.sign(signed, actor=g.worker)
    done = answered(world, g)  # waits for the resident's rating or the office's call-back
    db.session.commit()
    login_as(client, world.admin)

    body = page(client.get("/c/taoyuan/requests/queue"))
    filters = re.search(r'<nav aria-label="按办理情况筛选".*?</nav>', body, re.S)
    assert filters, body
    assert body.index(filters.group(0)) < body.index('id="request-table"')  # above the list
    text = re.sub(r"<[^>]+>|\s+", "", filters.group(0))
    assert "全部未办结（4）" in text and "已超时（1）" in text and "待签收（2）" in text and "待回访（1）" in text, text

    def numbers(show):
        html = page(client.get(f"/c/taoyuan/requests/queue?show={show}"))
        return {int(n) for n in re.findall(r'class="card-link" href="/c/taoyuan/requests/(\d+)"', html)}

    assert numbers("overdue") == {late.id}
    assert numbers("to_sign") == {late.id, fresh.id}
    assert numbers("callback") == {done.id}
    assert numbers("all") == numbers("nonsense") == {late.id, fresh.id, signed.id, done.id}
    chosen = page(client.get("/c/taoyuan/requests/queue?show=overdue"))
    assert re.search(r'aria-current="page"[^>]*>已超时', chosen) or re.search(r'已超时（1）</a>', chosen)
