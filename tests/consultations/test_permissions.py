"""Every councils and sessions route, every role, in the state where the route is meant to work."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deliberation.consultations import services
from deliberation.consultations.models import ConsultationSession, Motion, SpeakerSlot
from deliberation.councils.models import Council
from tests.access import assert_access
from tests.councils.factories import make_council, make_session, members, start

ROLES = ["anonymous", "unverified", "resident", "secretary", "party", "other_admin", "site_admin", "admin"]
EVERYONE = set(ROLES)
ADMIN = {"admin"}
SECRETARY = {"secretary"}
MEMBER = {"resident"}  # the world's resident sits on the council in these scenes


@dataclass
class Scene:
    council: Council
    session: ConsultationSession
    member_id: int  # another member (not the resident)
    motion: Motion | None = None
    slot: SpeakerSlot | None = None


def scene(world, state: str) -> Scene:
    council = make_council(world.community, world.admin, members=3, seat_users=[world.resident])
    session = make_session(world.community, world.secretary, council, items=2)
    other = members(council)[1]
    s = Scene(council, session, other.id)
    if state == "draft":
        return s
    if state == "noticed":
        services.notice_session(session, actor=world.secretary)
        return s
    start(session, world.secretary)
    services.sign_in(session, world.resident)
    services.sign_in(session, other)
    s.slot = services.request_to_speak(session, other)
    if state == "running":
        s.motion = services.open_motion(session.items[0], text="同意", actor=world.secretary)
        return s
    if state == "running_clear":
        return s
    services.adjourn_session(session, actor=world.secretary)
    if state == "adjourned":
        return s
    services.publish_minutes(session, summary="纪要", actor=world.secretary)
    return s


def u(s: Scene, path: str = "") -> str:
    return f"/c/taoyuan/sessions/{s.session.id}{path}"


ROUTES = [
    ("draft", "GET", lambda s: "/c/taoyuan/council", None, EVERYONE),
    ("draft", "GET", lambda s: f"/c/taoyuan/council/{s.council.id}", None, EVERYONE),
    ("draft", "GET", lambda s: "/c/taoyuan/council/new", None, ADMIN),
    ("draft", "POST", lambda s: "/c/taoyuan/council/new", {"name": ""}, ADMIN),
    ("draft", "GET", lambda s: f"/c/taoyuan/council/{s.council.id}/edit", None, ADMIN),
    ("draft", "POST", lambda s: f"/c/taoyuan/council/{s.council.id}/edit", {"name": ""}, ADMIN),
    ("draft", "GET", lambda s: f"/c/taoyuan/council/{s.council.id}/members", None, ADMIN),
    ("draft", "POST", lambda s: f"/c/taoyuan/council/{s.council.id}/members", {"user": ""}, ADMIN),
    ("draft", "POST", lambda s: f"/c/taoyuan/council/{s.council.id}/members/{s.council.members[-1].id}/remove",
     {}, ADMIN),
    ("draft", "GET", lambda s: "/c/taoyuan/sessions", None, EVERYONE),
    ("draft", "GET", lambda s: "/c/taoyuan/sessions/new", None, SECRETARY),
    ("draft", "POST", lambda s: "/c/taoyuan/sessions/new", {"title": ""}, SECRETARY),
    ("draft", "GET", lambda s: u(s), None, SECRETARY),
    ("draft", "GET", lambda s: u(s, "/live"), None, SECRETARY),
    ("draft", "GET", lambda s: u(s, "/events"), None, SECRETARY),
    ("draft", "GET", lambda s: u(s, "/edit"), None, SECRETARY),
    ("draft", "POST", lambda s: u(s, "/edit"), {"title": ""}, SECRETARY),
    ("draft", "GET", lambda s: u(s, "/agenda"), None, SECRETARY),
    ("draft", "POST", lambda s: u(s, "/items"), {"title": ""}, SECRETARY),
    ("draft", "GET", lambda s: u(s, f"/items/{s.session.items[0].id}/edit"), None, SECRETARY),
    ("draft", "POST", lambda s: u(s, f"/items/{s.session.items[0].id}/edit"), {"title": ""}, SECRETARY),
    ("draft", "POST", lambda s: u(s, f"/items/{s.session.items[1].id}/move"), {"direction": "up"}, SECRETARY),
    ("draft", "POST", lambda s: u(s, f"/items/{s.session.items[1].id}/remove"), {}, SECRETARY),
    ("draft", "POST", lambda s: u(s, "/notice"), {}, SECRETARY),
    ("noticed", "GET", lambda s: u(s), None, EVERYONE),
    ("noticed", "GET", lambda s: u(s, "/start"), None, SECRETARY),
    ("noticed", "POST", lambda s: u(s, "/start"), {"urgent_reason": "紧急"}, SECRETARY),
    ("noticed", "GET", lambda s: u(s, "/cancel"), None, SECRETARY),
    ("noticed", "POST", lambda s: u(s, "/cancel"), {"reason": "台风", "confirmed": "1"}, SECRETARY),
    ("draft", "POST", lambda s: u(s, "/cancel"), {"reason": "合并", "confirmed": "1"}, SECRETARY),
    ("running", "GET", lambda s: u(s), None, EVERYONE),
    ("running", "GET", lambda s: u(s, "/live"), None, EVERYONE),
    ("running", "GET", lambda s: u(s, "/events"), None, EVERYONE),
    ("running", "GET", lambda s: u(s, "/version"), None, EVERYONE),
    ("running", "GET", lambda s: u(s, "/console"), None, SECRETARY),
    ("running", "POST", lambda s: u(s, "/current"), lambda s: {"item_id": s.session.items[1].id}, SECRETARY),
    ("running", "POST", lambda s: u(s, "/attendance"), lambda s: {"user_id": s.council.members[2].user_id},
     SECRETARY),
    ("running", "POST", lambda s: u(s, "/sign-in"), {}, MEMBER),
    ("running", "POST", lambda s: u(s, "/speak"), {}, MEMBER),
    ("running", "POST", lambda s: u(s, f"/speakers/{s.slot.id}/start"), {}, SECRETARY),
    ("running", "POST", lambda s: u(s, f"/speakers/{s.slot.id}/down"), {}, SECRETARY),
    ("running", "POST", lambda s: u(s, f"/speakers/{s.slot.id}/remove"), {}, SECRETARY),
    ("running", "POST", lambda s: u(s, "/motions"), {"text": ""}, SECRETARY),
    ("running", "POST", lambda s: u(s, f"/motions/{s.motion.id}/vote"), {"choice": "yes"}, MEMBER),
    ("running", "POST", lambda s: u(s, f"/motions/{s.motion.id}/roll-call"),
     lambda s: {"user_id": s.member_id, "choice": "no"}, SECRETARY),
    ("running", "POST", lambda s: u(s, f"/motions/{s.motion.id}/close"), {}, SECRETARY),
    ("running_clear", "POST", lambda s: u(s, "/adjourn"), {}, SECRETARY),
    ("adjourned", "GET", lambda s: u(s, "/minutes"), None, SECRETARY),
    ("adjourned", "GET", lambda s: u(s, "/minutes/edit"), None, SECRETARY),
    ("adjourned", "POST", lambda s: u(s, "/minutes/edit"), {"summary": "纪要"}, SECRETARY),
    ("published", "GET", lambda s: u(s, "/minutes"), None, EVERYONE),
    ("adjourned", "GET", lambda s: u(s, "/minutes.docx"), None, SECRETARY),
    ("published", "GET", lambda s: u(s, "/minutes.docx"), None, EVERYONE),
    ("published", "GET", lambda s: u(s, "/minutes/correct"), None, SECRETARY),
    ("published", "POST", lambda s: u(s, "/minutes/correct"), {"text": "新", "reason": "笔误"}, SECRETARY),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("state", "method", "url", "data", "allowed"), ROUTES,
                         ids=[f"{st}-{m}-{i}" for i, (st, m, *_rest) in enumerate(ROUTES)])
def test_route_access(client, world, as_user, role, state, method, url, data, allowed):
    s = scene(world, state)
    as_user(world.user(role))
    response = client.open(url(s), method=method, data=data(s) if callable(data) else data)
    assert_access(response, role, allowed)


def test_a_member_who_has_not_signed_in_cannot_vote(client, world, as_user):
    s = scene(world, "running")
    absent = members(s.council)[2]
    as_user(absent)
    assert client.post(u(s, f"/motions/{s.motion.id}/vote"), data={"choice": "yes"}).status_code == 403
    assert services.votes_cast(s.motion) == 0


def test_any_verified_resident_joins_an_open_consultation(client, world, as_user):
    council = make_council(world.community, world.admin, members=2)
    from deliberation.consultations.models import SessionKind

    session = make_session(world.community, world.secretary, council, kind=SessionKind.consultation)
    start(session, world.secretary)
    as_user(world.party)  # not a resident
    assert client.post(f"/c/taoyuan/sessions/{session.id}/sign-in").status_code == 403
    as_user(world.secretary)  # a verified resident, not a member
    assert client.post(f"/c/taoyuan/sessions/{session.id}/sign-in").status_code == 303
    assert client.post(f"/c/taoyuan/sessions/{session.id}/speak").status_code == 303


def test_routes_of_another_community_are_not_found(client, world, as_user):
    s = scene(world, "noticed")
    as_user(world.other_admin)
    assert client.get(f"/c/other/sessions/{s.session.id}").status_code == 404
    assert client.get(f"/c/other/council/{s.council.id}").status_code == 404
