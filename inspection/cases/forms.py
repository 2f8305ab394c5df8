"""Forms of the case pages: open a case, one form per step kind, a document, the letter templates."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField as _DateField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import FreeTextRules, NameRules
from .models import SANCTIONS
from .services import DECIDED_BY, OUTCOMES

DATE_MSG = "Ange ett datum ÅÅÅÅ-MM-DD."


class DateField(_DateField):
    """A date field whose parse error is in Swedish."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(DATE_MSG) from None


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OpenCaseForm(FlaskForm):
    inspection_ids = MultiCheckboxField("Underlag: signerade protokoll", coerce=int, validate_choice=False)
    summary = TextAreaField(
        "Vad gäller ärendet?", validators=[InputRequired("Beskriv kort vad ärendet gäller."), FreeTextRules]
    )
    diarienummer = StringField("Diarienummer", validators=[Optional(), NameRules])


class _StepForm(FlaskForm):
    date = DateField("Datum", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d")
    text = TextAreaField("Kommentar", validators=[Optional(), FreeTextRules])


class NoteForm(_StepForm):
    text = TextAreaField("Anteckning", validators=[InputRequired("Skriv anteckningen."), FreeTextRules])


class ProposalForm(_StepForm):
    sanction = SelectField("Föreslagen åtgärd", choices=list(SANCTIONS.items()))
    legal_ground = StringField(
        "Lagrum", validators=[Optional(), NameRules], description="Lämna tomt: 9 kap. 17 § eller 18 § alkohollagen."
    )
    text = TextAreaField("Skäl", validators=[Optional(), FreeTextRules])


class KommuniceringForm(_StepForm):
    deadline = DateField(
        "Sista dag för yttrande",
        validators=[InputRequired("Ange sista dag för yttrande (förifyllt: 14 dagar).")],
        format="%Y-%m-%d",
    )


class ReplyForm(_StepForm):
    text = TextAreaField("Yttrandet i korthet", validators=[Optional(), FreeTextRules])


class DecisionForm(_StepForm):
    sanction = SelectField("Beslut", choices=list(SANCTIONS.items()))
    decided_by = SelectField("Beslutat av", choices=list(DECIDED_BY.items()))
    legal_ground = StringField("Lagrum", validators=[Optional(), NameRules])
    text = TextAreaField("Skäl för beslutet", validators=[Optional(), FreeTextRules])


class NotificationForm(_StepForm):
    date = DateField("Delgivet den", validators=[InputRequired(DATE_MSG)], format="%Y-%m-%d")


class AppealForm(_StepForm):
    filed_on = DateField(
        "Överklagandet kom in den",
        validators=[InputRequired("Ange datum då överklagandet kom in (ÅÅÅÅ-MM-DD).")],
        format="%Y-%m-%d",
    )


class AppealOutcomeForm(_StepForm):
    outcome = SelectField("Utgång", choices=list(OUTCOMES.items()))


STEP_FORMS = {
    "proposal": ProposalForm,
    "kommunicering": KommuniceringForm,
    "reply": ReplyForm,
    "decision": DecisionForm,
    "notification": NotificationForm,
    "appeal": AppealForm,
    "appeal_outcome": AppealOutcomeForm,
    "note": NoteForm,
}


class DocumentForm(FlaskForm):
    title = StringField("Rubrik", validators=[InputRequired("Ange en rubrik."), NameRules])
    file = FileField("Fil (PDF, JPEG eller PNG, högst 15 MB)")


class LetterTemplatesForm(FlaskForm):
    kommunicering_body = TextAreaField("Kommuniceringsbrev", validators=[Optional(), FreeTextRules])
    decision_body = TextAreaField("Beslutsbrev", validators=[Optional(), FreeTextRules])
