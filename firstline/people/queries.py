"""Reads of the ledger shared by the web UI and the API: the resident list and its filters."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from firstline.people.actions import do_search_exact
from firstline.people.models import CARE_FLAGS, STATUS_COLOURS, Resident, Status
from firstline.places.models import Community, Grid, Household

FLAG_LABELS = {flag: Resident._meta.get_field(flag).verbose_name for flag in CARE_FLAGS}  # type: ignore[union-attr]
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


def residents_for(user: Any, filters: ResidentFilter, request: Any = None) -> QuerySet[Resident]:
    """The residents ``user`` may see, narrowed by ``filters``, in a stable order, ready for a list page.

    A full ID number or phone in ``filters.q`` is an exact search (``do_search_exact``: the
    ``search_exact`` capability, a limit, an audit event); it raises ``ExactSearchRefused``.
    """
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
        if kind == "name":
            queryset = queryset.filter(name__contains=filters.q)
        else:
            queryset = do_search_exact(user, queryset, kind, filters.q, request=request)
    return queryset.select_related("household", "household__building", "household__entrance", "grid").order_by("id")


@dataclass(frozen=True)
class Tally:
    """One bar of the overview: how many residents have ``value`` for the list filter ``param``."""

    param: str
    value: str
    label: str
    count: int
    percent: int
    colour: str = ""


@dataclass(frozen=True)
class LedgerCounts:
    residents: int
    households: int
    by_grid: list[Tally]
    by_status: list[Tally]
    by_flag: list[Tally]
    by_person_type: list[Tally]


def ledger_counts(user: Any, community: Community) -> LedgerCounts:
    """What ``user`` may count in ``community`` (``view_aggregates``): four queries however large the ledger."""
    residents = Resident.objects.visible_to(user, "view_aggregates").filter(community=community, left_at__isnull=True)
    totals = residents.aggregate(
        total=Count("id"),
        **{f"s_{value}": Count("id", filter=Q(status=value)) for value in Status.values},
        **{f"f_{flag}": Count("id", filter=Q(**{flag: True})) for flag in CARE_FLAGS},
        **{f"p_{value}": Count("id", filter=Q(person_type=value)) for value in Resident.PersonType.values},
    )
    per_grid = dict(residents.order_by().values("grid_id").annotate(n=Count("id")).values_list("grid_id", "n"))
    grids = Grid.objects.visible_to(user).filter(community=community).only("code", "name")
    households = Household.objects.visible_to(user, "view_aggregates").filter(community=community).count()
    total = totals["total"]

    def tally(param: str, value: str, label: Any, count: int, colour: str = "") -> Tally:
        return Tally(param, value, str(label), count, round(count * 100 / total) if total else 0, colour)

    return LedgerCounts(
        residents=total,
        households=households,
        by_grid=[tally("grid", grid.code, grid.name, per_grid.get(grid.id, 0)) for grid in grids],
        by_status=[
            tally("status", value, label, totals[f"s_{value}"], STATUS_COLOURS[value])
            for value, label in Status.choices
        ],
        by_flag=[tally("flag", flag, label, totals[f"f_{flag}"]) for flag, label in FLAG_LABELS.items()],
        by_person_type=[
            tally("person_type", value, label, totals[f"p_{value}"]) for value, label in Resident.PersonType.choices
        ],
    )
