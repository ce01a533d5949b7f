"""Forms of the duty roster pages. They parse what was typed; ``gates.roster`` decides what is valid."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm
from firstline.gates.models import GateRules, Scan
from firstline.gates.roster import ROTATION_HOURS


def _guard_choices(guards: list[Any]) -> list[tuple[str, str]]:
    return [(guard.code, guard.display_name()) for guard in guards]


class ShiftForm(ActionForm):
    guard = forms.ChoiceField(label=_("guard"))
    starts_at = forms.DateTimeField(
        label=_("shift starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    ends_at = forms.DateTimeField(
        label=_("shift ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )

    def __init__(self, *args: Any, guards: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard_by_code = {guard.code: guard for guard in guards}
        cast(forms.ChoiceField, self.fields["guard"]).choices = _guard_choices(guards)


class RotationForm(ActionForm):
    guards = forms.MultipleChoiceField(label=_("guards taking turns"), widget=forms.CheckboxSelectMultiple)
    hours = forms.TypedChoiceField(
        label=_("hours per shift"),
        coerce=int,
        choices=[(hours, hours) for hours in ROTATION_HOURS],
        initial=8,
    )

    def __init__(self, *args: Any, guards: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard_by_code = {guard.code: guard for guard in guards}
        cast(forms.ChoiceField, self.fields["guards"]).choices = _guard_choices(guards)


class HandoverForm(ActionForm):
    note = forms.CharField(
        label=_("handover note"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("e.g. the thermometer's battery is low")}),
    )


class HistoryFilter(forms.Form):
    """The filters of a gate's history: a day and a verdict (both optional)."""

    day = forms.DateField(label=_("day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    verdict = forms.ChoiceField(
        label=_("verdict"), required=False, choices=[("", _("all verdicts")), *Scan.Verdict.choices]
    )


class GateRulesForm(ActionForm):
    """A community's own gate rules; an empty box keeps the deployment's default (shown as the placeholder)."""

    FIELDS = ("outing_people", "outing_every_days", "outing_hours", "list_max_age_hours")

    def __init__(self, *args: Any, defaults: dict[str, int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(forms.fields_for_model(GateRules, fields=self.FIELDS))
        for name in self.FIELDS:
            field = self.fields[name]
            field.required = False
            field.label = capfirst(field.label)
            field.widget.attrs.update(placeholder=str(defaults[name]), inputmode="numeric")
            field.help_text = _("Empty: the default, %(value)s.") % {"value": defaults[name]}
