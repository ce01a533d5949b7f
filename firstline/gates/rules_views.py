"""The community's rules at its gates: the outing quota, how long out, how old a gate phone's list may be."""

from __future__ import annotations

from dataclasses import asdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from firstline.gates.actions import do_set_gate_rules
from firstline.gates.duty_forms import GateRulesForm
from firstline.gates.models import GateRules
from firstline.gates.rules import gate_rules_for
from firstline.places.models import Community
from firstline.scoping import get_visible_or_404, require


@never_cache
@login_required
def gate_rules(request: HttpRequest, community: str) -> HttpResponse:
    """Kept by whoever keeps the community's screening rules (``manage_rules``); an empty box keeps the default."""
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    require(request.user, "manage_rules", place)
    defaults = {name: int(settings.GATES[name]) for name in GateRulesForm.FIELDS}
    current = GateRules.objects.filter(community=place).first()
    initial = {name: getattr(current, name) for name in GateRulesForm.FIELDS} if current else {}
    form = GateRulesForm(request.POST or None, initial=initial, defaults=defaults)
    if request.method == "POST" and form.is_valid():
        try:
            do_set_gate_rules(request.user, place, form.cleaned_data, request=request)
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, _("The rules were saved."))
            return redirect("duty:rules", community=place.code)
    context = {"community": place, "form": form, "rules": asdict(gate_rules_for(place.id))}
    return render(request, "gates/rules.html", context, status=400 if form.errors else 200)
