"""Notification forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField
from wtforms.validators import NumberRange, Optional, Regexp

from deliberation.core.forms import max_length, required_input


class SettingsForm(FlaskForm):
    daily_digest = BooleanField(_l("Send my e-mails once a day, together (except emergencies)"))
    email = EmailField(_l("E-mail address for notifications"),
                       validators=[Optional(), max_length(200),
                                   Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter a valid e-mail address."))])
    quiet_from = IntegerField(_l("Quiet from (hour, Beijing time)"),
                              validators=[required_input(), NumberRange(0, 23, message=_l("An hour from 0 to 23."))])
    quiet_until = IntegerField(_l("Quiet until (hour, Beijing time)"),
                               validators=[required_input(), NumberRange(0, 23, message=_l("An hour from 0 to 23."))])
