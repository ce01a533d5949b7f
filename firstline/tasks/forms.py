"""Forms of the task screens. They parse what was typed; ``tasks.actions`` decides what is valid."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from firstline.forms import ActionForm
from firstline.tasks.models import Task
from firstline.tasks.queries import MANUAL_KINDS


class TaskForm(ActionForm):
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[(kind.value, kind.label) for kind in MANUAL_KINDS],
        initial=Task.Kind.VISIT,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("what to do"), max_length=300, widget=forms.Textarea(attrs={"rows": 3}))
    urgent = forms.BooleanField(label=_("urgent"), required=False)


class DoneForm(ActionForm):
    note = forms.CharField(
        label=_("result"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was done, e.g. called, no fever, will check in tonight."),
    )
