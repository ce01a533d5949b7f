"""Forms of the export pages: they only parse input; the actions decide what is allowed."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from firstline.audit.models import Export
from firstline.forms import ActionForm


class ExportForm(ActionForm):
    format = forms.ChoiceField(
        label=_("Format"), choices=Export.Format.choices, initial=Export.Format.XLSX, widget=forms.RadioSelect
    )
    unmasked = forms.BooleanField(
        label=_("Full ID numbers and phones"),
        required=False,
        help_text=_("Only when the work needs them, with a reason."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Why you need this list; required for full ID numbers and phones."),
    )


class DecisionForm(ActionForm):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)
