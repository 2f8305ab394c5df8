"""Forms of the scheduling pages (Schedule*, Round*, Plan*)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import FreeTextRules, NameRules
from .models import KINDS


class ScheduleCheckboxes(SelectMultipleField):
    """Participants as large check boxes (a tablet needs no multi-select list)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # Unknown ids are the service's to refuse (with a message next to the field), not WTForms'.
        pass


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ScheduleForm(FlaskForm):
    venue_id = SelectField("Serveringsställe", coerce=_int_or_none, validators=[InputRequired("Välj ett ställe.")])
    kind = SelectField("Typ", choices=list(KINDS.items()), validators=[InputRequired()])
    day = DateField("Datum", validators=[InputRequired("Ange datum (ÅÅÅÅ-MM-DD).")])
    start_time = TimeField("Från", validators=[InputRequired("Ange starttid (TT:MM).")])
    end_time = TimeField("Till", validators=[InputRequired("Ange sluttid (TT:MM).")])
    participant_ids = ScheduleCheckboxes("Deltagare", coerce=_int_or_none)
    others = TextAreaField(
        "Övriga deltagare utan konto",
        validators=[Optional(), FreeTextRules],
        description="En per rad: Namn, Organisation (t.ex. Kim Berg, Skatteverket)",
    )
    diarienummer = StringField("Diarienummer", validators=[Optional(), NameRules])


class RoundStopForm(Form):
    venue_id = SelectField("Serveringsställe", coerce=_int_or_none, validate_choice=False)
    start_time = TimeField("Från", validators=[Optional()])
    end_time = TimeField("Till", validators=[Optional()])


class RoundForm(FlaskForm):
    title = StringField("Rubrik", validators=[InputRequired("Ange en rubrik."), NameRules])
    evening = DateField("Kväll", validators=[InputRequired("Ange kvällens datum (ÅÅÅÅ-MM-DD).")])
    kind = SelectField("Typ", choices=list(KINDS.items()), default="samordnad", validators=[InputRequired()])
    participant_ids = ScheduleCheckboxes("Deltagare", coerce=_int_or_none)
    others = TextAreaField(
        "Övriga deltagare utan konto",
        validators=[Optional(), FreeTextRules],
        description="En per rad: Namn, Organisation",
    )
    stops = FieldList(FormField(RoundStopForm), min_entries=1, max_entries=15)


class ScheduleResponseForm(FlaskForm):
    response = HiddenField()
    comment = TextAreaField("Kommentar (frivillig)", validators=[Optional(), FreeTextRules])


class ScheduleCancelForm(FlaskForm):
    reason = TextAreaField("Skäl", validators=[InputRequired("Ange ett skäl."), FreeTextRules])


class ScheduleEditForm(FlaskForm):
    day = DateField("Datum", validators=[InputRequired("Ange datum (ÅÅÅÅ-MM-DD).")])
    start_time = TimeField("Från", validators=[InputRequired("Ange starttid (TT:MM).")])
    end_time = TimeField("Till", validators=[InputRequired("Ange sluttid (TT:MM).")])
    participant_ids = ScheduleCheckboxes("Deltagare", coerce=_int_or_none)
    others = TextAreaField("Övriga deltagare utan konto", validators=[Optional(), FreeTextRules])
    diarienummer = StringField("Diarienummer", validators=[Optional(), NameRules])


class PlanForm(FlaskForm):
    visits_class_3 = IntegerField(
        "Besök per år, riskklass 3", validators=[InputRequired("Ange ett antal."), NumberRange(0, 52)]
    )
    visits_class_2 = IntegerField(
        "Besök per år, riskklass 2", validators=[InputRequired("Ange ett antal."), NumberRange(0, 52)]
    )
    visits_class_1 = IntegerField(
        "Besök per år, riskklass 1", validators=[InputRequired("Ange ett antal."), NumberRange(0, 52)]
    )
    joint_rounds = IntegerField(
        "Samordnade rundor med polisen", validators=[InputRequired("Ange ett antal."), NumberRange(0, 365)]
    )


def parse_others(text: str | None) -> list[dict]:
    """'Namn, Organisation' per line -> [{name, organisation}] (the service checks them)."""
    result = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        name, _, org = line.partition(",")
        result.append({"name": name.strip(), "organisation": org.strip()})
    return result


def format_others(others) -> str:
    return "\n".join(f"{o.name}, {o.organisation}" for o in others)
