"""Photos are stored in the database with their rows: whichever host (with its own instance folder)
answers, it serves every photo, keeps the photos of a form shown again, and a failed request
leaves nothing behind."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from deliberation.core import uploads
from deliberation.extensions import db
from deliberation.proposals.models import Proposal
from tests.proposals.factories import jpeg_bytes, make_round


def switch_host(app, monkeypatch, folder):
    """From now on the app runs as another host: same database, an empty instance folder of its own."""
    folder.mkdir()
    monkeypatch.setitem(app.config, "INSTANCE_DIR", folder)
    monkeypatch.setitem(app.config, "UPLOAD_DIR", None)


@pytest.fixture
def other_host(app, monkeypatch, tmp_path):
    return lambda: switch_host(app, monkeypatch, tmp_path / "host-b")


@pytest.fixture
def round_(world):
    return make_round(world.community, world.secretary)


def proposal_form(world, **overrides):
    return {"title": "楼道加装扶手", "description": "三号楼楼道没有扶手，老人上下楼不方便。", "category": "works",
            "cost": "30000", "place": f"b{world.community.estates[0].buildings[0].id}", "location_text": "",
            **overrides}


def test_a_photo_uploaded_through_one_host_is_served_by_another(client, world, as_user, round_, other_host):
    as_user(world.resident)
    data = proposal_form(world, photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg")])
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    name = db.session.scalar(select(Proposal)).photos[0].filename
    other_host()
    served = client.get(f"/uploads/{name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg" and served.data[:2] == b"\xff\xd8"
    assert served.headers["ETag"] == f'"{name}"'
    assert "immutable" in served.headers["Cache-Control"] and "public" in served.headers["Cache-Control"]
    again = client.get(f"/uploads/{name}", headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_photos_kept_on_one_host_are_used_by_the_next_try_on_another(client, world, as_user, round_, other_host):
    as_user(world.resident)
    data = proposal_form(world, title="", photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg")])
    page = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    token = re.search(r'name="photo_stash" value="([^"]+)"', page).group(1)
    other_host()
    response = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=proposal_form(world, photo_stash=token))
    assert response.status_code == 303
    photos = db.session.scalar(select(Proposal)).photos
    assert len(photos) == 1
    assert client.get(f"/uploads/{photos[0].filename}").status_code == 200
    # The kept copy went with the transaction that stored the photo for good.
    assert db.session.scalar(select(func.count()).select_from(uploads.StoredFile)
                             .where(uploads.StoredFile.area == uploads.PENDING)) == 0


def test_kept_photos_are_not_public(client, world, as_user, round_):
    as_user(world.resident)
    data = proposal_form(world, title="", photos=[(io.BytesIO(jpeg_bytes()), "坡道.jpg")])
    page = client.post(f"/c/taoyuan/rounds/{round_.id}/propose", data=data,
                       content_type="multipart/form-data").get_data(as_text=True)
    kept = re.findall(r'name="drop_photo" value="([^"]+)"', page)
    assert kept
    assert client.get(f"/uploads/{kept[0]}").status_code == 404
