"""``{% resident_passes resident %}``: a resident's passes and the form to issue one, on the resident's page."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from firstline.gates.forms import IssueForm
from firstline.gates.models import Pass
from firstline.places.models import Gate
from firstline.scoping import user_can

register = template.Library()


@register.inclusion_tag("gates/_resident_passes.html", takes_context=True)
def resident_passes(context: Any, resident: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    passes = list(
        Pass.objects.visible_to(user).filter(resident=resident, valid_until__gt=timezone.now()).order_by("-issued_at")
    )
    form = None
    if user is not None and user_can(user, "edit_ledger", resident):
        form = IssueForm(gates=list(Gate.objects.filter(community_id=resident.community_id).order_by("name")))
    return {"passes": passes, "form": form, "resident": resident, "csrf_token": context.get("csrf_token")}
