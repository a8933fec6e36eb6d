"""Round and proposal forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from deliberation.core.forms import BoundedIntegerField, YuanField, max_length, required, required_input
from deliberation.core.inputs import bounded_int
from deliberation.proposals.models import CATEGORY_LABELS, DEFAULT_CATEGORY_CAPS, PHASE_LABELS, Category, RoundPhase


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[required(), max_length(120)],
                        description=_l("For example 2027年度民生微实事"))
    description = TextAreaField(_l("Description"), validators=[Optional(), max_length(5000)])
    budget = YuanField(_l("Total budget (yuan)"), validators=[required_input()], default=2_000_000)
    project_cap = YuanField(_l("Most one project may cost (yuan)"), validators=[required_input()], default=500_000)
    cap_services = YuanField(_l("Cap for services (服务类)"), validators=[required_input()],
                             default=DEFAULT_CATEGORY_CAPS[Category.services])
    cap_goods = YuanField(_l("Cap for goods (货物类)"), validators=[required_input()],
                          default=DEFAULT_CATEGORY_CAPS[Category.goods])
    cap_works = YuanField(_l("Cap for works (工程类)"), validators=[required_input()],
                          default=DEFAULT_CATEGORY_CAPS[Category.works])
    support_threshold = BoundedIntegerField(_l("Co-signatures needed to reach screening"), default=0,
                                     validators=[Optional(), NumberRange(min=0, message=_l("Cannot be negative."))])
    branch_review_enabled = BooleanField(_l("The Party branch reviews the list before the vote"), default=True)
    publicity_days = BoundedIntegerField(_l("Days of publicity (公示)"), default=5, validators=[
        required_input(), NumberRange(min=1, max=60, message=_l("Between 1 and 60 days."))])

    def planned(self) -> dict[RoundPhase, object]:
        return {phase: getattr(self, f"start_{phase.value}").data for phase in RoundPhase}

    def phase_fields(self):
        return [getattr(self, f"start_{phase.value}") for phase in RoundPhase]


for _phase in RoundPhase:
    setattr(RoundForm, f"start_{_phase.value}", DateField(PHASE_LABELS[_phase], validators=[Optional()]))


def category_choices() -> list[SelectChoice]:
    return [SelectChoice(c.value, label) for c, label in CATEGORY_LABELS.items()]


class ProposalForm(FlaskForm):
    title = StringField(_l("Title"), validators=[required(), max_length(100)],
                        description=_l("Short and concrete, for example 3栋门前加装无障碍坡道"))
    description = TextAreaField(_l("What should be done, and why?"), validators=[required(), max_length(5000)])
    category = SelectField(_l("Category"), choices=category_choices(), validators=[required()])
    cost = YuanField(_l("Estimated cost (yuan)"), validators=[required_input()])
    place = SelectField(_l("Where"), validators=[Optional()], validate_choice=False,
                        description=_l("An estate or a building, or leave empty and describe the place below"))
    location_text = StringField(_l("Place (free text)"), validators=[Optional(), max_length(200)])
    photos = MultipleFileField(_l("Photos (up to 6, JPEG/PNG/WebP, 5 MB each)"))
    remove_photos = SelectMultipleField(_l("Remove photos"), coerce=bounded_int, validate_choice=False,
                                        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))

    def place_ids(self) -> tuple[int | None, int | None]:
        """(estate_id, building_id) from the 'e12' / 'b34' place value."""
        value = self.place.data or ""
        if value[:1] in ("e", "b") and value[1:].isdigit():
            return (int(value[1:]), None) if value[0] == "e" else (None, int(value[1:]))
        return None, None


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Public reason"), validators=[required(), max_length(1000)])


class AcceptForm(FlaskForm):
    """Accepting asks for a reason only below the co-signature threshold (the service decides)."""

    reason = TextAreaField(_l("Public reason for accepting below the threshold"),
                           validators=[Optional(), max_length(1000)])
    next = HiddenField()


class MergeForm(FlaskForm):
    target = SelectField(_l("Merge into"), coerce=bounded_int, validators=[required()], validate_choice=False)


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Your comment"), validators=[required(), max_length(2000)])
    parent_id = HiddenField()


class ObjectionForm(FlaskForm):
    body = TextAreaField(_l("Your objection"), validators=[required(), max_length(2000)])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Public answer"), validators=[required(), max_length(2000)])


class ProgressForm(FlaskForm):
    body = TextAreaField(_l("What has been done"), validators=[required(), max_length(2000)])
    photos = MultipleFileField(_l("Photos (up to 6)"))
    completed = BooleanField(_l("The project is completed"))


class RatingForm(FlaskForm):
    stars = RadioField(_l("Your rating"), coerce=bounded_int, validators=[required()],
                       choices=[SelectChoice(1, _l("1 – very poor")), SelectChoice(2, _l("2 – poor")),
                                SelectChoice(3, _l("3 – fair")), SelectChoice(4, _l("4 – good")),
                                SelectChoice(5, _l("5 – very good"))])


class ResolutionForm(FlaskForm):
    funded = SelectMultipleField(_l("Projects the council funds"), coerce=bounded_int, validate_choice=False,
                                 option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))
    note = TextAreaField(_l("Resolution (meeting, date, vote)"), validators=[required(), max_length(1000)],
                         description=_l("For example 2027年3月5日议事会第3次会议，15人中11人赞成"))


SORTS = {
    "newest": _l("Newest"),
    "supported": _l("Most co-signed"),
    "cost_low": _l("Lowest cost"),
    "cost_high": _l("Highest cost"),
}


class ProposalFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    q = StringField(_l("Search"), validators=[Optional(), max_length(100)])
    category = SelectField(_l("Category"), validators=[Optional()],
                           choices=[SelectChoice("", _l("All categories")), *category_choices()])
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    estate = SelectField(_l("Estate"), validators=[Optional()], validate_choice=False)
    sort = SelectField(_l("Sort"), validators=[Optional()],
                       choices=[SelectChoice(k, v) for k, v in SORTS.items()], default="newest")
