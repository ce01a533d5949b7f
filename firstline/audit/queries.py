"""Reads of ledger exports: the rows an export holds, the exports a user may see, filters in words."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from firstline.audit.models import Export
from firstline.people.models import Resident, Status
from firstline.people.queries import FLAG_LABELS, ResidentFilter, residents_for
from firstline.places.models import Building, Community, Grid
from firstline.scoping import get_visible_or_404

# The list filters an export keeps (the community is the export's own).
EXPORT_FILTERS = ("grid", "building", "flag", "person_type", "status", "q")


def filters_from(params: Any) -> ResidentFilter:
    """The resident-list filters in request parameters (GET or POST), without the community."""
    filters = ResidentFilter.from_params(params)
    filters.community = ""
    return filters


def stored_filters(filters: ResidentFilter) -> dict[str, str]:
    return {name: getattr(filters, name) for name in EXPORT_FILTERS if getattr(filters, name)}


def export_rows(user: Any, community_id: int, filters: dict[str, str], until: datetime) -> QuerySet[Resident]:
    """The residents an export of ``community_id`` with ``filters`` holds for ``user`` now.

    Exactly the resident list the user sees with these filters (``residents_for``:
    the user's scope, never beyond), less the residents added after ``until``.
    """
    resident_filter = ResidentFilter(**{name: str(filters.get(name, "")) for name in EXPORT_FILTERS})
    return residents_for(user, resident_filter).filter(community_id=community_id, created_at__lte=until)


def rows_of_export(user: Any, export: Export) -> QuerySet[Resident]:
    return export_rows(user, export.community_id, export.filters, export.requested_at)


def own_export_or_404(user: Any, code: str) -> Export:
    """One of the user's own exports; anybody else's is a 404, approver or not."""
    if not getattr(user, "is_authenticated", False):
        return get_visible_or_404(Export.objects.none(), code=code)
    queryset = Export.objects.filter(requested_by=user).select_related("community", "requested_by", "decided_by")
    return get_visible_or_404(queryset, code=code)


def decidable_export_or_404(user: Any, code: str) -> Export:
    """An export the user may approve or refuse (``approve_exports`` over its community)."""
    queryset = Export.objects.visible_to(user, "approve_exports").select_related("community", "requested_by")
    return get_visible_or_404(queryset, code=code)


def own_exports(user: Any, community: Community) -> QuerySet[Export]:
    return Export.objects.filter(requested_by=user, community=community).select_related("decided_by")


def pending_exports(user: Any, community: Community) -> QuerySet[Export]:
    """Exports of ``community`` waiting for the approval of ``user`` (empty without ``approve_exports``)."""
    return (
        Export.objects.visible_to(user, "approve_exports")
        .filter(community=community, state=Export.State.PENDING)
        .exclude(requested_by=user)
        .select_related("requested_by")
        .order_by("id")
    )


def describe_filters(user: Any, community: Community, filters: dict[str, str]) -> list[str]:
    """The filters of an export in words, as far as ``user`` may see the places they name."""
    words: list[str] = []
    if filters.get("grid"):
        grids = Grid.objects.visible_to(user).filter(community=community, code=filters["grid"])
        words.append(grids.values_list("name", flat=True).first() or filters["grid"])
    if filters.get("building"):
        buildings = Building.objects.visible_to(user).filter(community=community, code=filters["building"])
        words.append(buildings.values_list("name", flat=True).first() or filters["building"])
    if filters.get("status"):
        words.append(str(dict(Status.choices).get(filters["status"], filters["status"])))
    if filters.get("flag"):
        words.append(str(FLAG_LABELS.get(filters["flag"], filters["flag"])))
    if filters.get("person_type"):
        words.append(str(dict(Resident.PersonType.choices).get(filters["person_type"], filters["person_type"])))
    if filters.get("q"):
        words.append(f"“{filters['q']}”")
    return words
