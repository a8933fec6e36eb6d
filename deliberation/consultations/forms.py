"""Session, agenda, motion and minutes forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from deliberation.consultations.models import KIND_LABELS
from deliberation.core.forms import BoundedIntegerField, max_length, optional_int, required, required_input
from deliberation.core.inputs import bounded_int


class SessionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=[SelectChoice(k.value, label) for k, label in KIND_LABELS.items()],
                       default="council_meeting")
    title = StringField(_l("Title"), validators=[required(), max_length(200)],
                        description=_l("For example 第三届议事会第5次会议"))
    starts_at = DateTimeLocalField(_l("Starts at (Beijing time)"), format="%Y-%m-%dT%H:%M",
                                   validators=[required_input()])
    place = StringField(_l("Place"), validators=[required(), max_length(200)])


class ItemForm(FlaskForm):
    title = StringField(_l("Title"), validators=[required(), max_length(200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), max_length(5000)])
    minutes_allotted = BoundedIntegerField(_l("Minutes allotted"), default=15, validators=[
        required_input(), NumberRange(min=0, max=600, message=_l("Between 0 and 600 minutes."))])
    round_id = SelectField(_l("Linked round"), coerce=optional_int, validate_choice=False)
    proposal_id = SelectField(_l("Linked proposal"), coerce=optional_int, validate_choice=False)


class StartForm(FlaskForm):
    urgent_reason = TextAreaField(_l("Reason for an urgent meeting"), validators=[Optional(), max_length(1000)],
                                  description=_l("Needed only if the notice period has not passed; it is shown "
                                                 "in the minutes."))


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("Why the session is cancelled (public)"), validators=[required(), max_length(1000)])


class MotionForm(FlaskForm):
    text = TextAreaField(_l("Motion"), validators=[required(), max_length(5000)])
    method = SelectField(_l("How members vote"), choices=[
        SelectChoice("phones", _l("On their phones (the secretary enters votes only for members present "
                                  "without a phone)")),
        SelectChoice("roll_call", _l("Roll call (the secretary calls each member and enters the answer)")),
        SelectChoice("show_of_hands", _l("Show of hands (the secretary enters the counts)"))], default="phones")
    funded = SelectMultipleField(_l("Projects to fund"), coerce=bounded_int, validate_choice=False,
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class HandsForm(FlaskForm):
    yes = BoundedIntegerField(_l("Yes"), default=0, validators=[Optional(), NumberRange(min=0)])
    no = BoundedIntegerField(_l("No"), default=0, validators=[Optional(), NumberRange(min=0)])
    abstain = BoundedIntegerField(_l("Abstain"), default=0, validators=[Optional(), NumberRange(min=0)])


class MinutesForm(FlaskForm):
    # Named as the model's column, so MinutesForm(obj=session) shows the saved text again.
    minutes_summary = TextAreaField(_l("General remarks"), validators=[Optional(), max_length(5000)])


class CorrectionForm(FlaskForm):
    item = SelectField(_l("Part to correct"), validate_choice=False)
    text = TextAreaField(_l("Corrected text"), validators=[Optional(), max_length(5000)])
    reason = TextAreaField(_l("Reason for the correction"), validators=[required(), max_length(1000)])
