"""Web forms of the venue registry."""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from ..forms import FreeTextRules, NameRules
from ..validation import birth_year_error, org_number_error, serving_hours_error
from .models import PERMIT_KINDS, SCOPES

REQUIRED = "Obligatoriskt fält."
SERVER_LINE_HINT = "En person per rad: Namn; födelseår; anmäld datum (ÅÅÅÅ-MM-DD, kan utelämnas)."


def parse_servers(text: str) -> tuple[list[dict], list[int], list[str]]:
    """'Namn; födelseår; anmäld datum' per line -> (servers, their line numbers, errors by line)."""
    servers, lines, errors = [], [], []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in re.split(r"[;,\t]", line)]
        name = parts[0] if parts else ""
        year = parts[1] if len(parts) > 1 else ""
        notified = parts[2] if len(parts) > 2 else ""
        line_errors = []
        if not name:
            line_errors.append("namn saknas")
        if not re.fullmatch(r"\d{4}", year):
            line_errors.append("födelseår ska vara fyra siffror")
        elif message := birth_year_error(int(year)):
            line_errors.append(message[:1].lower() + message[1:].rstrip("."))
        notified_on = None
        if notified:
            try:
                notified_on = date.fromisoformat(notified)
            except ValueError:
                line_errors.append("anmäld datum ska skrivas ÅÅÅÅ-MM-DD")
        if len(parts) > 3 and any(parts[3:]):
            line_errors.append("för många delar (Namn; födelseår; datum)")
        if line_errors:
            errors.append(f"Rad {number}: " + ", ".join(line_errors) + ".")
            continue
        servers.append({"name": name, "birth_year": int(year), "notified_on": notified_on})
        lines.append(number)
    return servers, lines, errors


def format_servers(servers) -> str:
    return "\n".join(
        f"{s.name}; {s.birth_year}" + (f"; {s.notified_on.isoformat()}" if s.notified_on else "") for s in servers
    )


class VenueForm(FlaskForm):
    name = StringField("Namn", validators=[InputRequired(REQUIRED), NameRules])
    address = StringField("Adress", validators=[InputRequired(REQUIRED), NameRules])
    area = StringField("Område", validators=[Optional(), NameRules])
    permit_holder = StringField("Tillståndshavare (företag)", validators=[InputRequired(REQUIRED), NameRules])
    org_number = StringField("Organisationsnummer", validators=[InputRequired(REQUIRED)])
    permit_holder_email = StringField("E-post till tillståndshavaren", validators=[Optional()])
    permit_number = StringField("Tillståndsnummer", validators=[InputRequired(REQUIRED), NameRules])
    permit_scope = SelectField("Omfattning", choices=list(SCOPES.items()))
    permit_kind = SelectField("Typ av tillstånd", choices=list(PERMIT_KINDS.items()))
    serving_hours = StringField("Serveringstid inne", validators=[InputRequired(REQUIRED)])
    outdoor_serving_hours = StringField("Serveringstid ute", validators=[Optional()])
    max_guests = IntegerField(
        "Max antal gäster",
        validators=[Optional(), NumberRange(1, 100_000, "Ange ett antal mellan 1 och 100000.")],
    )
    ordningsvakter_required = BooleanField("Ordningsvakter krävs")
    valid_from = DateField("Giltigt från", validators=[Optional()])
    valid_to = DateField("Giltigt till", validators=[Optional()])
    risk_class = SelectField(
        "Riskklass",
        choices=[("", "Beräknad automatiskt"), ("1", "1 – låg"), ("2", "2 – medel"), ("3", "3 – hög")],
        validate_choice=True,
    )
    risk_class_reason = TextAreaField("Skäl till vald riskklass", validators=[Optional(), FreeTextRules])
    responsible_servers = TextAreaField("Serveringsansvariga", validators=[Optional()])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # A class set by hand needs its reason (the reason field is optional on its own).
        if self.risk_class.data and not (self.risk_class_reason.data or "").strip():
            self.risk_class_reason.errors = [*self.risk_class_reason.errors, "Skriv varför riskklassen sätts för hand."]
            ok = False
        return ok

    # The service checks these too; checking them here as well shows every error in one round.
    def validate_org_number(self, field):
        if field.data and (message := org_number_error(field.data)):
            raise ValidationError(message)

    def validate_serving_hours(self, field):
        if field.data and (message := serving_hours_error(field.data)):
            raise ValidationError(message)

    def validate_outdoor_serving_hours(self, field):
        if field.data and (message := serving_hours_error(field.data)):
            raise ValidationError(message)

    def validate_responsible_servers(self, field):
        _, _, errors = parse_servers(field.data)
        if errors:
            raise ValidationError(" ".join(errors))

    def to_data(self) -> dict:
        """The form as API data (what the services take)."""
        servers, _, _ = parse_servers(self.responsible_servers.data)
        data = {
            "name": self.name.data,
            "address": self.address.data,
            "area": self.area.data or None,
            "permit_holder": self.permit_holder.data,
            "org_number": self.org_number.data,
            "permit_holder_email": self.permit_holder_email.data or None,
            "permit": {
                "number": self.permit_number.data,
                "scope": self.permit_scope.data,
                "kind": self.permit_kind.data,
                "serving_hours": self.serving_hours.data,
                "outdoor_serving_hours": self.outdoor_serving_hours.data or None,
                "max_guests": self.max_guests.data,
                "ordningsvakter_required": bool(self.ordningsvakter_required.data),
                "valid_from": self.valid_from.data,
                "valid_to": self.valid_to.data,
            },
            "responsible_servers": servers,
        }
        if self.risk_class.data:
            data["risk_class"] = int(self.risk_class.data)
            data["risk_class_reason"] = self.risk_class_reason.data
        else:
            data["risk_class"] = None
        return data

    def server_errors(self, fields: dict[str, list[str]]) -> dict[str, list[str]]:
        """Turn the service's `responsible_servers.N.x` errors into line-numbered messages."""
        _, lines, _ = parse_servers(self.responsible_servers.data)
        out: dict[str, list[str]] = {}
        for path, messages in fields.items():
            m = re.fullmatch(r"responsible_servers\.(\d+)\.\w+", path)
            if m and int(m.group(1)) < len(lines):
                out.setdefault("responsible_servers", []).extend(
                    f"Rad {lines[int(m.group(1))]}: {message}" for message in messages
                )
            else:
                out.setdefault(path, []).extend(messages)
        return out


class ImportUploadForm(FlaskForm):
    file = FileField("CSV-fil")


class ImportConfirmForm(FlaskForm):
    #: the checked file's bytes, base64: sent back to run the import (and checked again then)
    content = HiddenField()
