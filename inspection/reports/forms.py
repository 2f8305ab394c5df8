"""Forms of the reports: the period pickers (GET forms: they change nothing, so no CSRF token; the
query parameters keep the API's names `from`, `to`, `kommun_id`, `year`, `typ`) and the manager's
text blocks of the public report."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, TextAreaField
from wtforms.validators import Optional

from ..forms import FreeTextRules
from .exports import EXPORT_TYPES

#: query parameter -> form attribute, to show a service's field errors next to the right field
FIELD_NAMES = {"from": "date_from", "to": "date_to", "kommun_id": "kommun_id", "year": "year", "typ": "typ"}


class _GetForm(FlaskForm):
    class Meta:
        csrf = False


class PeriodForm(_GetForm):
    kommun_id = SelectField("Kommun", choices=[], validate_choice=False, validators=[Optional()])
    date_from = DateField("Från och med", name="from", validators=[Optional()])
    date_to = DateField("Till och med", name="to", validators=[Optional()])


class YearForm(_GetForm):
    kommun_id = SelectField("Kommun", choices=[], validate_choice=False, validators=[Optional()])
    year = IntegerField("År", validators=[Optional()])


class ExportForm(_GetForm):
    typ = SelectField("Vad", choices=list(EXPORT_TYPES.items()), validate_choice=False)
    date_from = DateField("Från och med", name="from", validators=[Optional()])
    date_to = DateField("Till och med", name="to", validators=[Optional()])


class ReportTextsForm(FlaskForm):
    period_from = HiddenField()
    period_to = HiddenField()
    intro = TextAreaField("Inledning", validators=[FreeTextRules])
    prevention = TextAreaField("Förebyggande arbete", validators=[FreeTextRules])
    outlook = TextAreaField("Framåt", validators=[FreeTextRules])


def show_errors(form, fields: dict[str, list[str]] | None, message: str) -> None:
    """Put a service's errors (keyed by query parameter) next to the form's fields."""
    for key, messages in (fields or {}).items():
        field = getattr(form, FIELD_NAMES.get(key, key), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + list(messages)
        else:
            form.form_errors.append(" ".join(messages))
    if not fields:
        form.form_errors.append(message)
