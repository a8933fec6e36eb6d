"""Every permission decision, one function per capability.

Views call these through `require(...)`; templates call the same functions (they are
registered as Jinja globals). Site administrators manage communities and appoint their first
administrators; they do not implicitly hold any role inside a community.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

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


def require(allowed: bool) -> None:
    """Stop the request unless allowed: anonymous users are sent to log in, others get 403."""
    if allowed:
        return
    if not _authenticated(current_user):
        from deliberation.extensions import login_manager

        abort(login_manager.unauthorized())
    abort(403)


TEMPLATE_FUNCTIONS = {
    name: obj
    for name, obj in dict(globals()).items()
    if callable(obj) and (name.startswith("can_") or name.startswith("is_") or name == "has_role")
}
