"""Forms of the pages residents and visitors open without an account, and of the workers' pages behind them.

They parse what was typed; the actions (``status.declarations``, ``status.actions``,
``accounts.household_codes``) decide what is valid. Number fields use the phone's
numeric keypad (``inputmode="decimal"``); ID numbers and phones are never rendered
back into a form (``SealedInput``).
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm
from firstline.people.forms import SealedInput, date_input
from firstline.people.models import Movement, Resident
from firstline.status.models import Symptom

TEMPERATURE_ATTRS = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "36.5", "maxlength": "5"}


class CodeForm(ActionForm):
    code = forms.CharField(
        label=_("Household code"),
        max_length=20,
        help_text=_("The 8 characters printed on your household's letter, e.g. K7P3-Q9MX."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "autofocus": True,
                "class": "code-input",
                "data-from-hash": True,  # a letter's QR code carries the code after "#" (forms.js)
            }
        ),
    )


class CheckInForm(ActionForm):
    """A household's check-in: a temperature and symptoms per member, each with its client id.

    The client ids are made when the page is made and sent back with it, so the same
    form sent twice (a double tap, a retry after a lost connection) is recognised by
    ``do_record_checkin`` as one check-in per member.
    """

    def __init__(self, *args: Any, members: list[Resident], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.members = members
        for resident in members:
            code = resident.code
            self.fields[f"temperature_{code}"] = forms.CharField(
                label=_("Temperature (°C)"), max_length=5, required=False, widget=forms.TextInput(TEMPERATURE_ATTRS)
            )
            self.fields[f"symptoms_{code}"] = forms.MultipleChoiceField(
                label=_("Symptoms"), choices=Symptom.choices, required=False, widget=forms.CheckboxSelectMultiple
            )
            self.fields[f"client_{code}"] = forms.UUIDField(
                required=False, widget=forms.HiddenInput, initial=uuid.uuid4
            )

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "resident": resident,
                "temperature": self[f"temperature_{resident.code}"],
                "symptoms": self[f"symptoms_{resident.code}"],
                "client_id": self[f"client_{resident.code}"],
            }
            for resident in self.members
        ]

    def readings(self) -> list[tuple[Resident, Any, list[str], uuid.UUID]]:
        """(resident, temperature as typed, symptoms, client id) for each member something was entered for."""
        found = []
        for resident in self.members:
            code = resident.code
            temperature = (self.cleaned_data.get(f"temperature_{code}") or "").strip()
            symptoms = self.cleaned_data.get(f"symptoms_{code}") or []
            if temperature or symptoms:
                client_id = self.cleaned_data.get(f"client_{code}") or uuid.uuid4()
                found.append((resident, temperature, symptoms, client_id))
        return found


class DeclarationForm(ActionForm):
    """返乡/来访人员登记: the fields of ``declarations.do_submit_declaration``."""

    name = forms.CharField(label=_("Name"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    id_type = forms.ChoiceField(label=_("Document"), choices=Resident.IdType.choices, initial="resident_id")
    id_number = forms.CharField(
        label=_("Document number"),
        max_length=40,
        widget=SealedInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        widget=SealedInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    address = forms.CharField(
        label=_("Where you stay in the community"),
        max_length=100,
        help_text=_("Building and room, or the family you visit."),
    )
    origin = forms.CharField(
        label=_("Where you came from"),
        max_length=200,
        help_text=_("Province, city and district, e.g. 湖北省武汉市江汉区."),
    )
    departure_date = forms.DateField(label=_("Day you left there"), required=False, widget=date_input())
    arrival_date = forms.DateField(label=_("Day you arrived here"), widget=date_input())
    transport = forms.ChoiceField(
        label=_("How you travelled"), choices=[("", "—"), *Movement.Transport.choices], required=False
    )
    trip_no = forms.CharField(label=_("Train, flight or plate number"), max_length=30, required=False)
    temperature = forms.CharField(
        label=_("Temperature (°C)"),
        max_length=5,
        required=False,
        help_text=_("If you measured it today."),
        widget=forms.TextInput(TEMPERATURE_ATTRS),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("Symptoms"), choices=Symptom.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


class LettersForm(ActionForm):
    """What a worker adds to a building's letters when printing them."""

    hotline = forms.CharField(
        label=_("Community hotline"),
        max_length=40,
        required=False,
        help_text=_("Printed on every letter, e.g. 0755-12345678."),
    )
    note = forms.CharField(
        label=_("A line of your own"),
        max_length=200,
        required=False,
        help_text=_("Optional, e.g. where to collect masks."),
    )


class AcceptForm(ActionForm):
    """Accept a declaration: the household for a new person (chosen within a building), the kind of document."""

    household = forms.ChoiceField(label=_("Household"), required=False)
    id_type = forms.ChoiceField(label=_("Document"), choices=Resident.IdType.choices)

    def __init__(self, *args: Any, households: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        field = self.fields["household"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—"), *((h.code, h.address) for h in households)]


class DismissForm(ActionForm):
    reason = forms.CharField(
        label=_("Why is it dismissed?"),
        max_length=200,
        help_text=_("E.g. declared twice, or only passing through."),
    )
