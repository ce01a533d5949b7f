"""``{% household_gate_history household %}``: the household page's section of passes, scans and outings;
``{% may_guard_gates as flag %}``: whether the navigation links the gate duty pages."""

from typing import Any

from django import template

from firstline.gates.duty_views import guards_gates, household_history

register = template.Library()


@register.inclusion_tag("gates/duty/_household.html", takes_context=True)
def household_gate_history(context: Any, household: Any) -> dict[str, Any]:
    request = context.get("request")
    if request is None or household is None:
        return {"passes": [], "scans": [], "outings": []}
    return household_history(request.user, household)


@register.simple_tag(takes_context=True)
def may_guard_gates(context: Any) -> bool:
    """A membership that guards gates or builds places, at a gate, a community or a street."""
    request = context.get("request")
    if request is None:
        return False
    return guards_gates(request.user)
