"""Account forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import EqualTo, ValidationError

from deliberation.auth import services as auth_services
from deliberation.core.errors import DomainError
from deliberation.core.forms import max_length, required
from deliberation.core.inputs import bounded_int


class LoginForm(FlaskForm):
    login = StringField(_l("Phone number or login name"), validators=[required(), max_length(64)])
    password = PasswordField(_l("Password"), validators=[required(), max_length(200)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ResidencyForm(FlaskForm):
    building = SelectField(_l("Estate and building"), coerce=bounded_int, validators=[required()],
                           validate_choice=False)
    unit = StringField(_l("Unit"), validators=[required(), max_length(20)],
                       description=_l("For example 1 or 1单元"))
    room = StringField(_l("Room"), validators=[required(), max_length(20)],
                       description=_l("For example 301"))


class RegistrationForm(ResidencyForm):
    display_name = StringField(_l("Display name"), validators=[required(), max_length(50)],
                               description=_l("How other residents see you, for example 王阿姨 or 李明"))
    phone = StringField(_l("Mobile phone"), validators=[required(), max_length(20)],
                        description=_l("You log in with this number"))
    password = PasswordField(_l("Password"), validators=[required(), max_length(200)],
                             description=_l("At least 8 characters"))
    confirm = PasswordField(_l("Password again"), validators=[
        required(), EqualTo("password", message=_l("The two passwords are not the same."))])

    # The service checks these again; checked here too, every mistake is named at once (a phone missing
    # digits and a short password came one retry at a time, each retry retyping both passwords).
    def validate_phone(self, field):
        _domain_check(auth_services.validate_phone, field.data or "")

    def validate_password(self, field):
        _domain_check(auth_services.validate_password, field.data or "")


def _domain_check(check, value: str) -> None:
    try:
        check(value)
    except DomainError as error:
        raise ValidationError(str(error.message)) from None


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[required(), max_length(200)])
    new_password = PasswordField(_l("New password"), validators=[required(), max_length(200)],
                                 description=_l("At least 8 characters"))
    confirm = PasswordField(_l("New password again"), validators=[
        required(), EqualTo("new_password", message=_l("The two passwords are not the same."))])


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), validators=[required()], validate_choice=True,
                         choices=[SelectChoice("zh_Hans", "简体中文"), SelectChoice("en", "English")])


class PhoneCodeForm(FlaskForm):
    code = StringField(_l("Code from the SMS"), validators=[required(), max_length(20)],
                       description=_l("6 digits"))


class PhoneForm(FlaskForm):
    phone = StringField(_l("New mobile phone number"), validators=[required(), max_length(20)],
                        description=_l("We send a code by SMS to this number; you log in with it afterwards."))
    # The number is the login name and receives every SMS: not changed by whoever finds the browser logged in.
    password = PasswordField(_l("Current password"), validators=[required(), max_length(200)])


class ResendCodeForm(FlaskForm):
    """Only the CSRF token: asks for a new code."""
