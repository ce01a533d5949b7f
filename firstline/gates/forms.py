"""The forms of the pass pages: they parse input; the actions decide what is valid."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm
from firstline.gates.actions import MAX_PASS_DAYS, REQUESTABLE
from firstline.gates.models import Pass


def _gate_choices(gates: list[Any]) -> list[tuple[str, str]]:
    return [("", _("any gate of the community"))] + [(gate.code, gate.name) for gate in gates]


class IssueForm(ActionForm):
    kind = forms.ChoiceField(label=_("kind"), choices=Pass.Kind.choices, initial=Pass.Kind.OUTING)
    days = forms.IntegerField(
        label=_("valid for (days)"),
        min_value=1,
        max_value=MAX_PASS_DAYS,
        required=False,
        help_text=_("Empty: 14 days for an outing pass, 30 for worker and vehicle passes, 1 for a visitor."),
    )
    gate = forms.ChoiceField(label=_("gate"), required=False)
    plate = forms.CharField(label=_("plate"), max_length=16, required=False, help_text=_("vehicle passes only"))

    def __init__(self, *args: Any, gates: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.gates = {gate.code: gate for gate in gates}
        self.fields["gate"].choices = _gate_choices(list(gates))  # type: ignore[attr-defined]

    def chosen_gate(self) -> Any:
        return self.gates.get(self.cleaned_data.get("gate") or "")


class ApproveForm(IssueForm):
    """Approving sets only the validity and the gate: the kind and plate are the request's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["kind"], self.fields["plate"]


class DeclineForm(ActionForm):
    note = forms.CharField(label=_("why (the household will read it)"), max_length=200, required=False)


class RevokeForm(ActionForm):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class RequestForm(ActionForm):
    member = forms.ChoiceField(label=_("member"))
    kind = forms.ChoiceField(
        label=_("kind"), choices=[(kind.value, kind.label) for kind in REQUESTABLE], initial=Pass.Kind.OUTING
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=200,
        required=False,
        help_text=_("For example: buying food for the family, going to work at the hospital."),
    )
    plate = forms.CharField(label=_("plate"), max_length=16, required=False, help_text=_("vehicle passes only"))

    def __init__(self, *args: Any, members: list[Any] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.members = {member.code: member for member in members}
        self.fields["member"].choices = [  # type: ignore[attr-defined]
            (member.code, member.masked_name) for member in members
        ]


class SheetForm(ActionForm):
    kind = forms.ChoiceField(label=_("kind"), choices=Pass.Kind.choices, initial=Pass.Kind.OUTING)
