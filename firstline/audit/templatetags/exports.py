"""``{% export_link community filters count %}``: the Export button of the resident list, with its filters."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from firstline.people.queries import search_kind

register = template.Library()

LINK_FILTERS = ("grid", "building", "flag", "person_type", "status")


@register.inclusion_tag("audit/_export_link.html")
def export_link(community: Any, filters: Any, count: int) -> dict[str, str]:
    """A link to export exactly the list shown; none for an empty list or an ID number or phone search.

    Such a search may not sit in a URL, and an export narrowed by it is not needed:
    the record itself is one tap away.
    """
    params = {name: getattr(filters, name) for name in LINK_FILTERS if getattr(filters, name, "")}
    query = getattr(filters, "q", "")
    if not count or (query and search_kind(query) != "name"):
        return {"url": ""}
    if query:
        params["q"] = query
    url = reverse("audit:export_new", kwargs={"community": community.code})
    return {"url": f"{url}?{urlencode(params)}" if params else url}
