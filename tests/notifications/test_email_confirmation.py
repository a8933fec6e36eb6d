"""E-mail addresses are proven by a link before anything else is sent to them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from deliberation.extensions import db
from deliberation.notifications import mail, services, worker
from deliberation.notifications.models import Channel, NotificationSettings, OutboxMessage
from tests.access import assert_access

from .conftest import with_email

PREFERENCES = {"quiet_from": "0", "quiet_until": "0", "email_voting_opened": "y"}


def email_rows(user, kind):
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.user_id == user.id, OutboxMessage.channel == Channel.email, OutboxMessage.kind == kind)))


def link_in(message) -> str:
    return re.search(r"https?://\S+/notifications/confirm-email/\S+", message.get_content()).group(0)


def test_a_new_address_gets_only_the_link_until_it_is_opened(as_user, world, smtp):
    client = as_user(world.resident)
    response = client.post("/notifications/preferences", data={"email": "wang@example.org", **PREFERENCES})
    assert response.status_code == 303
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'data-testid="email-unconfirmed"' in page and 'data-testid="resend-confirmation"' in page
    # An event before the address is proven: the inbox only, no e-mail.
    services.notify([world.resident], "voting_opened", key="before", context={"round": "2027年度"})
    assert email_rows(world.resident, "voting_opened") == []
    worker.run_once()
    [message] = smtp.to("wang@example.org")
    assert message["List-Unsubscribe"] is None  # asked for: nothing to unsubscribe from
    path = link_in(message).split("://", 1)[1].split("/", 1)[1]
    # Opening the link asks once (mail scanners open links); the POST proves the address.
    assert client.get(f"/{path}").status_code == 200
    assert db.session.get(NotificationSettings, world.resident.id).email_confirmed_at is None
    done = client.post(f"/{path}").get_data(as_text=True)
    assert 'data-testid="email-confirmed"' in done
    assert db.session.get(NotificationSettings, world.resident.id).email_confirmed_at is not None
    services.notify([world.resident], "voting_opened", key="after", context={"round": "2027年度"})
    assert len(email_rows(world.resident, "voting_opened")) == 1


def test_changing_the_address_needs_a_new_proof_and_the_old_link_stops_working(as_user, world):
    client = as_user(world.resident)
    client.post("/notifications/preferences", data={"email": "wang@example.org", **PREFERENCES})
    old_token = mail.confirm_token(world.resident.id, "wang@example.org")
    client.post(f"/notifications/confirm-email/{old_token}")
    assert db.session.get(NotificationSettings, world.resident.id).email_confirmed_at is not None
    # Saving the same address again keeps it proven; a new one is unproven and gets its own link.
    client.post("/notifications/preferences", data={"email": "wang@example.org", **PREFERENCES})
    assert db.session.get(NotificationSettings, world.resident.id).email_confirmed_at is not None
    client.post("/notifications/preferences", data={"email": "wang2@example.org", **PREFERENCES})
    assert db.session.get(NotificationSettings, world.resident.id).email_confirmed_at is None
    assert [row.address for row in email_rows(world.resident, mail.CONFIRM_KIND)][-1] == "wang2@example.org"
    client.post(f"/notifications/confirm-email/{old_token}")  # the link for the old address
    assert db.session.get(NotificationSettings, world.resident.id).email_confirmed_at is None


def test_a_forged_or_foreign_link_proves_nothing(client, world):
    assert client.get("/notifications/confirm-email/not-a-token").status_code == 404
    forged = mail.confirm_token(world.resident.id, "wang@example.org")[:-2] + "xx"
    assert client.post(f"/notifications/confirm-email/{forged}").status_code == 404
    assert db.session.get(NotificationSettings, world.resident.id) is None


def test_the_link_can_be_sent_again(as_user, world):
    client = as_user(world.resident)
    client.post("/notifications/preferences", data={"email": "wang@example.org", **PREFERENCES})
    response = client.post("/notifications/confirm-email/resend")
    assert response.status_code == 303
    assert len(email_rows(world.resident, mail.CONFIRM_KIND)) == 1  # a second within the minute: not again
    with_email(world.unverified, "proven@example.org")
    assert as_user(world.unverified).post("/notifications/confirm-email/resend").status_code == 303
    assert email_rows(world.unverified, mail.CONFIRM_KIND) == []  # proven already: nothing to send


ROLES = ["anonymous", "resident", "unverified", "secretary", "party", "admin", "other_admin"]


@pytest.mark.parametrize("role", ROLES)
def test_route_access(as_user, world, role):
    client = as_user(world.user(role))
    signed_in = set(ROLES) - {"anonymous"}
    assert_access(client.post("/notifications/confirm-email/resend"), role, signed_in)
    token = mail.confirm_token(world.resident.id, "wang@example.org")
    # The link is the proof: anyone holding it sees the question (no sign-in needed, like unsubscribing).
    assert client.get(f"/notifications/confirm-email/{token}").status_code == 200
