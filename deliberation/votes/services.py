"""Casting, paper keying, closing and counting. Services flush but never commit.

Nothing here logs or audits what a ballot chose: audit events name the participation only. A web
ballot stays sealed (`core.secrecy`) until voting closes; closing opens the round's ballots into
the plain `ballots` table in receipt-hash order.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy import inspect as inspect_object
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import attributes, joinedload, lazyload

from deliberation.auth.models import User
from deliberation.communities.models import Residency, ResidencyStatus
from deliberation.core import audit, secrecy
from deliberation.core.errors import DomainError
from deliberation.core.models import dialect_name, insert_unless_duplicate, utcnow
from deliberation.extensions import db
from deliberation.proposals.models import BallotType, CountingRule, Proposal, ProposalStatus, Round, RoundPhase
from deliberation.votes import casting, counting
from deliberation.votes import choices as ballot_choices
from deliberation.votes.choices import BallotCheck
from deliberation.votes.models import Ballot, BallotParticipation, Channel, PaperEntry, RoundResult

log = logging.getLogger(__name__)
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECEIPT_LENGTH = 12  # 60 random bits
_PG_PAPER_LOCK = 0x7061_7072  # "papr": with the round's id, serialises the keying of new paper sheets


# --- ballot rules ---------------------------------------------------------------------

PHASES_BEFORE_VOTING = (RoundPhase.collecting, RoundPhase.screening, RoundPhase.branch_review)


def set_ballot_rules(round_: Round, *, per_household: bool, ballot_type: BallotType = BallotType.approval,
                     max_approvals: int | None = None, points_total: int | None = None,
                     points_per_project: int | None = None, must_fit_budget: bool, counting_rule: CountingRule,
                     actor: User) -> None:
    """Set the ballot type, how residents vote and how ballots are counted; locked once voting opens.

    k is `max_approvals`: required for k-approval and ranked ballots, unused by the others (an approval
    ballot with a limit is a k-approval ballot). Points are required for cumulative ballots only."""
    if round_.phase not in PHASES_BEFORE_VOTING:
        raise DomainError(_l("The ballot rules are locked once voting has opened."))
    if ballot_type == BallotType.approval and max_approvals is not None:
        ballot_type = BallotType.k_approval  # an approval ballot with a limit is a k-approval ballot
    needs_k = ballot_type in (BallotType.k_approval, BallotType.ranked)
    if needs_k and (max_approvals is None or max_approvals < 1):
        raise DomainError(_l("Say how many projects one ballot may choose or rank (at least 1)."),
                          field="max_approvals", status_code=422)
    if ballot_type == BallotType.cumulative:
        if points_total is None or points_total < 1:
            raise DomainError(_l("Say how many points each voter spreads (at least 1)."), field="points_total",
                              status_code=422)
        if points_per_project is None or not 1 <= points_per_project <= points_total:
            raise DomainError(_l("The most points on one project is between 1 and the points each voter spreads."),
                              field="points_per_project", status_code=422)
    if ballot_type == BallotType.ranked and counting_rule != CountingRule.greedy:
        raise DomainError(_l("Ranked ballots are counted greedily: the Method of Equal Shares needs approvals "
                             "or points."), field="counting_rule", status_code=422)
    round_.ballot_per_household = per_household
    round_.ballot_type = ballot_type
    round_.max_approvals = max_approvals if needs_k else None
    round_.points_total = points_total if ballot_type == BallotType.cumulative else None
    round_.points_per_project = points_per_project if ballot_type == BallotType.cumulative else None
    # The budget meter binds approval ballots only: points and ranks say how much, not what fits.
    round_.must_fit_budget = must_fit_budget and ballot_type in (BallotType.approval, BallotType.k_approval)
    round_.counting_rule = counting_rule
    db.session.flush()
    audit.record("round.ballot_rules", round_, actor=actor, community=round_.community,
                 summary=f"type={ballot_type} household={per_household} k={round_.max_approvals} "
                         f"points={round_.points_total}/{round_.points_per_project} fit={round_.must_fit_budget} "
                         f"rule={counting_rule}")


def set_voting_close(round_: Round, *, closes_at: datetime | None, actor: User, now: datetime | None = None) -> None:
    """Announce when voting is planned to close (UTC; None: no announced time), before or while voting is
    open. Residents who have not voted are reminded within 24 hours of it (notifications.jobs); the
    secretary still closes the vote (close_voting), after the paper ballots are reconciled."""
    if round_.phase not in (*PHASES_BEFORE_VOTING, RoundPhase.voting) or round_.voting_closed_at is not None:
        raise DomainError(_l("Voting in this round has closed."))
    now = now or utcnow()
    if closes_at is not None and closes_at <= now:
        raise DomainError(_l("The planned close must be in the future."), field="closes_at", status_code=422)
    if closes_at != round_.voting_closes_at:
        round_.voting_closes_at = closes_at
        round_.closing_reminder_sent_at = None  # a new time gets its own reminder
    db.session.flush()
    audit.record("round.voting_close_planned", round_, actor=actor, community=round_.community,
                 summary=f"{closes_at:%Y-%m-%d %H:%M} UTC" if closes_at else "no planned close")


# --- checking a ballot ----------------------------------------------------------------

def ballot_items(round_: Round) -> list[Proposal]:
    return list(db.session.scalars(select(Proposal).where(Proposal.round_id == round_.id,
                                                          Proposal.status == ProposalStatus.on_ballot)
                                   .order_by(Proposal.id)))


_BALLOT_OPTIONS = select(Proposal.__table__.c.id, Proposal.__table__.c.title, Proposal.__table__.c.cost).where(
    Proposal.__table__.c.round_id == bindparam("round_id"),
    Proposal.__table__.c.status == ProposalStatus.on_ballot).order_by(Proposal.__table__.c.id)


def ballot_options(round_: Round) -> list:
    """The projects on the ballot as light (id, title, cost) rows: all that casting needs."""
    return list(db.session.execute(_BALLOT_OPTIONS, {"round_id": round_.id}))


def check_choices(round_: Round, choices, items: list | None = None) -> BallotCheck:
    """Apply the round's ballot rules to raw choices (`choices.from_form`, or a stored ballot); say what
    is wrong, if anything. `items` are the ballot's proposals, or `ballot_options` rows."""
    return ballot_choices.check(round_, choices, ballot_items(round_) if items is None else items)


# --- who may vote ---------------------------------------------------------------------

@functools.cache
def _voter_residencies():
    # Built once (after every mapper is configured): its SQL and cache key are reused.
    return select(Residency).where(Residency.user_id == bindparam("user_id")).order_by(Residency.id).options(
        lazyload(Residency.community), lazyload(Residency.building))


def load_voter_residencies(user: User) -> None:
    """Load the user's residencies for the ballot's checks, which read only their own columns: without
    the community and building that loading them through `user.residencies` joins in (three times the
    work on the casting path). Does nothing when they are loaded already."""
    if "residencies" in inspect_object(user).unloaded:
        rows = db.session.scalars(_voter_residencies(), {"user_id": user.id}).all()
        attributes.set_committed_value(user, "residencies", rows)


def voter_residency(round_: Round, user: User) -> Residency:
    load_voter_residencies(user)
    residency = next((r for r in user.residencies if r.community_id == round_.community_id
                      and r.status == ResidencyStatus.verified), None)
    if residency is None:
        raise DomainError(_l("Only verified residents of this community can vote."), status_code=403)
    return residency


def eligibility_key(round_: Round, residency: Residency) -> str:
    return residency.household_key if round_.ballot_per_household else f"person:{residency.user_id}"


def participation_of(round_: Round, user: User) -> BallotParticipation | None:
    """The user's own participation, or that of their household in a per-household round."""
    residency = next((r for r in user.residencies if r.community_id == round_.community_id
                      and r.status == ResidencyStatus.verified), None)
    keys = [f"person:{user.id}"] + ([eligibility_key(round_, residency)] if residency else [])
    return db.session.scalar(select(BallotParticipation).where(
        BallotParticipation.round_id == round_.id,
        (BallotParticipation.user_id == user.id) | BallotParticipation.eligibility_key.in_(keys)))


# The round's state, locked (a paper voter, closing); a web ballot reads it with the rest (`casting`).
_ROUND_STATE = select(Round.__table__.c.phase, Round.__table__.c.voting_closed_at).where(
    Round.__table__.c.id == bindparam("round_id"))
_LOCK_ROUND_TO_VOTE = _ROUND_STATE.with_for_update(read=True)
_LOCK_ROUND_TO_CLOSE = _ROUND_STATE.with_for_update()
ALREADY_VOTED = _l("A ballot has already been cast for you (or your household) in this round. "
                   "Each vote counts once and cannot be changed.")


def lock_open_round(round_: Round, *, closing: bool = False) -> None:
    """Re-read whether voting is open, and hold the round in that state until this transaction ends.

    Casting may have checked the round in an earlier, reading transaction, and ballots must never
    be added after the count. On PostgreSQL a ballot locks the round's row FOR SHARE and closing
    locks it FOR UPDATE: closing waits for the ballots being cast, which are then counted, and a
    ballot that comes later sees voting closed. SQLite's single writer serialises them anyway.
    """
    statement = _LOCK_ROUND_TO_CLOSE if closing else _LOCK_ROUND_TO_VOTE
    phase, closed_at = db.session.execute(statement, {"round_id": round_.id}).one()
    if phase != RoundPhase.voting or closed_at is not None:
        raise DomainError(_l("Voting is not open in this round."))


def _participate(round_, voter: User, residency, *, channel: Channel, recorded_by: User | None,
                 locked: bool = False) -> tuple[int, tuple]:
    """Record that the voter (or their household: `residency`, their verified one) voted; refuse a second
    time. Returns the row's id and the audit head read by the same statement (`audit.record(head=...)`,
    valid when the caller holds the audit writers' lock, as `casting.ballot_to_cast` takes it).
    `locked`: the caller already holds the open round in this transaction."""
    if not locked:
        lock_open_round(round_)
    # ON CONFLICT DO NOTHING: the unique keys refuse a second vote without failing the transaction.
    table = BallotParticipation.__table__
    row = db.session.connection().execute(
        insert_unless_duplicate(table, table.c.id, *audit.HEAD_COLUMNS),
        {"round_id": round_.id, "user_id": voter.id, "eligibility_key": eligibility_key(round_, residency),
         "building_id": residency.building_id, "channel": channel, "voted_on": utcnow().date(),
         "recorded_by_id": recorded_by.id if recorded_by else None}).first()
    if row is None:
        raise DomainError(ALREADY_VOTED)
    return row[0], (row[1], row[2])


# --- casting --------------------------------------------------------------------------

def new_receipt_code() -> str:
    """RECEIPT_LENGTH characters of the 32-letter alphabet, 5 random bits each, drawn at once."""
    bits = int.from_bytes(secrets.token_bytes(8), "big")
    return "".join(RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(RECEIPT_LENGTH))


def normalise_receipt(code: str) -> str:
    """Accept lower case, dashes, spaces, and O/I/L typed for 0/1."""
    cleaned = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


def receipt_hash(round_id: int, code: str) -> str:
    return hashlib.sha256(f"deliberation-receipt:{round_id}:{normalise_receipt(code)}".encode()).hexdigest()


def format_receipt(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def ballot_scope(round_: Round) -> str:
    """Where a round's web ballots are sealed until voting closes."""
    return casting.ballot_scope(round_.id)


def _seal_ballot(round_: Round, choices: list, *, options: int, salt: bytes | None = None) -> str:
    """Seal what the ballot chose under a new receipt; returns the receipt code. `salt`: the round's
    sealing salt read in this transaction (`casting.ballot_to_cast`), or None to read (or make) it."""
    while True:  # a receipt repeats with probability ~n/2^60; then draw another
        code = new_receipt_code()
        digest = receipt_hash(round_.id, code)
        if secrecy.seal(ballot_scope(round_), {"receipt_hash": digest, "choices": choices},
                        capacity=ballot_choices.capacity(round_, options), unique=digest, salt=salt):
            return code


# PostgreSQL: the participation and the sealed ballot in one statement (one round trip), returning the
# audit head too. The sealed row is inserted only if the participation was (a second ballot stores
# nothing); a receipt that repeats in the round stores no sealed row, and the ballot is sealed again
# under another receipt (`_seal_ballot`). Both rows are still apart: no key, order or time links them.
_PARTICIPATION = insert(BallotParticipation.__table__).values(
    round_id=bindparam("round_id"), user_id=bindparam("user_id"), eligibility_key=bindparam("eligibility_key"),
    building_id=bindparam("building_id"), channel=bindparam("channel"), voted_on=bindparam("voted_on"),
    recorded_by_id=None)
_PARTICIPATION._post_values_clause = insert_unless_duplicate(BallotParticipation.__table__)._post_values_clause
_PARTICIPATION_CTE = _PARTICIPATION.returning(BallotParticipation.__table__.c.id).cte("participation")
_SEALED = insert(secrecy.SealedRow.__table__).from_select(
    ["id", "scope", "tag", "box"],
    select(bindparam("sealed_id"), bindparam("scope"), bindparam("tag"), bindparam("box")).select_from(
        _PARTICIPATION_CTE))
_SEALED._post_values_clause = _PARTICIPATION._post_values_clause
_SEALED_CTE = _SEALED.returning(secrecy.SealedRow.__table__.c.id).cte("sealed")
_PARTICIPATE_AND_SEAL = select(_PARTICIPATION_CTE.c.id, select(func.count()).select_from(_SEALED_CTE)
                               .scalar_subquery().label("sealed"), *audit.HEAD_COLUMNS)


def _participate_and_seal(ballot: casting.BallotToCast, voter: User, stored: list) -> tuple[int, str, tuple]:
    """PostgreSQL's `_participate` and `_seal_ballot` in one round trip: returns the participation's id, the
    receipt code and the audit head (valid after `casting.ballot_to_cast`'s audit lock)."""
    code = new_receipt_code()
    digest = receipt_hash(ballot.id, code)
    scope = casting.ballot_scope(ballot.id)
    sealed = secrecy.sealed_row(scope, {"receipt_hash": digest, "choices": stored}, unique=digest, salt=ballot.salt,
                                capacity=ballot_choices.capacity(ballot, len(ballot.options)))
    row = db.session.connection().execute(_PARTICIPATE_AND_SEAL, {
        "round_id": ballot.id, "user_id": voter.id, "eligibility_key": eligibility_key(ballot, ballot.residency),
        "building_id": ballot.residency.building_id, "channel": Channel.web, "voted_on": utcnow().date(),
        "sealed_id": sealed["id"], "scope": scope, "tag": sealed["tag"], "box": sealed["box"]}).first()
    if row is None:
        raise DomainError(ALREADY_VOTED)
    participation_id, stored_rows, *head = row
    if not stored_rows:  # the receipt repeated in this round: seal it again under another
        code = _seal_ballot(ballot, stored, options=len(ballot.options), salt=ballot.salt)
    return participation_id, code, tuple(head)


def cast_ballot(round_: Round, voter: User, *, choices) -> str:
    """Record that the voter voted and, separately and sealed, what the ballot chose; return the receipt code."""
    ballot = casting.ballot_to_cast(round_.community.slug, round_.id, voter.id)
    if ballot is None:  # say why
        lock_open_round(round_)
        voter_residency(round_, voter)
        raise DomainError(_l("The round changed a moment ago: please cast your ballot again."))
    return cast(ballot, voter, choices=choices)


def cast(ballot: casting.BallotToCast, voter: User, *, choices) -> str:
    """`cast_ballot` for what `casting.ballot_to_cast` read and locked in this transaction: the web ballot's
    hot path."""
    check = check_choices(ballot, choices, ballot.options)
    if not check.ok:
        raise DomainError(check.problems[0], status_code=422)
    if dialect_name() == "postgresql":
        participation_id, code, head = _participate_and_seal(ballot, voter, check.stored)
    else:
        participation_id, head = _participate(ballot, voter, ballot.residency, channel=Channel.web, recorded_by=None,
                                              locked=True)
        code = _seal_ballot(ballot, check.stored, options=len(ballot.options), salt=ballot.salt)
    audit.record("ballot.participation", audit.Ref("BallotParticipation", participation_id), actor=voter,
                 community=ballot.community, summary="web", head=head)
    log.info("ballot cast in round %s (channel web)", ballot.id)
    return code


def mark_paper_voter(round_: Round, voter: User, *, actor: User) -> None:
    """The secretary records that a resident voted on paper: their web vote is then refused.

    The refusals speak to the operator about the resident (the casting path's messages speak to the voter)."""
    lock_open_round(round_)
    if not any(r.community_id == round_.community_id and r.status == ResidencyStatus.verified
               for r in voter.residencies):
        raise DomainError(_l("%(name)s is not a verified resident of this community and cannot vote.",
                             name=voter.display_name), field="voter", status_code=422)
    already = _l("%(name)s (or their household) has already voted in this round, online or on paper.",
                 name=voter.display_name)
    if participation_of(round_, voter) is not None:
        raise DomainError(already, field="voter", status_code=422)
    try:
        participation_id, _head = _participate(round_, voter, voter_residency(round_, voter),
                                               channel=Channel.paper, recorded_by=actor)
    except DomainError as error:  # the same resident recorded at the same moment by another operator
        raise DomainError(already, field="voter", status_code=422) from error
    audit.record("ballot.participation", audit.Ref("BallotParticipation", participation_id), actor=actor,
                 community=round_.community, summary=f"paper, recorded for {voter.login}")


def paper_voters(round_: Round) -> list[BallotParticipation]:
    """The residents recorded as having voted on paper in this round (one query), by name."""
    rows = db.session.scalars(select(BallotParticipation).options(joinedload(BallotParticipation.user))
                              .where(BallotParticipation.round_id == round_.id,
                                     BallotParticipation.channel == Channel.paper)).all()
    return sorted(rows, key=lambda p: p.user.display_name)


def withdraw_paper_voter(round_: Round, participation: BallotParticipation, *, reason: str, actor: User) -> None:
    """Undo the record that a resident voted on paper, while voting is open and with a reason (the sheet
    was lost or spoiled, the wrong resident was recorded): the resident may then vote again.

    Sheets carry no voter, so the reconciliation decides what follows: with one sheet too many keyed,
    closing stays refused until the keying of a sheet that should not count is deleted."""
    lock_open_round(round_)
    if participation.round_id != round_.id or participation.channel != Channel.paper:
        raise DomainError(_l("Only a paper voter recorded in this round can be withdrawn."), status_code=404)
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise DomainError(_l("Say why the record is withdrawn (for example: the sheet was lost)."),
                          field="reason", status_code=422)
    login = participation.user.login
    db.session.delete(participation)
    db.session.flush()
    audit.record("ballot.paper_voter_withdrawn", round_, actor=actor, community=round_.community,
                 summary=f"paper record of {login} withdrawn: {reason}")


# --- paper sheets ---------------------------------------------------------------------

@dataclass
class SheetStatus:
    sheet: str
    entries: list[PaperEntry]
    state: str  # counted | waiting | mismatch | invalid
    reasons: list = field(default_factory=list)


def _sheet_hash(round_id: int, sheet: str) -> str:
    """A paper ballot's receipt hash in the public list: keyed, so that nobody can hash the sheet numbers
    (P-1, P-2, ...) and pick the paper ballots out of the list; paper voters are few and often known, and a
    paper ballot told apart from the online ones would show their choices."""
    key = hmac.new(current_app.config["SECRET_KEY"].encode(), b"deliberation-paper-sheet", hashlib.sha256).digest()
    return hmac.new(key, f"{round_id}:{sheet}".encode(), hashlib.sha256).hexdigest()


def key_paper_sheet(round_: Round, *, sheet: str, choices, operator: User) -> SheetStatus:
    """Key in one paper sheet; the second matching keying by another operator counts it."""
    lock_open_round(round_)
    sheet = (sheet or "").strip().upper()
    if not sheet or len(sheet) > 30:
        raise DomainError(_l("Enter the sheet number printed on the paper ballot."), field="sheet", status_code=422)
    ids = ballot_choices.keyed(round_, choices)
    _check_sheet_fits(round_, sheet)
    try:
        with db.session.begin_nested():
            db.session.add(PaperEntry(round_id=round_.id, sheet=sheet, operator_id=operator.id, choices=ids))
    except IntegrityError as error:
        raise DomainError(_l("You have already keyed sheet %(sheet)s; a second operator must key it again.",
                             sheet=sheet), field="sheet", status_code=422) from error
    status = _reconcile(round_, sheet)
    audit.record("paper.keyed", round_, actor=operator, community=round_.community,
                 summary=f"sheet {sheet}: {status.state}")
    return status


def paper_voter_count(round_: Round) -> int:
    return db.session.scalar(select(func.count(BallotParticipation.id)).where(
        BallotParticipation.round_id == round_.id, BallotParticipation.channel == Channel.paper)) or 0


def _check_sheet_fits(round_: Round, sheet: str) -> None:
    """A new sheet number is keyed only while fewer sheets than recorded paper voters exist, so the
    counted paper ballots can never outnumber the residents recorded as having voted on paper."""
    if dialect_name() == "postgresql":  # two operators keying new sheets at once must not both fit
        db.session.execute(text("SELECT pg_advisory_xact_lock(CAST(:key AS integer), CAST(:round_id AS integer))"),
                           {"key": _PG_PAPER_LOCK, "round_id": round_.id})
    sheets = set(db.session.scalars(select(PaperEntry.sheet).where(PaperEntry.round_id == round_.id)))
    if sheet in sheets:
        return
    voters = paper_voter_count(round_)
    if len(sheets) >= voters:
        raise DomainError(_l("%(voters)d residents are recorded as paper voters and %(sheets)d sheets are already "
                             "keyed. Record the resident who handed in this sheet first, or check the sheet "
                             "number (delete a keying with a mistyped number).", voters=voters, sheets=len(sheets)),
                          field="sheet", status_code=422)


def _reconcile(round_: Round, sheet: str) -> SheetStatus:
    entries = list(db.session.scalars(select(PaperEntry).where(PaperEntry.round_id == round_.id,
                                                               PaperEntry.sheet == sheet).order_by(PaperEntry.id)))
    status = sheet_status(round_, sheet, entries)
    digest = _sheet_hash(round_.id, sheet)
    exists = db.session.scalar(select(Ballot.id).where(Ballot.receipt_hash == digest))
    if status.state == "counted" and exists is None:
        db.session.add(Ballot(round_id=round_.id, receipt_hash=digest, channel=Channel.paper,
                              choices=check_choices(round_, entries[0].choices).stored))
    elif status.state != "counted" and exists is not None:
        db.session.execute(delete(Ballot).where(Ballot.id == exists))
    db.session.flush()
    return status


def sheet_status(round_: Round, sheet: str, entries: list[PaperEntry], items: list[Proposal] | None = None
                 ) -> SheetStatus:
    if len(entries) < 2:
        return SheetStatus(sheet, entries, "waiting", [_l("Waiting for the second keying by another operator.")])
    if len(entries) > 2 or not ballot_choices.same(entries[0].choices, entries[1].choices):
        return SheetStatus(sheet, entries, "mismatch",
                           [_l("The keyings differ: check the paper sheet, delete the wrong entry and key it again.")])
    check = check_choices(round_, entries[0].choices, items)
    if not check.ok:
        return SheetStatus(sheet, entries, "invalid", _sheet_problems(round_, sheet, entries[0].choices, check, items))
    return SheetStatus(sheet, entries, "counted")


def _sheet_problems(round_: Round, sheet: str, choices: list, check: BallotCheck, items: list | None) -> list:
    """Why a sheet's ballot breaks the rules, said to the operators (`check_choices` speaks to the voter)."""
    items = ballot_items(round_) if items is None else items
    if not ballot_choices.is_approval(round_):
        return _pairs_sheet_problems(round_, sheet, choices, items)
    problems = []
    if set(choices) - {p.id for p in items}:
        problems.append(_l("The sheet names a project that is not on the ballot."))
    if round_.max_approvals is not None and len(set(choices)) > round_.max_approvals:
        problems.append(_l("The sheet approves %(k)d projects; a ballot may approve at most %(n)d.",
                           k=len(set(choices)), n=round_.max_approvals))
    if round_.must_fit_budget and check.total_cost > round_.budget:
        problems.append(_l("The projects ticked on the sheet cost %(total)s yuan, more than the budget of "
                           "%(budget)s yuan.", total=f"{check.total_cost:,}", budget=f"{round_.budget:,}"))
    return problems


def _pairs_sheet_problems(round_: Round, sheet: str, pairs: list, items: list) -> list:
    """A cumulative or ranked sheet's problems for the operators: which sheet, which project, what is wrong.

    `pairs` is the keying as stored: [project id, points] or [project id, rank] (see `choices`)."""
    titles = {p.id: p.title for p in items}
    problems = [_l("Sheet %(sheet)s names project no. %(id)d, which is not on the ballot.", sheet=sheet, id=pid)
                for pid, _value in pairs if pid not in titles]
    known = [(pid, value) for pid, value in pairs if pid in titles]
    if round_.ballot_type == BallotType.cumulative:
        cap, total = round_.points_per_project, round_.points_total
        problems += [_l("Sheet %(sheet)s gives %(n)d points to “%(title)s”; one project may get at most %(m)d.",
                        sheet=sheet, n=points, title=titles[pid], m=cap)
                     for pid, points in known if cap is not None and points > cap]
        used = sum(points for _pid, points in known)
        if total is not None and used > total:
            problems.append(_l("Sheet %(sheet)s gives %(used)d points in all; one ballot may spread at most %(n)d.",
                               sheet=sheet, used=used, n=total))
        return problems
    k = round_.max_approvals or len(items)
    problems += [_l("Sheet %(sheet)s ranks “%(title)s” %(rank)d; ranks go from 1 to %(k)d.", sheet=sheet,
                    title=titles[pid], rank=rank, k=k) for pid, rank in known if not 1 <= rank <= k]
    by_rank: dict[int, list[str]] = {}
    for pid, rank in known:
        by_rank.setdefault(rank, []).append(titles[pid])
    problems += [_l("Sheet %(sheet)s gives rank %(rank)d to more than one project (%(titles)s).", sheet=sheet,
                    rank=rank, titles="、".join(names)) for rank, names in sorted(by_rank.items()) if len(names) > 1]
    return problems


def paper_sheets(round_: Round) -> list[SheetStatus]:
    """Every keyed sheet with its state and, for the ones that do not count, why."""
    entries = db.session.scalars(select(PaperEntry).where(PaperEntry.round_id == round_.id)
                                 .order_by(PaperEntry.sheet, PaperEntry.id)).all()
    by_sheet: dict[str, list[PaperEntry]] = {}
    for entry in entries:
        by_sheet.setdefault(entry.sheet, []).append(entry)
    items = ballot_items(round_)
    order = {"mismatch": 0, "invalid": 1, "waiting": 2, "counted": 3}
    statuses = [sheet_status(round_, sheet, group, items) for sheet, group in by_sheet.items()]
    return sorted(statuses, key=lambda s: (order[s.state], s.sheet))


def delete_paper_entry(entry: PaperEntry, *, actor: User) -> None:
    """Remove a wrong keying so the sheet can be keyed again; the sheet's count follows."""
    round_ = db.session.get(Round, entry.round_id)
    if round_.phase != RoundPhase.voting or round_.voting_closed_at is not None:
        raise DomainError(_l("Voting is closed; paper entries can no longer change."))
    sheet = entry.sheet
    db.session.delete(entry)
    db.session.flush()
    _reconcile(round_, sheet)
    audit.record("paper.entry_deleted", round_, actor=actor, community=round_.community, summary=f"sheet {sheet}")


@dataclass
class PaperReconciliation:
    """Paper voters recorded against the sheets keyed, and what must still be done before closing."""

    voters: int
    keyed_once: int
    matching: int  # keyed twice, the keyings agree, the ballot counts
    mismatched: int
    invalid: int  # keyed twice and agreeing, but the ballot breaks the rules: it does not count
    problems: list = field(default_factory=list)

    @property
    def sheets(self) -> int:
        return self.keyed_once + self.matching + self.mismatched + self.invalid

    @property
    def ok(self) -> bool:
        return not self.problems


def paper_reconciliation(round_: Round, sheets: list[SheetStatus] | None = None) -> PaperReconciliation:
    """Every recorded paper voter must have exactly one sheet keyed twice, matching (counted or invalid)."""
    sheets = paper_sheets(round_) if sheets is None else sheets
    states = Counter(s.state for s in sheets)
    report = PaperReconciliation(paper_voter_count(round_), states["waiting"], states["counted"],
                                 states["mismatch"], states["invalid"])
    if report.keyed_once:
        report.problems.append(_l("%(n)d sheets are keyed only once: a second operator must key them.",
                                  n=report.keyed_once))
    if report.mismatched:
        report.problems.append(_l("The two keyings of %(n)d sheets differ: check each paper sheet, delete the "
                                  "wrong keying and key it again.", n=report.mismatched))
    if report.sheets < report.voters:
        report.problems.append(_l("%(voters)d residents are recorded as paper voters but only %(sheets)d sheets "
                                  "are keyed: key the missing sheets.", voters=report.voters, sheets=report.sheets))
    elif report.sheets > report.voters:
        report.problems.append(_l("%(sheets)d sheets are keyed for only %(voters)d recorded paper voters: record "
                                  "the missing voters or delete the keyings of sheets that do not exist.",
                                  voters=report.voters, sheets=report.sheets))
    return report


# --- turnout, closing, counting -------------------------------------------------------

@dataclass
class Turnout:
    web: int
    paper: int
    by_building: list[tuple[str, int, int]]  # (building, web, paper)
    eligible: int

    @property
    def total(self) -> int:
        return self.web + self.paper


def turnout(round_: Round) -> Turnout:
    """How many have voted, on which channel and from which building; never how."""
    from deliberation.communities.models import Building

    rows = db.session.execute(
        select(Building.name, BallotParticipation.channel, func.count(BallotParticipation.id))
        .join(Building, Building.id == BallotParticipation.building_id, isouter=True)
        .where(BallotParticipation.round_id == round_.id)
        .group_by(Building.name, BallotParticipation.channel).order_by(Building.name)
    ).all()
    by_building: dict[str, list[int]] = {}
    totals = Counter()
    for name, channel, count in rows:
        by_building.setdefault(name or "—", [0, 0])[0 if channel == Channel.web else 1] += count
        totals[channel] += count
    eligible_query = select(func.count(func.distinct(
        Residency.household_key if round_.ballot_per_household else Residency.user_id))).where(
        Residency.community_id == round_.community_id, Residency.status == ResidencyStatus.verified)
    return Turnout(totals[Channel.web], totals[Channel.paper],
                   [(name, web, paper) for name, (web, paper) in by_building.items()],
                   db.session.scalar(eligible_query) or 0)


def close_voting(round_: Round, *, actor: User) -> RoundResult:
    """Stop voting, count the ballots with the round's rule and publish the result."""
    lock_open_round(round_, closing=True)
    reconciliation = paper_reconciliation(round_)
    if not reconciliation.ok:
        raise DomainError(_l("Voting cannot close yet: the paper ballots do not reconcile. %(todo)s",
                             todo=" ".join(str(p) for p in reconciliation.problems)))
    round_.voting_closed_at = utcnow()
    _reshuffle_ballots(round_)
    result = counting.count_round(round_, ballot_items(round_), round_ballots(round_))
    db.session.add(result)
    db.session.flush()
    audit.record("round.counted", round_, actor=actor, community=round_.community,
                 summary=f"{result.ballots_counted} ballots, rule {result.rule.value}, winners {result.winners}")
    return result


def _reshuffle_ballots(round_: Round) -> None:
    """Open the sealed web ballots and rewrite all the round's ballots in receipt-hash order, so
    that storage order reveals nothing (the sealed rows and their key's salt are destroyed)."""
    opened = [(p["receipt_hash"], Channel.web, p["choices"]) for p in secrecy.unseal(ballot_scope(round_))]
    plain = db.session.execute(select(Ballot.receipt_hash, Ballot.channel, Ballot.choices)
                               .where(Ballot.round_id == round_.id)).all()
    # Receipts are unique: sealing refused a repeat, paper hashes differ, and the unique key checks again.
    rows = sorted([*opened, *plain], key=lambda row: row[0])
    db.session.execute(delete(Ballot).where(Ballot.round_id == round_.id))
    if rows:
        db.session.execute(insert(Ballot), [
            {"id": secrets.token_hex(16), "round_id": round_.id, "receipt_hash": h, "channel": c, "choices": ch}
            for h, c, ch in rows])


def ballot_count(round_: Round) -> int:
    """Every ballot of the round, sealed (web, while voting is open) or plain (paper, and all after closing)."""
    plain = db.session.scalar(select(func.count(Ballot.id)).where(Ballot.round_id == round_.id))
    return plain + secrecy.sealed_count(ballot_scope(round_))


def round_ballots(round_: Round) -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).where(Ballot.round_id == round_.id)
                                   .order_by(Ballot.receipt_hash)))


def result_of(round_: Round) -> RoundResult | None:
    return db.session.scalar(select(RoundResult).where(RoundResult.round_id == round_.id))


def override_result(round_: Round, *, winners, reason: str, actor: User) -> RoundResult:
    """Replace the computed winners, only with a written public reason; audited."""
    result = result_of(round_)
    if result is None or round_.phase != RoundPhase.council_resolution:
        raise DomainError(_l("The result can only be overridden after counting and before the council's resolution."))
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError(_l("Write a public reason of at least 10 characters."), field="reason", status_code=422)
    chosen = sorted({int(w) for w in winners})
    by_id = {p.id: p for p in ballot_items(round_)}
    if not set(chosen) <= by_id.keys():
        raise DomainError(_l("Only projects on the ballot can be funded."), field="winners", status_code=422)
    total = sum(by_id[i].cost for i in chosen)
    if total > round_.budget:
        raise DomainError(_l("The chosen projects cost %(total)s yuan, more than the budget of %(budget)s yuan.",
                             total=f"{total:,}", budget=f"{round_.budget:,}"), field="winners", status_code=422)
    result.override_winners = chosen
    result.override_reason = reason
    result.overridden_by_id = actor.id
    result.overridden_at = utcnow()
    db.session.flush()
    audit.record("round.result_overridden", round_, actor=actor, community=round_.community,
                 summary=f"winners {result.winners} -> {chosen}: {reason}")
    return result


def ballot_items_with_outcome(round_: Round) -> list[Proposal]:
    """The projects that were on the ballot, whatever happened to them since."""
    return list(db.session.scalars(select(Proposal).where(
        Proposal.round_id == round_.id,
        Proposal.status.in_([ProposalStatus.on_ballot, ProposalStatus.funded, ProposalStatus.not_funded,
                             ProposalStatus.in_progress, ProposalStatus.completed]))
        .order_by(Proposal.id)))
