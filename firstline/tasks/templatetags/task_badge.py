"""``{% open_task_count as count %}``: the size of the user's inbox, for the badge in the navigation."""

from django import template

from firstline.scoping import memberships_with
from firstline.tasks.queries import inbox_count

register = template.Library()


@register.simple_tag(takes_context=True)
def open_task_count(context) -> int | None:
    """None for a user who works no tasks (no link at all); the inbox page passes its own count."""
    if "open_task_count" in context:
        return context["open_task_count"]
    request = context.get("request")
    if request is None or not memberships_with(request.user, "work_tasks"):
        return None
    return inbox_count(request.user)
