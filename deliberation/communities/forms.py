"""Community administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import PasswordField, SelectChoice, SelectField, StringField, TextAreaField

from deliberation.communities.models import ROLE_LABELS, Role
from deliberation.core.forms import max_length, optional_int, required
from deliberation.core.inputs import bounded_int


class CommunityForm(FlaskForm):
    name = StringField(_l("Community name"), validators=[required(), max_length(100)],
                       description=_l("For example 桃源社区"))
    slug = StringField(_l("Web address"), validators=[required(), max_length(60)],
                       description=_l("Lowercase letters, digits and dashes, for example taoyuan"))
    district = StringField(_l("District"), validators=[required(), max_length(50)])
    street = StringField(_l("Street (subdistrict)"), validators=[required(), max_length(50)])


class AppointAdminForm(FlaskForm):
    login = StringField(_l("Login name or phone of the administrator"), validators=[required(), max_length(64)])
    display_name = StringField(_l("Display name (new accounts only)"), validators=[max_length(50)])
    password = PasswordField(_l("First password (new accounts only)"), validators=[max_length(200)])


class EstateForm(FlaskForm):
    name = StringField(_l("Estate name"), validators=[required(), max_length(100)])


class BuildingForm(FlaskForm):
    estate = SelectField(_l("Estate"), coerce=bounded_int, validators=[required()], validate_choice=False)
    name = StringField(_l("Building name"), validators=[required(), max_length(60)],
                       description=_l("Unique in the community, for example 1栋 or A座"))


class RollImportForm(FlaskForm):
    file = FileField(_l("Roll file (CSV)"), validators=[FileRequired(message=_l("Choose a CSV file."))],
                     description=_l("Columns: building, unit, room, name, phone (or 楼栋, 单元, 房号, 姓名, 电话)"))


class RejectForm(FlaskForm):
    reason = TextAreaField(_l("Reason shown to the resident"), validators=[required(), max_length(300)])


class RoleGrantForm(FlaskForm):
    user = StringField(_l("Login name or phone"), validators=[required(), max_length(64)])
    role = SelectField(_l("Role"), validators=[required()],
                       # Grid workers are assigned per grid on the grids page, which grants the role.
                       choices=[SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()
                                if role != Role.grid_worker])
    organisation = SelectField(_l("Organisation (for an organisation representative)"), coerce=optional_int,
                               validate_choice=False, choices=[],
                               description=_l("Register property firms and owner committees under Organisations."))

    def role_enum(self) -> Role:
        return Role(self.role.data)
