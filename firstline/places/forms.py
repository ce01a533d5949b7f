"""Forms of the hierarchy UI. They parse what was typed; ``actions.py`` decides what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm


class BulkHouseholdsForm(ActionForm):
    """Every household of a building at once: floors × entrances × rooms per floor."""

    floors = forms.IntegerField(label=_("Floors"))
    entrances = forms.IntegerField(label=_("Entrances"))
    rooms_per_floor = forms.IntegerField(label=_("Rooms per floor"))
