"""Council set-up forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectChoice, SelectField, StringField
from wtforms.validators import NumberRange

from deliberation.core.forms import BoundedIntegerField, max_length, required, required_input


class CouncilForm(FlaskForm):
    name = StringField(_l("Name"), validators=[required(), max_length(120)], default="居民议事会")
    term_label = StringField(_l("Term"), validators=[required(), max_length(40)],
                             description=_l("For example 第三届"))
    term_start = DateField(_l("Term starts"), validators=[required_input()])
    term_end = DateField(_l("Term ends"), validators=[required_input()])
    quorum_num = BoundedIntegerField(_l("Quorum: numerator"), default=2, validators=[required_input()])
    quorum_den = BoundedIntegerField(_l("Quorum: denominator"), default=3, validators=[required_input()])
    quorum_strict = BooleanField(_l("Quorum needs more than this share (not just equal to it)"), default=True)
    pass_basis = SelectField(_l("A motion passes by counting yes votes against"),
                             choices=[SelectChoice("all_members", _l("all members")),
                                      SelectChoice("present", _l("members present"))],
                             default="all_members")
    pass_num = BoundedIntegerField(_l("Pass share: numerator"), default=1, validators=[required_input()])
    pass_den = BoundedIntegerField(_l("Pass share: denominator"), default=2, validators=[required_input()])
    pass_strict = BooleanField(_l("Passing needs more than this share (not just equal to it)"), default=True)
    notice_days = BoundedIntegerField(_l("Days of notice before a meeting"), default=3, validators=[
        required_input(), NumberRange(min=0, max=60, message=_l("Between 0 and 60 days."))])


class MemberForm(FlaskForm):
    user = SelectField(_l("Resident"), validators=[required()])
    seat = SelectField(_l("Seat"), validators=[required()])
