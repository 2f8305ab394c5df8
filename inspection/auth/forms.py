from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..forms import NameRules


class LoginForm(FlaskForm):
    email = EmailField("E-post", validators=[DataRequired("Ange din e-postadress."), Length(max=254)])
    password = PasswordField("Lösenord", validators=[DataRequired("Ange ditt lösenord."), Length(max=256)])
    otp = StringField("Engångskod (om du har tvåstegsverifiering)", validators=[Optional(), Length(max=10)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Nuvarande lösenord", validators=[DataRequired("Ange ditt nuvarande lösenord.")])
    new_password = PasswordField(
        "Nytt lösenord (minst 12 tecken)", validators=[DataRequired("Ange ett nytt lösenord.")]
    )


class OtpForm(FlaskForm):
    code = StringField("Kod från appen", validators=[DataRequired("Ange koden."), Length(max=10)])


class UserForm(FlaskForm):
    email = EmailField(
        "E-post", validators=[DataRequired("Ange e-postadress."), Email("Ogiltig e-postadress."), Length(max=254)]
    )
    name = StringField("Namn", validators=[DataRequired("Ange namn."), NameRules])
    organisation_id = SelectField("Organisation", coerce=int)
    role = SelectField("Roll")
    password = PasswordField("Lösenord (minst 12 tecken)", validators=[Optional()])
    active = BooleanField("Aktivt konto", default=True)


class OrganisationForm(FlaskForm):
    name = StringField("Namn", validators=[DataRequired("Ange namn."), NameRules])
    kind = SelectField("Typ", choices=[("kommun", "Kommun"), ("polis", "Polis")])
