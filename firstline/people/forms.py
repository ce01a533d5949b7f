"""Forms of the ledger UI. They parse what was typed; the actions in ``actions.py`` decide what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.forms.models import fields_for_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm
from firstline.people.actions import PLAIN_FIELDS, SEALED_FIELDS
from firstline.people.idcard import domicile_shown_masked
from firstline.people.models import Movement, Resident

MOVEMENT_FIELDS = (
    "direction",
    "origin",
    "destination",
    "departed_on",
    "arrived_on",
    "transport",
    "trip_number",
    "notes",
)


def resident_field(name: str) -> models.Field:
    """A concrete field of Resident, for its label and choices."""
    field = Resident._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def date_input() -> forms.DateInput:
    return forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})


class SealedInput(forms.TextInput):
    """A text box that never renders a value: full ID numbers and phones are typed in, never sent back."""

    def format_value(self, value: Any) -> None:
        return None


class SealedDateInput(forms.DateInput):
    """A date box that never renders a value (the birth date on a correction)."""

    def format_value(self, value: Any) -> None:
        return None


class ResidentForm(ActionForm):
    """Add or correct a resident. ID number and phone start empty; on a correction, empty means unchanged."""

    def __init__(self, *args: Any, resident: Resident | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain = fields_for_model(
            Resident,
            fields=PLAIN_FIELDS,
            widgets={"birth_date": date_input(), "notes": forms.Textarea(attrs={"rows": 3})},
        )
        for name, field in plain.items():
            self.fields[name] = field
            if name == "birth_date" and resident is not None:  # never sent back; empty keeps it
                field.widget = SealedDateInput(attrs={"type": "date"})
                field.help_text = _("Leave empty to keep the current value.")
            elif name == "domicile" and resident is not None:
                masked = domicile_shown_masked(resident.domicile)
                field.widget = SealedInput(attrs={"placeholder": masked} if masked else {})
                field.help_text = _("Leave empty to keep the current value.")
            if name == "id_type":
                self.fields["id_number"] = self._sealed_field("id_number", resident, inputmode="text")
                self.fields["phone"] = self._sealed_field("phone", resident, inputmode="tel")
        self.fields["reason"] = forms.CharField(
            label=capfirst(_("reason")),
            max_length=200,
            required=False,
            help_text=_("Required: why is the record corrected? E.g. the ID card was checked at the door.")
            if resident
            else _("Optional: where the information comes from, e.g. door-to-door visit."),
        )

    @staticmethod
    def _sealed_field(name: str, resident: Resident | None, inputmode: str) -> forms.CharField:
        masked = getattr(resident, f"{name}_masked", "") if resident else ""
        attrs = {"autocomplete": "off", "spellcheck": "false", "inputmode": inputmode}
        if masked:
            attrs["placeholder"] = masked
        return forms.CharField(
            label=capfirst(resident_field(f"{name}_masked").verbose_name),
            max_length=40,
            required=False,
            widget=SealedInput(attrs=attrs),
            help_text=_("Leave empty to keep the current value.") if resident else "",
        )

    def action_data(self, *, empty_means_unchanged: bool) -> dict[str, Any]:
        """The ``data`` argument of ``do_create_resident`` / ``do_update_resident``."""
        data = {name: self.cleaned_data[name] for name in PLAIN_FIELDS}
        if empty_means_unchanged and not (data.get("domicile") or "").strip():
            data["domicile"] = None  # the box starts empty on a correction: empty keeps it
        for name in SEALED_FIELDS:
            value = self.cleaned_data[name].strip()
            data[name] = None if empty_means_unchanged and not value else value
        return data


class MovementForm(ActionForm):
    """An arrival (where from) or a departure (where to)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(
            fields_for_model(
                Movement,
                fields=MOVEMENT_FIELDS,
                widgets={"departed_on": date_input(), "arrived_on": date_input()},
            )
        )
