"""The kinds of event that notify, their default channels and their message templates."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Kind:
    name: str
    label: object  # lazy translated text, shown on the preferences page
    email: bool  # default for a person who set nothing
    sms: bool

    @property
    def template(self) -> str:
        return f"notifications/messages/{self.name}.html"


KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("meeting_noticed", _l("A council meeting is noticed"), email=True, sms=True),
    Kind("meeting_changed", _l("A noticed council meeting changed"), email=True, sms=True),
    Kind("meeting_cancelled", _l("A noticed council meeting was cancelled"), email=True, sms=True),
    Kind("session_noticed", _l("An open consultation or a hearing is noticed"), email=True, sms=False),
    Kind("session_changed", _l("A noticed consultation or hearing changed"), email=True, sms=False),
    Kind("session_cancelled", _l("A noticed consultation or hearing was cancelled"), email=True, sms=False),
    Kind("voting_opened", _l("Voting opened in a funding round"), email=True, sms=False),
    Kind("voting_closing", _l("Voting closes within 24 hours and I have not voted"), email=True, sms=False),
    Kind("survey_opened", _l("A satisfaction survey opened"), email=True, sms=False),
    Kind("evaluation_published", _l("An evaluation of my organisation was published"), email=True, sms=False),
    Kind("proposal_status", _l("My proposal's status changed"), email=True, sms=False),
    Kind("comment_reply", _l("A reply to my comment"), email=False, sms=False),
    Kind("objection_answered", _l("My objection was answered"), email=True, sms=False),
    Kind("verification_approved", _l("My residency was verified"), email=True, sms=False),
    Kind("verification_rejected", _l("My residency was not verified"), email=True, sms=False),
    Kind("request_assigned", _l("A resident request arrived in my grid"), email=True, sms=True),
    Kind("request_whistled", _l("A resident request was whistled to my unit"), email=True, sms=True),
    Kind("request_overdue", _l("A resident request is past its deadline"), email=True, sms=False),
    Kind("request_answered", _l("My request was answered"), email=True, sms=True),
)}

# Not a kind of event one subscribes to: the e-mail with the link that proves an address
# (preferences.send_email_confirmation); it has no unsubscribe link and is not in KINDS.
EMAIL_CONFIRM = Kind("email_confirm", _l("Confirm my e-mail address"), email=True, sms=False)
