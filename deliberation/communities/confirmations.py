"""What the office's irreversible buttons say before they act (deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.communities.models import Residency, RoleGrant
from deliberation.core.confirm import Confirmation, confirmation


@confirmation
def revoke_role(grant: RoleGrant) -> Confirmation:
    """Taking a role away."""
    return Confirmation(_("Take the role %(role)s away from %(name)s?", role=grant.role.label,
                          name=grant.user.display_name),
                        _("They lose what the role allows at once; only granting it again gives it back."),
                        _("Revoke the role"))


@confirmation
def mark_moved_out(residency: Residency) -> Confirmation:
    """Recording that a resident moved out."""
    return Confirmation(_("Mark %(name)s as moved out?", name=residency.user.display_name),
                        _("They lose their resident rights in this community at once."),
                        _("Mark as moved out"))
