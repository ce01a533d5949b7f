"""Reads of the ledger shared by the web UI and the API: the resident list and its filters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from firstline.people.actions import find_by_id_number, find_by_phone
from firstline.people.models import CARE_FLAGS, Resident, Status

ID_LIKE = re.compile(r"^[\dXx]{15}$|^[\dXx]{18}$")
PHONE_LIKE = re.compile(r"^\+?[\d\-\s()（）]{7,20}$")


@dataclass
class ResidentFilter:
    """The filters of the resident list. Codes are public codes; unknown values simply match nothing."""

    community: str = ""
    grid: str = ""
    building: str = ""
    flag: str = ""
    person_type: str = ""
    status: str = ""
    q: str = ""

    @classmethod
    def from_params(cls, params: Any) -> ResidentFilter:
        return cls(**{name: str(params.get(name) or "").strip()[:60] for name in cls.__dataclass_fields__})


def search_kind(q: str) -> str:
    """``id`` for an exact ID number, ``phone`` for an exact phone, ``name`` otherwise."""
    compact = unicodedata.normalize("NFKC", q).replace(" ", "")
    if ID_LIKE.match(compact):
        return "id"
    if PHONE_LIKE.match(compact) and sum(ch.isdigit() for ch in compact) >= 7:
        return "phone"
    return "name"


def residents_for(user: Any, filters: ResidentFilter) -> QuerySet[Resident]:
    """The residents ``user`` may see, narrowed by ``filters``, in a stable order, ready for a list page."""
    queryset = Resident.objects.visible_to(user).filter(left_at__isnull=True)
    if filters.community:
        queryset = queryset.filter(community__code=filters.community)
    if filters.grid:
        queryset = queryset.filter(grid__code=filters.grid)
    if filters.building:
        queryset = queryset.filter(building__code=filters.building)
    if filters.flag:
        queryset = queryset.filter(**{filters.flag: True}) if filters.flag in CARE_FLAGS else queryset.none()
    if filters.person_type:
        queryset = queryset.filter(person_type=filters.person_type)
    if filters.status:
        queryset = queryset.filter(status=filters.status) if filters.status in Status.values else queryset.none()
    if filters.q:
        kind = search_kind(filters.q)
        if kind == "id":
            queryset = find_by_id_number(queryset, filters.q)
        elif kind == "phone":
            queryset = find_by_phone(queryset, filters.q)
        else:
            queryset = queryset.filter(name__contains=filters.q)
    return queryset.select_related("household", "household__building", "household__entrance", "grid").order_by("id")
