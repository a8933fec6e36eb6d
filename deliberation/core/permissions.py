"""Every permission decision, one function per capability.

Views call these through `require(...)`; templates call the same functions (they are
registered as Jinja globals). Site administrators manage communities and appoint their first
administrators; they do not implicitly hold any role inside a community.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from deliberation.communities.models import Community, ResidencyStatus, Role


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
