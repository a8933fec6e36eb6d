"""What the paper-ballot page's irreversible buttons say before they act (deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.core.confirm import Confirmation, confirmation
from deliberation.votes.models import PaperEntry


@confirmation
def delete_paper_entry(entry: PaperEntry) -> Confirmation:
    """Deleting one keying of a paper sheet."""
    return Confirmation(_("Delete this keying of sheet %(sheet)s?", sheet=entry.sheet),
                        _("The keying is deleted for good; the sheet must be keyed again."),
                        _("Delete this keying"))
