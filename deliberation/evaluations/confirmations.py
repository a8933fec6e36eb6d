"""What the evaluation pages' irreversible buttons say before they act (deliberation/core/confirm.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from deliberation.core.confirm import Confirmation, confirmation
from deliberation.evaluations.models import Evaluation, SatisfactionSurvey


@confirmation
def publish_evaluation(evaluation: Evaluation) -> Confirmation:
    """Publishing an evaluation: it never changes afterwards."""
    return Confirmation(_("Publish this evaluation of %(name)s?", name=evaluation.organisation.name),
                        _("Residents see it at once. A published evaluation never changes: a correction is a "
                          "new version with a public reason."),
                        _("Confirm and publish"))


@confirmation
def close_survey(survey: SatisfactionSurvey) -> Confirmation:
    """Closing a survey before its last day."""
    return Confirmation(_("Close the survey now?"),
                        _("Residents can no longer answer; a closed survey cannot be reopened."),
                        _("Close the survey now"))
