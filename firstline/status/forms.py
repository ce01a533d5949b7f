"""Forms of the worker's screens. They parse what was typed; ``status.actions`` decides what is valid."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import fields_for_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm
from firstline.people.forms import SealedInput, date_input
from firstline.people.models import Movement, Resident
from firstline.status.models import CommunityRules, IsolationOrder, Reason, Referral, RiskArea, Symptom

# Why a worker sends someone out (the other reasons are the rules' own).
REFERRAL_REASONS = (Reason.FEVER, Reason.SYMPTOMS, Reason.ARRIVAL_FROM_RISK_AREA, Reason.ISOLATION_ORDERED)


def temperature_field(required: bool = False) -> forms.CharField:
    """Typed as text: "38,2" and "38.2" both work; ``clean_temperature`` in the action reads it."""
    return forms.CharField(
        label=_("temperature (°C)"),
        max_length=8,
        required=required,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "placeholder": "36.5"}),
    )


def symptoms_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=_("symptoms"), choices=Symptom.choices, required=False, widget=forms.CheckboxSelectMultiple
    )


def note_field(label: Any = None, required: bool = False) -> forms.CharField:
    return forms.CharField(label=label or _("note"), max_length=300, required=required)


class ReadingForm(ActionForm):
    """A check-in or a visit taken by a worker. ``client_id`` makes a double tap harmless."""

    temperature = temperature_field()
    symptoms = symptoms_field()
    note = note_field()
    client_id = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("client_id", uuid.uuid4())
        super().__init__(*args, **kwargs)


class ReferralForm(ActionForm):
    destination = forms.ChoiceField(label=_("send to"), choices=Referral.Destination.choices)
    facility = forms.CharField(label=_("hospital or site"), max_length=100, required=False)
    reason = forms.ChoiceField(label=_("reason"), choices=[(reason.value, reason.label) for reason in REFERRAL_REASONS])
    note = note_field()


class ReferralStepForm(ActionForm):
    state = forms.ChoiceField(choices=Referral.State.choices)
    outcome = forms.ChoiceField(label=_("outcome"), choices=[("", "—"), *Referral.Outcome.choices], required=False)
    facility = forms.CharField(label=_("hospital or site"), max_length=100, required=False)
    note = note_field()


class IsolationForm(ActionForm):
    kind = forms.ChoiceField(label=_("kind"), choices=IsolationOrder.Kind.choices, widget=forms.RadioSelect)
    site = forms.CharField(
        label=_("isolation site"), max_length=100, required=False, help_text=_("for central isolation")
    )
    planned_end = forms.DateField(
        label=_("planned end"),
        required=False,
        widget=date_input(),
        help_text=_("Empty: the community's isolation period from today."),
    )
    note = note_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("kind", IsolationOrder.Kind.HOME)
        super().__init__(*args, **kwargs)


class ExtendForm(ActionForm):
    until = forms.DateField(label=_("new planned end"), widget=date_input())
    reason = forms.CharField(label=_("reason"), max_length=200)


class NoteForm(ActionForm):
    note = note_field()


class ArrivalForm(ActionForm):
    """An arrival: a resident chosen from the ledger, or a new person put in a household; then the trip."""

    resident = forms.CharField(max_length=16, required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("name"), max_length=50, required=False)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=40,
        required=False,
        widget=SealedInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("phone"),
        max_length=40,
        required=False,
        widget=SealedInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    sex = forms.ChoiceField(label=_("sex"), choices=[("", "—"), *Resident.Sex.choices], required=False)
    birth_date = forms.DateField(label=_("birth date"), required=False, widget=date_input())
    household = forms.CharField(max_length=16, required=False)
    origin = forms.CharField(label=_("came from"), max_length=200, help_text=_("e.g. 湖北省武汉市江汉区"))
    departure_date = forms.DateField(label=_("departure date"), required=False, widget=date_input())
    arrival_date = forms.DateField(label=_("arrival date"), required=False, widget=date_input())
    transport = forms.ChoiceField(
        label=_("transport"), choices=[("", "—"), *Movement.Transport.choices], required=False
    )
    trip_no = forms.CharField(label=_("train, flight or plate number"), max_length=30, required=False)
    temperature = temperature_field()
    notes = forms.CharField(label=_("notes"), max_length=200, required=False)

    def person(self) -> dict[str, Any]:
        """The new person's fields, as ``do_create_resident`` takes them."""
        data = self.cleaned_data
        person: dict[str, Any] = {"name": data["name"].strip(), "id_number": data["id_number"].strip()}
        person["phone"] = data["phone"].strip()
        if data["sex"]:
            person["sex"] = data["sex"]
        if data["birth_date"]:
            person["birth_date"] = data["birth_date"]
        return person

    def trip(self) -> dict[str, Any]:
        """The ``data`` argument of ``do_register_arrival``."""
        names = ("origin", "departure_date", "arrival_date", "transport", "trip_no", "temperature", "notes")
        return {name: self.cleaned_data[name] for name in names}


class RiskAreaForm(ActionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                RiskArea,
                fields=("name", "keywords", "active_from", "active_until"),
                widgets={"active_from": date_input(), "active_until": date_input()},
            )
        )
        self.fields["active_from"].required = False
        self.fields["active_from"].help_text = _("Empty: from today.")
        self.fields["active_until"].help_text = _("Empty: until it is ended.")


class RulesForm(ActionForm):
    """A community's own rules; an empty box keeps the deployment's default (shown as the placeholder)."""

    FIELDS = ("fever_threshold", "isolation_days", "observation_checkins", "referral_stale_hours")

    def __init__(self, *args: Any, defaults: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(CommunityRules, fields=self.FIELDS))
        for name in self.FIELDS:
            field = self.fields[name]
            field.required = False
            field.label = capfirst(field.label)
            if defaults is not None:
                field.widget.attrs["placeholder"] = str(getattr(defaults, name))
                field.help_text = _("Empty: the default, %(value)s.") % {"value": getattr(defaults, name)}


# The ledger's movement fields and the arrival's names for the same things.
MOVEMENT_NAMES = {"departed_on": "departure_date", "arrived_on": "arrival_date", "trip_number": "trip_no"}


def renamed(error: ValidationError, names: dict[str, str]) -> ValidationError:
    """``error`` with its field names translated by ``names`` (so that it lands next to the right box)."""
    if not hasattr(error, "error_dict"):
        return error
    return ValidationError({names.get(field, field): messages for field, messages in error.message_dict.items()})
