"""Form helpers shared by the apps' web views."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from firstline.sealing import holds_personal_number, mask_personal_numbers

NUMBER_IN_TEXT = gettext_lazy(
    "This text holds what looks like an ID number or a phone. Write those only in their own fields, "
    "which keep them sealed, and remove them here."
)
# Fields meant to hold an ID number or a phone (sealed by their action), and codes.
NUMBER_FIELDS = frozenset({"id_number", "phone", "hotline", "code", "q", "username"})


class ActionForm(forms.Form):
    """A form that only parses input: the action it feeds decides what is valid.

    ``add_action_errors`` shows an action's ValidationError next to the fields it
    names (anything else goes above the form), so the user sees every problem
    where it is and keeps what was typed.

    A text field (other than ``NUMBER_FIELDS``) that holds an ID number or a phone is
    refused with a message: free text is neither sealed nor masked.
    """

    def __init__(self, *args, **kwargs) -> None:
        # Labels stand on their own line: no colon (Django's default ":" is wrong in Chinese anyway).
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, value in list(cleaned.items()):
            field = self.fields.get(name)
            if (
                isinstance(value, str)
                and isinstance(field, forms.CharField)
                and name not in NUMBER_FIELDS
                and not isinstance(field.widget, forms.PasswordInput)
                and holds_personal_number(value)
            ):
                self.add_error(name, str(NUMBER_IN_TEXT))
                # Shown again masked, never as typed: the page must not echo the number either.
                data = self.data.copy()  # type: ignore[attr-defined]  # a QueryDict or a dict: both copy
                data[self.add_prefix(name)] = mask_personal_numbers(value)
                self.data = data
        return cleaned

    def add_action_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)
