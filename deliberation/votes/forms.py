"""Ballot forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from deliberation.core.forms import BoundedIntegerField, max_length, required
from deliberation.core.inputs import bounded_int
from deliberation.proposals.models import BALLOT_TYPE_LABELS, RULE_LABELS


def _checkboxes(label):
    return SelectMultipleField(label, coerce=bounded_int, validate_choice=False, option_widget=CheckboxInput(),
                               widget=ListWidget(prefix_label=False))


class BallotForm(FlaskForm):
    choices = _checkboxes(_l("Projects you approve"))


class BallotRulesForm(FlaskForm):
    per_household = BooleanField(_l("One ballot per household (otherwise one per verified resident)"))
    ballot_type = SelectField(_l("Ballot type"), choices=[SelectChoice(t.value, label) for t, label in
                                                         BALLOT_TYPE_LABELS.items()])
    max_approvals = BoundedIntegerField(_l("k: most projects one ballot may tick or rank"), validators=[
        Optional(), NumberRange(min=1, message=_l("At least 1, or leave empty for no limit."))],
        description=_l("For k-approval and ranked ballots; an approval ballot with a limit is a k-approval "
                       "ballot"))
    points_total = BoundedIntegerField(_l("Points each voter spreads"), validators=[
        Optional(), NumberRange(min=1, max=1000, message=_l("Between 1 and 1,000."))],
        description=_l("For cumulative ballots, for example 10"))
    points_per_project = BoundedIntegerField(_l("Most points on one project"), validators=[
        Optional(), NumberRange(min=1, max=1000, message=_l("Between 1 and 1,000."))],
        description=_l("For cumulative ballots, for example 5"))
    must_fit_budget = BooleanField(_l("The chosen projects must fit the budget together"))
    counting_rule = SelectField(_l("Counting rule"), choices=[SelectChoice(r.value, label) for r, label in
                                                             RULE_LABELS.items()])


class VotingCloseForm(FlaskForm):
    closes_at = DateTimeLocalField(_l("Voting is planned to close at (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[Optional()],
                                   description=_l("Leave empty for no announced time. Residents who have not "
                                                  "voted are reminded within 24 hours of it; the secretary "
                                                  "still closes the vote."))


class PaperVoterForm(FlaskForm):
    voter = StringField(_l("Resident (login name or phone)"), validators=[required(), max_length(64)])


class PaperSheetForm(FlaskForm):
    sheet = StringField(_l("Sheet number"), validators=[required(), max_length(30)])
    choices = _checkboxes(_l("Projects ticked on the sheet"))


class WithdrawPaperVoterForm(FlaskForm):
    reason = TextAreaField(_l("Why the record is withdrawn"), validators=[required(), max_length(500)])


class ReceiptForm(FlaskForm):
    code = StringField(_l("Your receipt code"), validators=[required(), max_length(40)])


class OverrideForm(FlaskForm):
    winners = _checkboxes(_l("Projects to fund instead"))
    reason = TextAreaField(_l("Public reason"), validators=[required(), max_length(2000)])
