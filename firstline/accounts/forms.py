from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from firstline.accounts.roles import LEVELS_FOR_ROLE, Role
from firstline.forms import ActionForm
from firstline.places.models import Building, Community, Gate, Grid

LEVEL_MODELS: dict[str, Any] = {"community": Community, "grid": Grid, "building": Building, "gate": Gate}
LEVEL_OF = {model: level for level, model in LEVEL_MODELS.items()}


class GrantForm(ActionForm):
    """Give a user a role at one place of the community, usually for a limited time (临时授权)."""

    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(
        label=_("Role"), choices=[(role.value, role.label) for role in Role if set(LEVELS_FOR_ROLE[role]) - {"street"}]
    )
    place = forms.ChoiceField(label=_("Place"))
    ends_at = forms.DateTimeField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("Leave empty for a lasting assignment."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=200)

    def __init__(self, *args: Any, places: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.places = {f"{LEVEL_OF[type(place)]}:{place.code}": place for place in places}
        place_field = self.fields["place"]
        assert isinstance(place_field, forms.ChoiceField)
        place_field.choices = [(key, _label(place)) for key, place in self.places.items()]

    def clean_place(self) -> Any:
        place = self.places.get(self.cleaned_data["place"])
        if place is None:
            raise forms.ValidationError(_("Choose a place of this community."))
        return place


def _label(place: Any) -> str:
    names = {Community: _("community"), Grid: _("grid"), Building: _("building"), Gate: _("gate")}
    return f"{names[type(place)]} · {place.name}"
