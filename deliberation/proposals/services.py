"""Round and proposal operations: they flush but never commit, and raise DomainError on refusal."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from deliberation.auth.models import User
from deliberation.communities.models import Building, Community, Estate
from deliberation.core import audit
from deliberation.core.errors import DomainError
from deliberation.core.models import utcnow
from deliberation.core.text import clean
from deliberation.core.uploads import delete_after_commit, store_image
from deliberation.extensions import db
from deliberation.notifications import events as notification_events
from deliberation.proposals.models import (
    PHASE_ORDER,
    Category,
    Comment,
    CommentReport,
    Objection,
    Photo,
    ProgressUpdate,
    Proposal,
    ProposalStatus,
    Rating,
    Round,
    RoundPhase,
    RoundStep,
    Support,
)

MAX_PHOTOS = 6
MAX_TITLE = 100
MAX_DESCRIPTION = 5000
MAX_COMMENT = 2000
MAX_REASON = 1000


def _text(value: str | None, field: str, message, *, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field, status_code=422)
    if len(value) > max_length:
        raise DomainError(_l("At most %(n)d characters.", n=max_length), field=field, status_code=422)
    return value


# --- rounds ---------------------------------------------------------------------------

@dataclass
class RoundSettings:
    title: str
    budget: int
    project_cap: int
    cap_services: int
    cap_goods: int
    cap_works: int
    support_threshold: int = 0
    branch_review_enabled: bool = True
    publicity_days: int = 5
    description: str = ""
    planned: dict[RoundPhase, date | None] | None = None


def _check_settings(settings: RoundSettings) -> None:
    _text(settings.title, "title", _l("Give the round a title."), max_length=120)
    if settings.budget is None or settings.budget <= 0:
        raise DomainError(_l("The budget must be a positive number of yuan."), field="budget", status_code=422)
    if settings.project_cap is None or not 0 < settings.project_cap <= settings.budget:
        raise DomainError(_l("The per-project cap must be positive and no more than the budget."),
                          field="project_cap", status_code=422)
    for name in ("cap_services", "cap_goods", "cap_works"):
        if getattr(settings, name) is None or getattr(settings, name) <= 0:
            raise DomainError(_l("Category caps must be positive."), field=name, status_code=422)
    if settings.support_threshold is None or settings.support_threshold < 0:
        raise DomainError(_l("The support threshold cannot be negative."), field="support_threshold",
                          status_code=422)
    if settings.publicity_days is None or not 1 <= settings.publicity_days <= 60:
        raise DomainError(_l("Publicity lasts between 1 and 60 days."), field="publicity_days", status_code=422)
    dates = [(phase, d) for phase, d in (settings.planned or {}).items() if d is not None]
    dates.sort(key=lambda item: PHASE_ORDER.index(item[0]))
    for (_p1, d1), (p2, d2) in zip(dates, dates[1:], strict=False):
        if d2 < d1:
            raise DomainError(_l("The planned dates must follow the order of the phases (%(phase)s is too early).",
                                 phase=p2.label), field=f"start_{p2.value}", status_code=422)


def _apply_settings(round_: Round, settings: RoundSettings) -> None:
    round_.title = settings.title.strip()
    round_.description = (settings.description or "").strip()
    for name in ("budget", "project_cap", "cap_services", "cap_goods", "cap_works", "support_threshold",
                 "branch_review_enabled", "publicity_days"):
        setattr(round_, name, getattr(settings, name))
    for step in round_.steps:
        step.planned_start = (settings.planned or {}).get(step.phase)


def create_round(community: Community, *, settings: RoundSettings, actor: User) -> Round:
    """Open a new round in the collecting phase."""
    _check_settings(settings)
    round_ = Round(community=community, created_by_id=actor.id, phase=RoundPhase.collecting)
    round_.steps = [RoundStep(phase=phase, position=i) for i, phase in enumerate(PHASE_ORDER)]
    _apply_settings(round_, settings)
    first = round_.step(RoundPhase.collecting)
    first.started_at = utcnow()
    first.started_by_id = actor.id
    db.session.add(round_)
    db.session.flush()
    audit.record("round.created", round_, actor=actor, community=community,
                 summary=f"{round_.title}: budget {round_.budget}")
    return round_


def update_round(round_: Round, *, settings: RoundSettings, actor: User) -> None:
    """Change a round's settings; only while it is collecting proposals."""
    if round_.phase != RoundPhase.collecting:
        raise DomainError(_l("A round's settings can only change while it is collecting proposals."))
    _check_settings(settings)
    _apply_settings(round_, settings)
    db.session.flush()
    audit.record("round.updated", round_, actor=actor, community=round_.community, summary=round_.title)


def proposals_in(round_: Round, *statuses: ProposalStatus) -> list[Proposal]:
    return list(db.session.scalars(
        select(Proposal).where(Proposal.round_id == round_.id, Proposal.status.in_(statuses)).order_by(Proposal.id)
    ))


def advance_blockers(round_: Round) -> list:
    """What still stops the round from moving to its next phase, in words (empty: it may move).

    `advance_round` refuses with these and the round page shows them on the phase button, so the
    button never leads to a refusal.
    """
    target = round_.next_phase()
    if target is None:
        return [_l("This round is closed.")]
    blockers = []
    if round_.phase == RoundPhase.screening:
        waiting = count_in(round_, ProposalStatus.submitted)
        if waiting:
            blockers.append(_l("%(n)d proposals still to screen.", n=waiting))
    if round_.phase == RoundPhase.voting:  # closing counts: the paper ballots must reconcile first
        from deliberation.votes.services import paper_reconciliation

        blockers.extend(paper_reconciliation(round_).problems)
    if target == RoundPhase.voting and not count_in(round_, ProposalStatus.accepted):
        blockers.append(_l("No accepted proposal is left to put on the ballot."))
    if target == RoundPhase.publicity:
        blockers.append(_l("The council's resolution moves the round to publicity."))
    if target == RoundPhase.implementing:
        if round_.publicity_ends_at and utcnow() < round_.publicity_ends_at:
            blockers.append(_l("The publicity period has not ended yet."))
        unanswered = db.session.scalar(
            select(func.count(Objection.id)).join(Proposal, Objection.proposal_id == Proposal.id)
            .where(Proposal.round_id == round_.id, Objection.answer.is_(None)))
        if unanswered:
            blockers.append(_l("%(n)d objections still wait for a public answer.", n=unanswered))
    if target == RoundPhase.closed:
        running = count_in(round_, ProposalStatus.in_progress)
        if running:
            blockers.append(_l("%(n)d funded projects are still being implemented; complete them first.",
                               n=running))
    return blockers


def count_in(round_: Round, *statuses: ProposalStatus) -> int:
    return db.session.scalar(select(func.count(Proposal.id)).where(Proposal.round_id == round_.id,
                                                                   Proposal.status.in_(statuses))) or 0


def advance_round(round_: Round, *, actor: User) -> RoundPhase:
    """Move the round to its next phase after checking that the current one is finished."""
    blockers = advance_blockers(round_)
    if blockers:
        target = round_.next_phase()
        lead = _l("The round cannot move to %(phase)s yet:", phase=target.label) if target else blockers.pop(0)
        raise DomainError(" ".join(str(part) for part in [lead, *blockers]))
    target = round_.next_phase()
    if target == RoundPhase.voting:
        for proposal in proposals_in(round_, ProposalStatus.accepted):
            proposal.put_on_ballot()
    if round_.phase == RoundPhase.voting:
        # Leaving the vote closes it and counts the ballots (the votes area owns both).
        from deliberation.votes.services import close_voting

        close_voting(round_, actor=actor)
    if target == RoundPhase.implementing:
        for proposal in proposals_in(round_, ProposalStatus.funded):
            proposal.start_implementation()
    previous = round_.phase
    round_.advance_to(target, by=actor)
    db.session.flush()
    audit.record("round.advanced", round_, actor=actor, community=round_.community,
                 summary=f"{previous.value} -> {target.value}")
    if target == RoundPhase.voting:
        notification_events.voting_opened(round_)
    return target


def record_resolution(round_: Round, *, funded_ids: Iterable[int], note: str, actor: User) -> list[Proposal]:
    """Apply the council's resolution: fund the chosen ballot items, the rest are not funded.

    This is the hook a council motion calls; a secretary can also enter a resolution taken on paper.
    """
    if round_.phase != RoundPhase.council_resolution:
        raise DomainError(_l("The round is not waiting for a council resolution."))
    note = _text(note, "note", _l("Say which meeting took the resolution."), max_length=MAX_REASON)
    ballot = {p.id: p for p in proposals_in(round_, ProposalStatus.on_ballot)}
    chosen = set(funded_ids)
    if not chosen <= ballot.keys():
        raise DomainError(_l("Only projects on the ballot can be funded."), field="funded", status_code=422)
    total = sum(ballot[i].cost for i in chosen)
    if total > round_.budget:
        raise DomainError(_l("The chosen projects cost %(total)s yuan, more than the budget of %(budget)s yuan.",
                             total=f"{total:,}", budget=f"{round_.budget:,}"), field="funded", status_code=422)
    for proposal_id, proposal in ballot.items():
        proposal.fund() if proposal_id in chosen else proposal.not_fund()
    round_.resolution_note = note
    round_.advance_to(RoundPhase.publicity, by=actor)
    db.session.flush()
    audit.record("round.resolved", round_, actor=actor, community=round_.community,
                 summary=f"funded {sorted(chosen)} ({total} yuan); {note}")
    return [ballot[i] for i in sorted(chosen)]


# --- proposals ------------------------------------------------------------------------

@dataclass
class ProposalFields:
    # None: the form could not read the field (and shows its own message); the service refuses it.
    title: str | None
    description: str | None
    category: Category | None
    cost: int | None
    estate_id: int | None = None
    building_id: int | None = None
    location_text: str = ""


def proposal_problems(round_: Round, fields: ProposalFields) -> list[DomainError]:
    """Every reason these fields would be refused, so a form can show them all at once.

    A field left as None (the form could not read it and says so itself) is not checked again here.
    No place at all is fine: the project is not tied to one place (不限具体地点).
    """
    problems: list[DomainError] = []

    def check(rule) -> None:
        try:
            rule()
        except DomainError as error:
            problems.append(error)

    if fields.title is not None:
        check(lambda: _text(fields.title, "title", _l("Give the proposal a title."), max_length=MAX_TITLE))
    if fields.description is not None:
        check(lambda: _text(fields.description, "description", _l("Describe what should be done and why."),
                            max_length=MAX_DESCRIPTION))
    if fields.cost is not None and fields.cost <= 0:
        problems.append(DomainError(_l("The estimated cost must be a positive whole number of yuan."), field="cost",
                                    status_code=422))
    elif fields.cost is not None and fields.category is not None and fields.cost > round_.cap_for(fields.category):
        problems.append(DomainError(_l("%(category)s projects in this round may cost at most %(cap)s yuan.",
                                       category=fields.category.label,
                                       cap=f"{round_.cap_for(fields.category):,}"), field="cost", status_code=422))
    if len(fields.location_text or "") > 200:
        problems.append(DomainError(_l("At most %(n)d characters.", n=200), field="location_text", status_code=422))
    estate = db.session.get(Estate, fields.estate_id) if fields.estate_id else None
    building = db.session.get(Building, fields.building_id) if fields.building_id else None
    if (estate and estate.community_id != round_.community_id) or (
            building and building.community_id != round_.community_id):
        problems.append(DomainError(_l("Choose a place in this community."), field="building_id", status_code=422))
    elif building and estate and building.estate_id != estate.id:
        problems.append(DomainError(_l("This building is not in the chosen estate."), field="building_id",
                                    status_code=422))
    return problems


def _check_fields(round_: Round, fields: ProposalFields) -> tuple[Estate | None, Building | None]:
    if fields.cost is None:
        raise DomainError(_l("The estimated cost must be a positive whole number of yuan."), field="cost",
                          status_code=422)
    for field_name in ("title", "description", "category"):
        if getattr(fields, field_name) is None:
            raise DomainError(_l("This field is required."), field=field_name, status_code=422)
    problems = proposal_problems(round_, fields)
    if problems:
        raise problems[0]
    estate = db.session.get(Estate, fields.estate_id) if fields.estate_id else None
    building = db.session.get(Building, fields.building_id) if fields.building_id else None
    return estate or (building.estate if building else None), building


def _add_photos(proposal: Proposal, photos: list[bytes], *, update: ProgressUpdate | None = None) -> None:
    for data in photos:
        stored = store_image(data)
        db.session.add(Photo(proposal_id=proposal.id, progress_update_id=update.id if update else None,
                             filename=stored.filename, width=stored.width, height=stored.height))


def submit_proposal(round_: Round, proposer: User, *, fields: ProposalFields, photos: list[bytes]) -> Proposal:
    """A verified resident proposes a micro-project while the round is collecting."""
    if round_.phase != RoundPhase.collecting:
        raise DomainError(_l("This round is not collecting proposals."))
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_l("At most %(n)d photos.", n=MAX_PHOTOS), field="photos", status_code=422)
    estate, building = _check_fields(round_, fields)
    proposal = Proposal(round=round_, community_id=round_.community_id, proposer=proposer,
                        title=fields.title.strip(), description=fields.description.strip(),
                        category=fields.category, cost=fields.cost, estate=estate, building=building,
                        location_text=clean(fields.location_text))
    db.session.add(proposal)
    db.session.flush()
    _add_photos(proposal, photos)
    db.session.flush()
    audit.record("proposal.submitted", proposal, actor=proposer, community=round_.community,
                 summary=f"{proposal.title} ({proposal.category.value}, {proposal.cost} yuan)")
    return proposal


def update_proposal(proposal: Proposal, *, fields: ProposalFields, new_photos: list[bytes],
                    remove_photo_ids: Iterable[int], actor: User) -> None:
    """The proposer edits the proposal until screening starts."""
    if proposal.round.phase != RoundPhase.collecting or proposal.status != ProposalStatus.submitted:
        raise DomainError(_l("A proposal can only be edited while the round is collecting."))
    estate, building = _check_fields(proposal.round, fields)
    remove = set(remove_photo_ids)
    kept = [p for p in proposal.photos if p.id not in remove]
    if len(kept) + len(new_photos) > MAX_PHOTOS:
        raise DomainError(_l("At most %(n)d photos.", n=MAX_PHOTOS), field="photos", status_code=422)
    proposal.title = fields.title.strip()
    proposal.description = fields.description.strip()
    proposal.category, proposal.cost = fields.category, fields.cost
    proposal.estate, proposal.building = estate, building
    proposal.location_text = clean(fields.location_text)
    if remove:
        for photo in proposal.photos:
            if photo.id in remove:
                delete_after_commit(photo.filename)  # a removed photo must not stay reachable
        db.session.execute(delete(Photo).where(Photo.proposal_id == proposal.id, Photo.id.in_(remove)))
    _add_photos(proposal, new_photos)
    db.session.flush()
    db.session.expire(proposal, ["photos"])
    audit.record("proposal.edited", proposal, actor=actor, community=proposal.round.community,
                 summary=proposal.title)


def _bump_supports(proposal_id: int, delta: int) -> None:
    # One UPDATE ... SET n = n + 1: concurrent co-signers cannot lose each other's count.
    db.session.execute(update(Proposal).where(Proposal.id == proposal_id)
                       .values(support_count=Proposal.support_count + delta))


def add_support(proposal: Proposal, user: User) -> None:
    """Co-sign a proposal once; a second co-signature, even a concurrent one, is refused."""
    if proposal.proposer_id == user.id:
        raise DomainError(_l("You cannot co-sign your own proposal."))
    if proposal.round.phase != RoundPhase.collecting or proposal.status != ProposalStatus.submitted:
        raise DomainError(_l("Co-signing is open only while the round collects proposals."))
    try:
        with db.session.begin_nested():
            db.session.add(Support(proposal_id=proposal.id, user_id=user.id))
    except IntegrityError as error:
        raise DomainError(_l("You have already co-signed this proposal.")) from error
    _bump_supports(proposal.id, +1)
    db.session.refresh(proposal, ["support_count"])
    audit.record("proposal.supported", proposal, actor=user, community=proposal.round.community)


def withdraw_support(proposal: Proposal, user: User) -> None:
    if proposal.round.phase != RoundPhase.collecting:
        raise DomainError(_l("Co-signatures can only be withdrawn while the round collects proposals."))
    removed = db.session.execute(delete(Support).where(Support.proposal_id == proposal.id,
                                                       Support.user_id == user.id)).rowcount
    if not removed:
        raise DomainError(_l("You have not co-signed this proposal."))
    _bump_supports(proposal.id, -1)
    db.session.refresh(proposal, ["support_count"])
    audit.record("proposal.support_withdrawn", proposal, actor=user, community=proposal.round.community)


def has_supported(proposal: Proposal, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(select(Support.id).where(Support.proposal_id == proposal.id,
                                                      Support.user_id == user.id)) is not None


# --- screening and review -------------------------------------------------------------

def _require_phase(round_: Round, phase: RoundPhase) -> None:
    if round_.phase != phase:
        raise DomainError(_l("This can only be done while the round is in the phase: %(phase)s.",
                             phase=phase.label))


def accept_proposal(proposal: Proposal, *, actor: User, reason: str | None = None) -> None:
    """Accept during screening; below the round's co-signature threshold only with a public reason."""
    _require_phase(proposal.round, RoundPhase.screening)
    threshold_reason = None
    if proposal.below_threshold():
        threshold_reason = _text(reason, "reason", _l(
            "%(title)s has %(n)d co-signatures, fewer than the %(threshold)d this round asks for: give a public "
            "reason to accept it anyway.", title=proposal.title, n=proposal.support_count,
            threshold=proposal.round.support_threshold), max_length=MAX_REASON)
    proposal.accept(threshold_reason=threshold_reason)
    db.session.flush()
    summary = (f"below the threshold ({proposal.support_count}/{proposal.round.support_threshold}): "
               f"{threshold_reason}" if threshold_reason else "")
    audit.record("proposal.accepted", proposal, actor=actor, community=proposal.round.community, summary=summary)
    notification_events.proposal_status_changed(proposal)


def screening_queue(round_: Round) -> list[Proposal]:
    """The round's proposals still to screen, most co-signed first, with their proposers."""
    return list(db.session.scalars(
        select(Proposal).where(Proposal.round_id == round_.id, Proposal.status == ProposalStatus.submitted)
        .options(joinedload(Proposal.proposer)).order_by(Proposal.support_count.desc(), Proposal.id)))


def reject_proposal(proposal: Proposal, *, actor: User, reason: str) -> None:
    _require_phase(proposal.round, RoundPhase.screening)
    proposal.reject(_text(reason, "reason", _l("Give a public reason."), max_length=MAX_REASON))
    db.session.flush()
    audit.record("proposal.rejected", proposal, actor=actor, community=proposal.round.community, summary=reason)
    notification_events.proposal_status_changed(proposal)


def merge_proposal(proposal: Proposal, *, into: Proposal, actor: User) -> int:
    """Merge into another proposal of the round; co-signatures move over. Returns how many moved."""
    _require_phase(proposal.round, RoundPhase.screening)
    if into.id == proposal.id or into.round_id != proposal.round_id:
        raise DomainError(_l("Choose another proposal of the same round."), field="target", status_code=422)
    if into.status not in (ProposalStatus.submitted, ProposalStatus.accepted):
        raise DomainError(_l("A proposal can only be merged into one that is still in the running."),
                          field="target", status_code=422)
    proposal.merge_into(into)
    already = select(Support.user_id).where(Support.proposal_id == into.id)
    moved = db.session.execute(
        update(Support).where(Support.proposal_id == proposal.id, Support.user_id.not_in(already),
                              Support.user_id != into.proposer_id)
        .values(proposal_id=into.id)
    ).rowcount
    db.session.execute(delete(Support).where(Support.proposal_id == proposal.id))
    db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(support_count=0))
    _bump_supports(into.id, moved)
    db.session.flush()
    db.session.refresh(into, ["support_count"])
    db.session.refresh(proposal, ["support_count"])
    audit.record("proposal.merged", proposal, actor=actor, community=proposal.round.community,
                 summary=f"into #{into.id}, {moved} co-signatures moved")
    return moved


def strike_proposal(proposal: Proposal, *, actor: User, reason: str) -> None:
    """The Party branch strikes an item from the ballot list with a public reason."""
    _require_phase(proposal.round, RoundPhase.branch_review)
    proposal.strike(_text(reason, "reason", _l("Give a public reason."), max_length=MAX_REASON))
    db.session.flush()
    audit.record("proposal.struck", proposal, actor=actor, community=proposal.round.community, summary=reason)
    notification_events.proposal_status_changed(proposal)


# --- discussion -----------------------------------------------------------------------

def add_comment(proposal: Proposal, author: User, *, body: str, parent: Comment | None = None) -> Comment:
    body = _text(body, "body", _l("Write something first."), max_length=MAX_COMMENT)
    if parent is not None and parent.proposal_id != proposal.id:
        raise DomainError(_l("You can only reply to a comment on this proposal."), status_code=400)
    # Replies to replies attach to the top comment: one level of threading reads best on a phone.
    if parent is not None and parent.parent_id is not None:
        parent = db.session.get(Comment, parent.parent_id)
    comment = Comment(proposal=proposal, author=author, body=body, parent_id=parent.id if parent else None)
    db.session.add(comment)
    db.session.flush()
    audit.record("comment.posted", comment, actor=author, community=proposal.round.community)
    notification_events.comment_replied(comment)
    return comment


def report_comment(comment: Comment, reporter: User) -> bool:
    """Report a comment for review; returns False if this user had reported it already."""
    try:
        with db.session.begin_nested():
            db.session.add(CommentReport(comment_id=comment.id, reporter_id=reporter.id))
    except IntegrityError:
        return False
    db.session.execute(update(Comment).where(Comment.id == comment.id)
                       .values(report_count=Comment.report_count + 1))
    db.session.refresh(comment, ["report_count"])
    audit.record("comment.reported", comment, actor=reporter, community=comment.proposal.round.community)
    return True


def moderate_comment(comment: Comment, *, hide: bool, actor: User, reason: str) -> None:
    """Hide or restore a comment, with a reason shown in its place."""
    if comment.hidden == hide:
        raise DomainError(_l("The comment is already hidden.") if hide else _l("The comment is already visible."))
    comment.hidden = hide
    comment.moderation_reason = _text(reason, "reason", _l("Give a reason."), max_length=300)
    comment.moderated_by_id = actor.id
    comment.moderated_at = utcnow()
    db.session.flush()
    audit.record("comment.hidden" if hide else "comment.restored", comment, actor=actor,
                 community=comment.proposal.round.community, summary=reason)


# --- publicity, implementation, rating ------------------------------------------------

def file_objection(proposal: Proposal, author: User, *, body: str) -> Objection:
    if proposal.round.phase != RoundPhase.publicity or proposal.status != ProposalStatus.funded:
        raise DomainError(_l("Objections can be filed only against funded projects during publicity."))
    # Every objection holds the round in publicity until it is answered: one open objection per resident
    # and project, or a script could file hundreds for the secretary to answer one by one.
    waiting = db.session.scalar(select(Objection.id).where(
        Objection.proposal_id == proposal.id, Objection.author_id == author.id, Objection.answer.is_(None)).limit(1))
    if waiting is not None:
        raise DomainError(_l("Your objection to this project has not been answered yet. Put all your points in "
                             "one objection; you can file another once it is answered."), field="body",
                          status_code=422)
    objection = Objection(proposal_id=proposal.id, author=author,
                          body=_text(body, "body", _l("Write your objection."), max_length=MAX_COMMENT))
    db.session.add(objection)
    db.session.flush()
    audit.record("objection.filed", objection, actor=author, community=proposal.round.community)
    return objection


def answer_objection(objection: Objection, *, actor: User, answer: str) -> None:
    if objection.answer is not None:
        raise DomainError(_l("This objection has already been answered."))
    objection.answer = _text(answer, "answer", _l("Write the public answer."), max_length=MAX_COMMENT)
    objection.answered_by = actor
    objection.answered_at = utcnow()
    db.session.flush()
    audit.record("objection.answered", objection, actor=actor, community=objection.proposal.round.community)
    notification_events.objection_answered(objection)


def post_progress(proposal: Proposal, *, actor: User, body: str, photos: list[bytes],
                  completed: bool = False) -> ProgressUpdate:
    """Post a progress update with photos; the last one may mark the project completed."""
    if proposal.status != ProposalStatus.in_progress:
        raise DomainError(_l("Progress can only be posted for a project being implemented."))
    if len(photos) > MAX_PHOTOS:
        raise DomainError(_l("At most %(n)d photos.", n=MAX_PHOTOS), field="photos", status_code=422)
    update_ = ProgressUpdate(proposal_id=proposal.id, author=actor,
                             body=_text(body, "body", _l("Describe the progress."), max_length=MAX_COMMENT))
    db.session.add(update_)
    db.session.flush()
    _add_photos(proposal, photos, update=update_)
    if completed:
        proposal.complete()
    db.session.flush()
    audit.record("proposal.progress", proposal, actor=actor, community=proposal.round.community,
                 summary="completed" if completed else "update")
    return update_


def rate_project(proposal: Proposal, user: User, *, stars: int) -> Rating:
    if proposal.status != ProposalStatus.completed:
        raise DomainError(_l("Only completed projects can be rated."))
    if stars not in range(1, 6):
        raise DomainError(_l("Choose from 1 to 5 stars."), field="stars", status_code=422)
    try:
        with db.session.begin_nested():
            rating = Rating(proposal_id=proposal.id, user_id=user.id, stars=stars)
            db.session.add(rating)
    except IntegrityError as error:
        raise DomainError(_l("You have already rated this project.")) from error
    audit.record("proposal.rated", proposal, actor=user, community=proposal.round.community, summary=f"{stars}")
    return rating


def rating_summary(proposal: Proposal) -> tuple[float | None, int]:
    average, count = db.session.execute(
        select(func.avg(Rating.stars), func.count(Rating.id)).where(Rating.proposal_id == proposal.id)
    ).one()
    return (round(float(average), 1) if average is not None else None), count
