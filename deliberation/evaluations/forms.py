"""Forms for organisations, rubrics, surveys, evaluations and replies."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import NumberRange, Optional

from deliberation.core.forms import BoundedIntegerField, max_length, optional_int, required
from deliberation.core.inputs import bounded_int
from deliberation.evaluations.models import ORGANISATION_KIND_LABELS, PART_LABELS, CriterionPart


class OrganisationForm(FlaskForm):
    kind = SelectField(_l("Kind"), validators=[required()],
                       choices=[SelectChoice(kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items()])
    name = StringField(_l("Organisation name"), validators=[required(), max_length(100)],
                       description=_l("For example 深圳市某某物业服务有限公司 or 桃源村一区业主委员会"))
    estates = SelectMultipleField(_l("Estates served"), coerce=bounded_int, validate_choice=False,
                                  widget=widgets.ListWidget(prefix_label=False),
                                  option_widget=widgets.CheckboxInput())
    term_start = DateField(_l("Contract or term starts"), validators=[Optional()])
    term_end = DateField(_l("Contract or term ends"), validators=[Optional()],
                         description=_l("Contract period for a property firm, term of office for a committee"))


class CriterionForm(Form):
    name = StringField(_l("Criterion"), validators=[max_length(60)])
    part = SelectField(_l("Part"), choices=[SelectChoice(p.value, PART_LABELS[p]) for p in CriterionPart])
    weight = BoundedIntegerField(_l("Weight"), validators=[Optional(), NumberRange(min=0, max=100)])
    resident_facing = BooleanField(_l("Asked to residents in the survey"))
    band_excellent = TextAreaField(_l("Excellent (90–100) means"), validators=[max_length(300)])
    band_good = TextAreaField(_l("Good (80–89) means"), validators=[max_length(300)])
    band_pass = TextAreaField(_l("Pass (60–79) means"), validators=[max_length(300)])
    band_fail = TextAreaField(_l("Fail (below 60) means"), validators=[max_length(300)])
    remove = BooleanField(_l("Remove this criterion"))


class RubricForm(FlaskForm):
    name = StringField(_l("Rubric name"), validators=[required(), max_length(100)])
    satisfaction_weight = BoundedIntegerField(_l("Weight of resident satisfaction (survey)"),
                                       validators=[Optional(), NumberRange(min=0, max=100)])
    criteria = FieldList(FormField(CriterionForm), min_entries=1)


class SurveyForm(FlaskForm):
    rubric = SelectField(_l("Rubric (its resident-facing criteria are asked)"), coerce=optional_int,
                         validate_choice=False, validators=[required()])
    closes_on = DateField(_l("Last day to answer"), validators=[required()])


RATING_CHOICES = [
    SelectChoice("5", _l("5 · Very satisfied")),
    SelectChoice("4", _l("4 · Satisfied")),
    SelectChoice("3", _l("3 · Neutral")),
    SelectChoice("2", _l("2 · Dissatisfied")),
    SelectChoice("1", _l("1 · Very dissatisfied")),
]


class SurveyAnswerFormBase(FlaskForm):
    comment = TextAreaField(_l("Comment (optional, shown to the Party branch without your name)"),
                            validators=[max_length(500)])


def survey_answer_form(criteria) -> FlaskForm:
    """A form with one 1–5 question per resident-facing criterion (fields item_<criterion id>)."""

    class SurveyAnswerForm(SurveyAnswerFormBase):
        pass

    for criterion in criteria:
        setattr(SurveyAnswerForm, f"item_{criterion.id}",
                RadioField(criterion.name, choices=RATING_CHOICES, validators=[required()], validate_choice=False))
    form = SurveyAnswerForm()
    form.item_fields = [form[f"item_{c.id}"] for c in criteria]
    return form


class EvaluationCreateForm(FlaskForm):
    period = StringField(_l("Period"), validators=[required(), max_length(10)],
                         description=_l("Year and quarter, for example 2026-Q3"))
    rubric = SelectField(_l("Rubric"), coerce=optional_int, validate_choice=False, validators=[required()])


class EvaluationFormBase(FlaskForm):
    survey = SelectField(_l("Satisfaction survey whose result counts"), coerce=optional_int, validate_choice=False)
    narrative = TextAreaField(_l("Findings"), validators=[max_length(5000)],
                              description=_l("What the branch found, with the evidence it relied on"))


def evaluation_form(criteria, **kwargs) -> FlaskForm:
    """One score field per criterion (fields score_<criterion id>), 0–100 with one decimal."""

    class EvaluationForm(EvaluationFormBase):
        pass

    for criterion in criteria:
        setattr(EvaluationForm, f"score_{criterion.id}",
                StringField(f"{criterion.name}（{criterion.weight}）", validators=[max_length(6)]))
    form = EvaluationForm(**kwargs)
    form.score_fields = [(c, form[f"score_{c.id}"]) for c in criteria]
    return form


class PhotoForm(FlaskForm):
    photo = FileField(_l("Evidence photo (JPEG, PNG or WebP, at most 5 MB)"),
                      validators=[FileRequired(message=_l("Choose a photo."))])
    caption = StringField(_l("Caption"), validators=[max_length(200)])


class PublishForm(FlaskForm):
    confirm_own = BooleanField(_l("I submitted this evaluation myself and have checked it again after the "
                                  "cooling-off period"))


class CorrectionForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the correction (published with it)"),
                           validators=[required(), max_length(500)])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Public reply of the organisation"), validators=[required(), max_length(3000)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change state."""
