"""The periodic jobs of the notifications (listed in `periodic.JOBS`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from deliberation.core import audit
from deliberation.extensions import db
from deliberation.notifications import events

REMINDER_AHEAD = timedelta(hours=24)


def voting_closing_reminders(now: datetime) -> int:
    """Remind the eligible residents who have not voted yet, once per planned closing time, when a round's
    planned close is less than 24 hours away. Returns how many rounds sent their reminder."""
    from deliberation.proposals.models import Round, RoundPhase

    due = db.session.scalars(select(Round).where(
        Round.phase == RoundPhase.voting, Round.voting_closed_at.is_(None), Round.voting_closes_at.is_not(None),
        Round.voting_closes_at > now, Round.voting_closes_at <= now + REMINDER_AHEAD,
        Round.closing_reminder_sent_at.is_(None))).all()
    sent = 0
    for round_ in due:
        # Claim the round's reminder: of two workers at the same minute, one sends it.
        claimed = db.session.execute(
            update(Round.__table__).where(Round.__table__.c.id == round_.id,
                                          Round.__table__.c.closing_reminder_sent_at.is_(None))
            .values(closing_reminder_sent_at=now)).rowcount
        if not claimed:
            continue
        db.session.refresh(round_)
        written = events.voting_closing(round_)
        audit.record("round.closing_reminder", round_, community=round_.community,
                     summary=f"voting closes {round_.voting_closes_at:%Y-%m-%d %H:%M} UTC; "
                             f"{written} residents not yet voted reminded")
        sent += 1
    return sent
