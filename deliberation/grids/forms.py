"""Forms of the grids and requests area."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from deliberation.core.forms import max_length, optional_int, required, required_input
from deliberation.core.inputs import bounded_int
from deliberation.grids.models import (
    CHANNEL_LABELS,
    DEADLINE_CLASS_LABELS,
    GRID_LEVEL_LABELS,
    REQUEST_CATEGORY_LABELS,
    REQUEST_TYPE_LABELS,
    UNIT_KIND_LABELS,
    Channel,
)


def _choices(labels: dict) -> list[SelectChoice]:
    return [SelectChoice(key.value, label) for key, label in labels.items()]


class GridForm(FlaskForm):
    level = SelectField(_l("Level"), choices=_choices(GRID_LEVEL_LABELS), validators=[required()])
    name = StringField(_l("Name"), validators=[required(), max_length(100)])
    parent = SelectField(_l("Under"), coerce=optional_int, validate_choice=False)
    estate = SelectField(_l("Estate covered (area grids)"), coerce=optional_int, validate_choice=False)
    description = StringField(_l("What it is (special grids: a market, a school, a site)"),
                              validators=[Optional(), max_length(300)])


class BuildingsForm(FlaskForm):
    buildings = SelectMultipleField(_l("Buildings of this micro-grid"), coerce=bounded_int, validate_choice=False,
                                    option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


class PersonForm(FlaskForm):
    """A person named by login or phone: a grid worker, a Party group member, a unit's representative."""

    user = StringField(_l("Login name or phone number"), validators=[required(), max_length(100)])
    contact_phone = StringField(_l("Phone residents call (empty: the account's phone)"),
                                validators=[Optional(), max_length(20)])
    leader = BooleanField(_l("Leader of the grid's Party group"))


class UnitForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=_choices(UNIT_KIND_LABELS), validators=[required()])
    organisation = SelectField(_l("Registered organisation (firms and committees)"), coerce=optional_int,
                               validate_choice=False)
    name = StringField(_l("Name (other units)"), validators=[Optional(), max_length(100)])
    contact_phone = StringField(_l("Phone"), validators=[Optional(), max_length(20)])


def _hours(label):
    return IntegerField(label, validators=[required_input(), NumberRange(min=1, max=24 * 90,
                                                                         message=_l("Between 1 and 2160 hours."))])


class DeadlinesForm(FlaskForm):
    emergency_hours = _hours(_l("Danger or emergency (hours)"))
    utilities_hours = _hours(_l("Water, power, gas or heating (hours)"))
    general_hours = _hours(_l("General (hours)"))
    complex_hours = _hours(_l("Complex (hours)"))


class RequestForm(FlaskForm):
    # No kind or category chosen in advance: a resident who leaves the first one filed a danger (2 hours).
    type = SelectField(_l("Kind of request"), choices=[SelectChoice("", _l("Choose…")), *_choices(REQUEST_TYPE_LABELS)],
                       validators=[required()])
    category = SelectField(_l("What it is about"),
                           choices=[SelectChoice("", _l("Choose…")), *_choices(REQUEST_CATEGORY_LABELS)],
                           validators=[required()])
    place = SelectField(_l("Where"), validate_choice=False, validators=[required()],
                        description=_l("The building, or a special grid such as a market or a school"))
    place_text = StringField(_l("More precisely (optional)"), validators=[Optional(), max_length(200)])
    text = TextAreaField(_l("What happened, or your question"), validators=[required(), max_length(2000)])
    photos = MultipleFileField(_l("Photos (up to 3, JPEG/PNG/WebP, 5 MB each)"))


class EnteredRequestForm(RequestForm):
    """The office or a grid worker enters a request for a resident who phoned or walked in."""

    channel = SelectField(_l("How the resident reached us"),
                          choices=[SelectChoice(c.value, label) for c, label in CHANNEL_LABELS.items()
                                   if c != Channel.app],
                          validators=[required()])
    requester_name = StringField(_l("Resident's name"), validators=[required(), max_length(50)])
    requester_phone = StringField(_l("Resident's phone (for the call-back)"), validators=[required(), max_length(20)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[Optional(), max_length(1000)])


class WhistleForm(FlaskForm):
    unit = SelectField(_l("Handling unit"), coerce=optional_int, validate_choice=False, validators=[required()])
    note = TextAreaField(_l("What the unit has to do"), validators=[Optional(), max_length(1000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Answer to the resident"), validators=[required(), max_length(1000)])


class ReclassifyForm(FlaskForm):
    deadline_class = SelectField(_l("Deadline class"), choices=_choices(DEADLINE_CLASS_LABELS),
                                 validators=[required()])


class OutcomeForm(FlaskForm):
    resolved = RadioField(_l("Was the problem resolved?"),
                          choices=[SelectChoice("yes", _l("Yes, it is resolved")),
                                   SelectChoice("no", _l("No, it is not resolved"))],
                          validators=[required()])
    satisfaction = RadioField(_l("How satisfied are you with the handling?"), coerce=bounded_int,
                              validators=[required()],
                              choices=[SelectChoice(1, _l("1 – very poor")), SelectChoice(2, _l("2 – poor")),
                                       SelectChoice(3, _l("3 – fair")), SelectChoice(4, _l("4 – good")),
                                       SelectChoice(5, _l("5 – very good"))])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Optional(), max_length(500)])


class TopicForm(FlaskForm):
    """每月一题: the office makes a category the month's topic (`grid` blank: the whole community)."""
    month = StringField(_l("Month"), validators=[required(), max_length(7)])
    category = SelectField(_l("Category"), choices=_choices(REQUEST_CATEGORY_LABELS), validators=[required()])
    grid = SelectField(_l("Grid"), coerce=optional_int, validate_choice=False, validators=[Optional()])
    note = TextAreaField(_l("Why this topic"), validators=[Optional(), max_length(500)])
