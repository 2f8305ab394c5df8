"""Shared form pieces: validators that apply the API's text rules with Swedish messages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import ValidationError

from .validation import NAME_MAX, TEXT_MAX, text_error


class EmptyForm(FlaskForm):
    """For POST-only buttons: carries the CSRF token."""


class TextRules:
    """Length and control-character rules of API.md; the text itself is never changed."""

    def __init__(self, max_len: int = NAME_MAX):
        self.max_len = max_len

    def __call__(self, form, field):
        if field.data and (message := text_error(field.data, self.max_len)):
            raise ValidationError(message)


NameRules = TextRules(NAME_MAX)
FreeTextRules = TextRules(TEXT_MAX)


def apply_errors(form: FlaskForm, fields: dict[str, list[str]] | None, fallback: str | None = None) -> None:
    """Put a service's field errors next to the form's fields (unknown ones go to the form)."""
    for path, messages in (fields or {}).items():
        name = path.replace(".", "_")
        field = getattr(form, name, None) or getattr(form, path.split(".")[-1], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + list(messages)
        else:
            form.form_errors.extend(messages)
    if fallback and not fields:
        form.form_errors.append(fallback)
