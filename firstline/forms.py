"""Form helpers shared by the apps' web views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


class ActionForm(forms.Form):
    """A form that only parses input: the action it feeds decides what is valid.

    ``add_action_errors`` shows an action's ValidationError next to the fields it
    names (anything else goes above the form), so the user sees every problem
    where it is and keeps what was typed.
    """

    def __init__(self, *args, **kwargs) -> None:
        # Labels stand on their own line: no colon (Django's default ":" is wrong in Chinese anyway).
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def add_action_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)
