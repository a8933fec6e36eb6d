"""Every permission decision, one function per capability.

Views call these through `require(...)`; templates call the same functions (they are
registered as Jinja globals). Site administrators manage communities and appoint their first
administrators; they do not implicitly hold any role inside a community.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from deliberation.communities.models import Community, ResidencyStatus, Role
from deliberation.evaluations.models import Evaluation, EvaluationStatus, Organisation, SatisfactionSurvey


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def has_role(user, community: Community, role: Role) -> bool:
    """True if the user holds `role` in `community`."""
    if not _authenticated(user):
        return False
    return any(g.community_id == community.id and g.role == role for g in user.role_grants)


def is_verified_resident(user, community: Community) -> bool:
    """True if the user has a verified (not moved-out) residency in the community."""
    if not _authenticated(user):
        return False
    return any(r.community_id == community.id and r.status == ResidencyStatus.verified
               for r in user.residencies)


def is_pending_resident(user, community: Community) -> bool:
    """Registered in the community and waiting for the office to verify it (and not verified otherwise)."""
    if not _authenticated(user) or is_verified_resident(user, community):
        return False
    return any(r.community_id == community.id and r.status == ResidencyStatus.pending for r in user.residencies)


def is_site_admin(user) -> bool:
    return _authenticated(user) and bool(user.is_site_admin)


# --- site administration -------------------------------------------------------------

def can_create_community(user) -> bool:
    return is_site_admin(user)


def can_appoint_community_admin(user, community: Community) -> bool:
    return is_site_admin(user)


# --- community administration --------------------------------------------------------

def can_administer_community(user, community: Community) -> bool:
    """Open the community's administration pages."""
    return has_role(user, community, Role.community_admin)


def can_see_failed_deliveries(user, community: Community) -> bool:
    """See and retry the community's notifications that could not be delivered (the office)."""
    return has_role(user, community, Role.community_admin)


def can_manage_places(user, community: Community) -> bool:
    """Add estates and buildings."""
    return has_role(user, community, Role.community_admin)


def can_import_roll(user, community: Community) -> bool:
    return has_role(user, community, Role.community_admin)


def can_verify_residents(user, community: Community) -> bool:
    return has_role(user, community, Role.community_admin)


def can_manage_roles(user, community: Community) -> bool:
    return has_role(user, community, Role.community_admin)


# --- residents ------------------------------------------------------------------------

def can_register_residency(user, community: Community) -> bool:
    """Anyone may register; a logged-in user may not hold two open claims in one community."""
    if not _authenticated(user):
        return True
    return not any(
        r.community_id == community.id and r.status in (ResidencyStatus.pending, ResidencyStatus.verified)
        for r in user.residencies
    )


# --- rounds and proposals -------------------------------------------------------------
# Imported lazily: the proposals package imports this module's siblings.

def _phase(round_) -> str:
    return round_.phase.value


def can_run_rounds(user, community: Community) -> bool:
    """Create rounds, screen proposals, advance phases, moderate, answer objections, post progress."""
    return has_role(user, community, Role.council_secretary) or has_role(user, community, Role.community_admin)


def can_advance_round(user, round_) -> bool:
    """Move the round to its next phase with the phase button (a resolution has its own form)."""
    phase = _phase(round_)
    if phase == "branch_review":
        return has_role(user, round_.community, Role.party_branch)
    if phase in ("council_resolution", "closed"):
        return False
    return can_run_rounds(user, round_.community)


def can_record_resolution(user, round_) -> bool:
    """Enter the council's resolution on which projects are funded."""
    return _phase(round_) == "council_resolution" and can_run_rounds(user, round_.community)


def can_submit_proposal(user, round_) -> bool:
    return _phase(round_) == "collecting" and is_verified_resident(user, round_.community)


def can_edit_proposal(user, proposal) -> bool:
    """The proposer edits until screening starts."""
    return (_authenticated(user) and proposal.proposer_id == user.id and _phase(proposal.round) == "collecting"
            and proposal.status.value == "submitted" and is_verified_resident(user, proposal.round.community))


def can_support(user, proposal) -> bool:
    """Co-sign (附议) or withdraw a co-signature: other verified residents, while collecting."""
    return (_authenticated(user) and proposal.proposer_id != user.id and _phase(proposal.round) == "collecting"
            and proposal.status.value == "submitted" and is_verified_resident(user, proposal.round.community))


def can_comment(user, proposal) -> bool:
    return is_verified_resident(user, proposal.round.community)


def is_community_staff(user, community: Community) -> bool:
    """Holds a role of the community's own work: office, council, secretary or Party branch
    (an organisation's representative speaks for a firm or committee, not for the community)."""
    return any(has_role(user, community, role) for role in (
        Role.community_admin, Role.council_secretary, Role.council_member, Role.party_branch))


def can_report_comment(user, comment) -> bool:
    """Verified residents of the comment's community and its staff report others' comments."""
    if not _authenticated(user) or comment.author_id == user.id:
        return False
    community = comment.proposal.round.community
    return is_verified_resident(user, community) or is_community_staff(user, community)


def can_moderate(user, community: Community) -> bool:
    return can_run_rounds(user, community)


def can_screen(user, proposal) -> bool:
    """Accept, reject or merge during screening."""
    return _phase(proposal.round) == "screening" and can_run_rounds(user, proposal.round.community)


def can_strike(user, proposal) -> bool:
    """The Party branch strikes an accepted item during its review."""
    return (_phase(proposal.round) == "branch_review" and proposal.status.value == "accepted"
            and has_role(user, proposal.round.community, Role.party_branch))


def can_object(user, proposal) -> bool:
    return (_phase(proposal.round) == "publicity" and proposal.status.value == "funded"
            and is_verified_resident(user, proposal.round.community))


def can_answer_objection(user, proposal) -> bool:
    return can_run_rounds(user, proposal.round.community)


def can_post_progress(user, proposal) -> bool:
    return (_phase(proposal.round) in ("implementing", "closed") and proposal.status.value == "in_progress"
            and can_run_rounds(user, proposal.round.community))


def can_rate(user, proposal) -> bool:
    return proposal.status.value == "completed" and is_verified_resident(user, proposal.round.community)


# --- ballots --------------------------------------------------------------------------

def is_voting_open(round_) -> bool:
    return _phase(round_) == "voting" and round_.voting_closed_at is None


def can_vote(user, round_) -> bool:
    """Open the ballot (whether this resident has voted already is checked by the service)."""
    return is_voting_open(round_) and is_verified_resident(user, round_.community)


def can_manage_ballots(user, round_) -> bool:
    """Set ballot rules, record paper voters, key paper sheets, override a result with a reason."""
    return can_run_rounds(user, round_.community)


def can_plan_voting_close(user, round_) -> bool:
    """Announce when voting is planned to close: before voting opens or while it is open."""
    return (round_.phase.value in ("collecting", "screening", "branch_review", "voting")
            and round_.voting_closed_at is None and can_manage_ballots(user, round_))


def can_see_results(round_) -> bool:
    """Results and the ballot list are public once voting has closed, and not before."""
    return round_.voting_closed_at is not None


# --- evaluations of property firms and owner committees ---------------------------------

def can_manage_organisations(user, community: Community) -> bool:
    """Register organisations (the community office)."""
    return has_role(user, community, Role.community_admin)


def is_party_branch(user, community: Community) -> bool:
    """Holds the Party branch role in this community (the only evaluators)."""
    return has_role(user, community, Role.party_branch)


def can_manage_rubrics(user, community: Community) -> bool:
    """Copy rubrics and adjust criteria and weights."""
    return is_party_branch(user, community)


def can_evaluate(user, organisation: Organisation) -> bool:
    """Create, edit, submit, publish and correct evaluations, open and close surveys."""
    return is_party_branch(user, organisation.community)


def can_view_evaluation(user, evaluation: Evaluation) -> bool:
    """Published evaluations (and the versions they replaced) are public; drafts are the branch's."""
    return evaluation.is_public or can_evaluate(user, evaluation.organisation)


def can_change_evaluation(user, evaluation: Evaluation) -> bool:
    return evaluation.status == EvaluationStatus.draft and can_evaluate(user, evaluation.organisation)


def represents(user, organisation: Organisation) -> bool:
    """The user holds `org_rep` for exactly this organisation."""
    if not _authenticated(user):
        return False
    return any(g.role == Role.org_rep and g.organisation_id == organisation.id
               and g.community_id == organisation.community_id for g in user.role_grants)


def can_reply(user, evaluation: Evaluation, *, has_reply: bool = False) -> bool:
    """The organisation's representative answers its current published evaluation, once."""
    return (evaluation.status == EvaluationStatus.published and not has_reply
            and represents(user, evaluation.organisation))


def can_answer_survey(user, survey: SatisfactionSurvey) -> bool:
    """A verified resident of an estate the organisation serves, while the survey is open."""
    return survey.open_now and is_served_resident(user, survey.organisation)


def is_served_resident(user, organisation: Organisation) -> bool:
    if not _authenticated(user):
        return False
    estate_ids = organisation.estate_ids
    return any(r.community_id == organisation.community_id and r.status == ResidencyStatus.verified
               and r.building.estate_id in estate_ids for r in user.residencies)


def can_view_survey_results(user, survey: SatisfactionSurvey) -> bool:
    """Turnout by building and the anonymous comments are for the branch."""
    return can_evaluate(user, survey.organisation)


def can_export_evaluations(user, community: Community) -> bool:
    """Reports for the street office: the branch and the community office."""
    return is_party_branch(user, community) or has_role(user, community, Role.community_admin)


# --- councils and sessions ---------------------------------------------------------------

def can_manage_council(user, community: Community) -> bool:
    """Set up a council term, its rules and members (the community office)."""
    return has_role(user, community, Role.community_admin)


def can_run_sessions(user, community: Community) -> bool:
    """Create sessions and see drafts (the council secretary)."""
    return has_role(user, community, Role.council_secretary)


def can_run_session(user, session) -> bool:
    """Edit the agenda, notice, run the live console, motions and minutes of this session."""
    return can_run_sessions(user, session.community)


def can_cancel_session(user, session) -> bool:
    """Call the session off, before it starts (the secretary)."""
    return session.status.value in ("draft", "noticed") and can_run_session(user, session)


def can_view_session(user, session) -> bool:
    """Noticed sessions are public (cancelled ones too); drafts are the secretary's."""
    return session.is_public or can_run_session(user, session)


def is_session_attendee_type(user, session) -> bool:
    """May take part: members at a council meeting, verified residents at a consultation or hearing."""
    if not _authenticated(user):
        return False
    if session.kind.value == "council_meeting":
        return session.council is not None and session.council.is_member(user)
    return is_verified_resident(user, session.community)


def can_sign_in(user, session) -> bool:
    """Sign oneself in while the session runs."""
    return session.status.value == "in_session" and is_session_attendee_type(user, session)


def can_request_to_speak(user, session) -> bool:
    """Join the speaker queue (being signed in is checked by the service)."""
    return can_sign_in(user, session)


def can_vote_on_motion(user, motion) -> bool:
    """Vote on one's own phone while the motion is open (being present is checked by the service)."""
    return (motion.status.value == "open" and motion.method.value == "phones"
            and is_session_attendee_type(user, motion.session))


def can_enter_vote_for(user, motion, attendance) -> bool:
    """The secretary enters a present member's vote: in a roll-call motion, or for a member ticked present
    without a phone (whether the member has voted already is checked by the service)."""
    return (motion.status.value == "open" and attendance is not None and can_run_session(user, motion.session)
            and (motion.method.value == "roll_call" or (motion.method.value == "phones" and attendance.without_phone)))


def can_read_minutes(user, session) -> bool:
    """Published minutes are public; the secretary previews them once the session has adjourned."""
    return session.status.value == "minutes_published" or (
        session.status.value == "adjourned" and can_run_session(user, session))


# --- grids and resident requests ----------------------------------------------------------
# Imported lazily: the grids package imports core modules.

def can_manage_grids(user, community: Community) -> bool:
    """Draw the grid tree, assign grid workers and Party groups, list units, set deadlines (the office)."""
    return has_role(user, community, Role.community_admin)


def can_export_requests(user, community: Community) -> bool:
    """Export the requests (never the requester's identity) for the street office: the office."""
    return has_role(user, community, Role.community_admin)


def can_choose_monthly_topic(user, community: Community) -> bool:
    """See the month's most frequent categories by grid and make one the month's topic (每月一题)."""
    return has_role(user, community, Role.community_admin)


def is_worker_of(user, grid) -> bool:
    """The user is a grid worker assigned to this grid."""
    if not _authenticated(user) or not has_role(user, grid.community, Role.grid_worker):
        return False
    from deliberation.extensions import db
    from deliberation.grids.models import GridWorker

    return bool(db.session.scalar(
        select(GridWorker.id).where(GridWorker.grid_id == grid.id, GridWorker.user_id == user.id)))


def represents_unit(user, unit) -> bool:
    """The user reports for the unit: a listed representative, or the organisation's `org_rep`."""
    if not _authenticated(user) or unit is None:
        return False
    if unit.organisation is not None and represents(user, unit.organisation):
        return True
    return any(rep.user_id == user.id for rep in unit.representatives)


def can_file_request(user, community: Community) -> bool:
    """A verified resident files a request online."""
    return is_verified_resident(user, community)


def can_enter_request(user, community: Community) -> bool:
    """A grid worker or the office enters a request for a resident who phoned or walked in."""
    return has_role(user, community, Role.grid_worker) or has_role(user, community, Role.community_admin)


def can_see_request_queue(user, community: Community) -> bool:
    """The handlers' list: the office, grid workers and the units' representatives."""
    if can_enter_request(user, community):
        return True
    if not _authenticated(user):
        return False
    from deliberation.extensions import db
    from deliberation.grids.models import HandlingUnit, UnitRepresentative

    if any(g.role == Role.org_rep and g.community_id == community.id for g in user.role_grants):
        return True
    return bool(db.session.scalar(select(UnitRepresentative.user_id).join(HandlingUnit).where(
        UnitRepresentative.user_id == user.id, HandlingUnit.community_id == community.id).limit(1)))


def handles_request(user, req) -> bool:
    """The office, the first-responsible grid's worker, or the unit it was whistled to."""
    return (has_role(user, req.community, Role.community_admin) or is_worker_of(user, req.grid)
            or represents_unit(user, req.handling_unit))


def can_see_requester(user, req) -> bool:
    """The requester's identity and the request's own words: those handling it, and the requester."""
    return (_authenticated(user) and req.requester_id == user.id) or handles_request(user, req)


def _first_responsible(user, req) -> bool:
    return is_worker_of(user, req.grid) or has_role(user, req.community, Role.community_admin)


def can_sign_request(user, req) -> bool:
    return req.status.value == "new" and _first_responsible(user, req)


def can_contact_requester(user, req) -> bool:
    status = req.status.value
    return ((status in ("signed", "whistled", "unit_signed") and _first_responsible(user, req))
            or (status == "unit_signed" and represents_unit(user, req.handling_unit)))


def can_whistle(user, req) -> bool:
    return req.status.value in ("signed", "whistled", "unit_signed") and _first_responsible(user, req)


def can_unit_sign(user, req) -> bool:
    return req.status.value == "whistled" and represents_unit(user, req.handling_unit)


def can_answer_request(user, req) -> bool:
    """The first-responsible worker answers what they handle alone; a unit what it signed for."""
    status = req.status.value
    return ((status == "signed" and _first_responsible(user, req))
            or (status == "unit_signed" and represents_unit(user, req.handling_unit)))


def can_reclassify_request(user, req) -> bool:
    return req.status.is_open and _first_responsible(user, req)


def can_rate_request(user, req) -> bool:
    return req.status.value == "answered" and _authenticated(user) and req.requester_id == user.id


def can_record_callback(user, req) -> bool:
    return req.status.value == "answered" and has_role(user, req.community, Role.community_admin)


def is_told_who_was_first(user, req, step: str) -> bool:
    """A handling step the request no longer allows is explained (who took it first) rather than refused,
    to those who take that step on this request."""
    if step in ("signed", "whistled", "reclassified"):
        return _first_responsible(user, req)
    if step in ("contacted", "answered"):
        return _first_responsible(user, req) or represents_unit(user, req.handling_unit)
    if step == "unit_signed":
        return represents_unit(user, req.handling_unit)
    if step == "rated":
        return _authenticated(user) and req.requester_id == user.id
    if step == "callback":
        return has_role(user, req.community, Role.community_admin)
    return False



def require(allowed: bool) -> None:
    """Stop the request unless allowed: anonymous users are sent to log in, others get 403."""
    if allowed:
        return
    if not _authenticated(current_user):
        from deliberation.extensions import login_manager

        abort(login_manager.unauthorized())
    abort(403)


TEMPLATE_FUNCTIONS = {  # every can_*/is_* predicate, for templates
    name: obj
    for name, obj in dict(globals()).items()
    if callable(obj) and (name.startswith("can_") or name.startswith("is_") or name == "has_role")
}
