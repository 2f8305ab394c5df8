"""Web forms of trainings and överserveringstest."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import FreeTextRules, NameRules
from .models import PARTICIPANT_ROLES, TRAINING_KINDS
from .services import ORGANISERS

PASSED_CHOICES = [("", "–"), ("ja", "Godkänd"), ("nej", "Ej godkänd")]


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ParticipantRow(Form):
    """One participant row (no CSRF of its own: it lives inside TrainingForm)."""

    name = StringField("Namn", validators=[NameRules])
    role = SelectField("Roll", choices=list(PARTICIPANT_ROLES.items()), default="serveringspersonal")
    venue_id = SelectField("Serveringsställe", coerce=_int_or_none, validate_choice=False)
    attended = BooleanField("Deltog", default=True)
    passed = SelectField("Test", choices=PASSED_CHOICES, default="")
    diploma_on = DateField("Diplomdatum", validators=[Optional()])

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip() and not self.diploma_on.data and not self.passed.data

    def to_dict(self) -> dict:
        return {
            "name": self.name.data or "",
            "role": self.role.data,
            "venue_id": self.venue_id.data,
            "attended": bool(self.attended.data),
            "passed": {"ja": True, "nej": False}.get(self.passed.data),
            "diploma_on": self.diploma_on.data,
        }


class TrainingForm(FlaskForm):
    kind = SelectField("Typ av utbildning", choices=list(TRAINING_KINDS.items()))
    title = StringField("Rubrik", validators=[InputRequired("Ange en rubrik."), NameRules])
    starts_on = DateField("Första dag", validators=[InputRequired("Ange datum (ÅÅÅÅ-MM-DD).")])
    ends_on = DateField("Sista dag", validators=[InputRequired("Ange datum (ÅÅÅÅ-MM-DD).")])
    place = StringField("Plats", validators=[Optional(), NameRules])
    organisers = MultiCheckboxField("Arrangörer", choices=list(ORGANISERS.items()), default=["kommun"])
    venue_ids = MultiCheckboxField("Inbjudna serveringsställen", coerce=int, validate_choice=False)
    participants = FieldList(FormField(ParticipantRow), min_entries=0)
    participants_text = TextAreaField(
        "Klistra in deltagare (en per rad: Namn; roll; serveringsställe)", validators=[Optional(), FreeTextRules]
    )


class PasteForm(FlaskForm):
    participants_text = TextAreaField(
        "Klistra in deltagare (en per rad: Namn; roll; serveringsställe)",
        validators=[InputRequired("Klistra in minst en rad."), FreeTextRules],
    )


class OverservingTestForm(FlaskForm):
    venue_id = SelectField("Serveringsställe", coerce=_int_or_none, validate_choice=False)
    tested_on = DateField("Datum för testet", validators=[InputRequired("Ange datum (ÅÅÅÅ-MM-DD).")])
    refused = RadioField(
        "Utfall",
        choices=[("ja", "Nekades servering"), ("nej", "Serverades")],
        validators=[InputRequired("Ange om skådespelaren nekades servering.")],
    )
    notes = TextAreaField("Hur gick det till?", validators=[Optional(), FreeTextRules])
