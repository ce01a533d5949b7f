"""Ledger API: residents and households, scoped, masked, paginated.

A thin layer over ``people.queries`` and ``people.actions``: the list is
``residents_for`` (the same query as the web list), single records come through
``get_visible_or_404``, and opening a full record is audited by ``read_full_resident``.
An exact ID number or phone never travels in a URL (URLs end up in logs): GET
refuses it and points to ``POST /residents/search``, which takes the same filters
in its body.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router
from ninja.errors import HttpError

from firstline.accounts.api import Error
from firstline.audit.actions import do_hand_out_records
from firstline.people.actions import read_full_resident
from firstline.people.idcard import domicile_shown_masked
from firstline.people.models import Movement, Resident
from firstline.people.queries import ResidentFilter, residents_for, search_kind
from firstline.people.schemas import HouseholdOut, ResidentDetail, ResidentFilters, ResidentPage
from firstline.places.models import Household
from firstline.scoping import get_visible_or_404
from firstline.status.api import open_orders

router = Router(tags=["ledger"])

# What an item needs besides the resident row, fetched in the same query.
ITEM_RELATED = ("household", "household__building", "household__entrance", "grid", "community")


def resident_item(resident: Resident, today: date) -> dict[str, Any]:
    """One resident as the API shows it: public codes only, ID number and phone masked."""
    household = resident.household
    return {
        "code": resident.code,
        "name": resident.name,
        "sex": resident.sex,
        "age": resident.age(today),
        "id_type": resident.id_type,
        "id_number": resident.id_number_masked,
        "phone": resident.phone_masked,
        "relation_to_head": resident.relation_to_head,
        "person_type": resident.person_type,
        "flags": resident.flags,
        "status": resident.status,
        "household": household.code,
        "address": household.address,
        "grid": resident.grid.code,
        "building": household.building.code,
        "community": resident.community.code,
        "version": resident.version,
    }


def _page(request: HttpRequest, filters: ResidentFilters) -> dict[str, Any]:
    size = filters.page_size or settings.LEDGER_PAGE_SIZE
    queryset = residents_for(
        request.user, ResidentFilter.from_params(filters.model_dump()), request=request
    ).select_related(*ITEM_RELATED)
    count = queryset.count()
    start = (filters.page - 1) * size
    rows = list(queryset[start : start + size]) if start < count else []
    do_hand_out_records(request.user, "residents", len(rows), request=request)
    today = timezone.localdate()
    return {
        "count": count,
        "page": filters.page,
        "pages": math.ceil(count / size),
        "items": [resident_item(resident, today) for resident in rows],
    }


@router.get("/residents", response={200: ResidentPage, 400: Error, 429: Error}, summary="List residents in scope")
def list_residents(request: HttpRequest, filters: Query[ResidentFilters]) -> Any:
    if filters.q and search_kind(filters.q) != "name":
        raise HttpError(
            400,
            _(
                "Do not put an ID number or phone in the URL: search for it with POST /api/v1/residents/search "
                "and the filters in the JSON body."
            ),
        )
    return _page(request, filters)


@router.post(
    "/residents/search",
    response={200: ResidentPage, 403: Error, 429: Error},
    summary="List residents in scope; the filters, an exact ID number or phone included, in the body",
)
def search_residents(request: HttpRequest, filters: ResidentFilters) -> Any:
    return _page(request, filters)


@router.get("/residents/{code}", response={200: ResidentDetail, 404: Error}, summary="One resident's full record")
def get_resident(request: HttpRequest, code: str) -> Any:
    """The full record, still masked, with movements, the colour and open isolation orders. Opening it is audited."""
    resident = get_visible_or_404(Resident.objects.visible_to(request.user).select_related(*ITEM_RELATED), code=code)
    read_full_resident(request.user, resident, request=request)
    movements = Movement.objects.visible_to(request.user).filter(resident=resident).order_by("-recorded_at", "-id")
    return {
        **resident_item(resident, timezone.localdate()),
        "domicile": domicile_shown_masked(resident.domicile),
        "workplace": resident.workplace,
        "notes": resident.notes,
        "left_at": resident.left_at,
        "updated_at": resident.updated_at,
        "movements": [
            {
                "code": movement.code,
                "direction": movement.direction,
                "origin": movement.origin,
                "destination": movement.destination,
                "departed_on": movement.departed_on,
                "arrived_on": movement.arrived_on,
                "transport": movement.transport,
                "trip_number": movement.trip_number,
                "notes": movement.notes,
                "recorded_at": movement.recorded_at,
            }
            for movement in movements
        ],
        "open_orders": open_orders(request.user, resident),
    }


@router.get(
    "/households/{code}", response={200: HouseholdOut, 404: Error, 429: Error}, summary="One household and its members"
)
def get_household(request: HttpRequest, code: str) -> Any:
    household = get_visible_or_404(
        Household.objects.visible_to(request.user).select_related("building", "entrance", "grid", "community"),
        code=code,
    )
    members = list(
        Resident.objects.visible_to(request.user)
        .filter(household=household, left_at__isnull=True)
        .select_related(*ITEM_RELATED)
        .order_by("id")
    )
    do_hand_out_records(request.user, "household", len(members), community_id=household.community_id, request=request)
    today = timezone.localdate()
    return {
        "code": household.code,
        "address": household.address,
        "room": household.room,
        "floor": household.floor,
        "entrance": household.entrance.number if household.entrance else None,
        "building": household.building.code,
        "grid": household.grid.code,
        "community": household.community.code,
        "members": [resident_item(resident, today) for resident in members],
    }
