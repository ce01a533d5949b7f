"""Screening API: arrivals, check-ins and referral steps, over ``status.actions``.

Residents and households are named by code and found through ``get_visible_or_404``
(outside the caller's scope is 404). An action's refusal is answered by
``firstline.api``: ``ValidationError`` → 400, ``PermissionDenied`` → 403, both as
``{"detail": ...}`` in the request's language. Check-ins are idempotent by the
device's ``client_id``: the first one is 201, the same one again is 200 with the
same body, and another payload under the same id is 409 (the conflict is kept).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status

from firstline.accounts.api import Error
from firstline.people.models import Resident
from firstline.people.schemas import OpenOrderOut
from firstline.places.models import Household
from firstline.schemas import FreeText, Moment
from firstline.scoping import get_visible_or_404
from firstline.status.actions import CheckInConflictError, do_record_checkin, do_register_arrival, do_update_referral
from firstline.status.models import CheckIn, IsolationOrder, Referral

router = Router(tags=["screening"])


def open_orders(user: Any, resident: Resident) -> list[dict[str, Any]]:
    """The resident's open isolation orders, as the API shows them."""
    orders = IsolationOrder.objects.visible_to(user).filter(resident=resident, released_at__isnull=True)
    return [
        {
            "code": order.code,
            "kind": order.kind,
            "starts_at": order.starts_at,
            "planned_end": order.planned_end,
            "site": order.site,
        }
        for order in orders.order_by("starts_at", "id")
    ]


# --- arrivals -----------------------------------------------------------------------------------


class ArrivalIn(Schema):
    """An arrival: ``resident`` (a code in the ledger) or the new person's fields with a ``household`` code."""

    resident: str | None = Field(None, max_length=16, description="code of a resident already in the ledger")
    name: FreeText | None = Field(None, max_length=50, description="new person")
    id_number: str | None = Field(None, max_length=40, description="new person")
    phone: str | None = Field(None, max_length=40, description="new person")
    household: str | None = Field(None, max_length=16, description="new person: the household code")
    sex: str | None = Field(None, max_length=1, description="new person: M or F (read from the ID number if empty)")
    birth_date: date | None = Field(None, description="new person")
    origin: FreeText = Field(..., max_length=200, description="where from, as written, e.g. 湖北省武汉市江汉区")
    departure_date: date | None = None
    arrival_date: date | None = Field(None, description="today when empty")
    transport: str | None = Field(None, max_length=10, description="train, flight, coach, car, ship or other")
    trip_no: str | None = Field(None, max_length=30, description="train, flight or plate number")
    temperature: Decimal | None = Field(None, description="°C, if taken at arrival")
    notes: FreeText | None = Field(None, max_length=200)


class ArrivalOut(Schema):
    resident: str = Field(description="resident code")
    created: bool = Field(description="whether the person was added to the ledger")
    movement: str = Field(description="movement code")
    status: str = Field(description="home_isolation, observation, out or healthy")
    risk_area: str | None = Field(description="the risk area the origin lies in, or null")
    open_orders: list[OpenOrderOut]


@router.post(
    "/arrivals",
    response={201: ArrivalOut, 400: Error, 403: Error, 404: Error},
    summary="Register an arrival and apply the screening rules",
)
def register_arrival(request: HttpRequest, arrival: ArrivalIn) -> Any:
    trip = {
        "origin": arrival.origin,
        "departure_date": arrival.departure_date,
        "arrival_date": arrival.arrival_date,
        "transport": arrival.transport or "",
        "trip_no": arrival.trip_no or "",
        "temperature": arrival.temperature,
        "notes": arrival.notes or "",
    }
    if arrival.resident:
        resident = get_visible_or_404(Resident.objects.visible_to(request.user), code=arrival.resident)
        result = do_register_arrival(request.user, trip, resident=resident, request=request)
    else:
        if not arrival.household or not (arrival.name or "").strip():
            return Status(400, {"detail": _("Send a resident code, or the new person's name and household code.")})
        household = get_visible_or_404(Household.objects.visible_to(request.user), code=arrival.household)
        person: dict[str, Any] = {
            "name": (arrival.name or "").strip(),
            "id_number": arrival.id_number or "",
            "phone": arrival.phone or "",
        }
        if arrival.sex:
            person["sex"] = arrival.sex
        if arrival.birth_date:
            person["birth_date"] = arrival.birth_date
        result = do_register_arrival(request.user, trip, household=household, person=person, request=request)
    resident = result.resident
    resident.refresh_from_db(fields=["status"])
    return Status(
        201,
        {
            "resident": resident.code,
            "created": result.created,
            "movement": result.movement.code,
            "status": resident.status,
            "risk_area": result.risk_area.name if result.risk_area else None,
            "open_orders": open_orders(request.user, resident),
        },
    )


# --- check-ins ----------------------------------------------------------------------------------


class CheckInIn(Schema):
    client_id: UUID = Field(description="the device's id for this report: sending it again is safe")
    resident: str = Field(..., max_length=16, description="resident code")
    temperature: Decimal | None = Field(None, description="°C")
    symptoms: list[str] = Field(default_factory=list, max_length=10, description="codes, e.g. cough, fatigue")
    taken_at: Moment = Field(description="when the reading was taken, with its time zone (required)")
    note: FreeText = Field("", max_length=300)


class CheckInOut(Schema):
    code: str
    client_id: UUID
    resident: str = Field(description="resident code")
    temperature: float | None
    symptoms: list[str]
    is_fever: bool
    source: str
    taken_at: datetime


class CheckInConflictOut(Schema):
    detail: str
    checkin: str = Field(description="code of the check-in first sent under this client_id")


def checkin_item(checkin: CheckIn, resident: Resident) -> dict[str, Any]:
    return {
        "code": checkin.code,
        "client_id": checkin.client_id,
        "resident": resident.code,
        "temperature": float(checkin.temperature) if checkin.temperature is not None else None,
        "symptoms": checkin.symptoms,
        "is_fever": checkin.is_fever,
        "source": checkin.source,
        "taken_at": checkin.taken_at,
    }


@router.post(
    "/checkins",
    response={200: CheckInOut, 201: CheckInOut, 400: Error, 403: Error, 404: Error, 409: CheckInConflictOut},
    summary="Record a check-in (健康打卡), idempotent by client_id",
)
def record_checkin(request: HttpRequest, report: CheckInIn) -> Any:
    resident = get_visible_or_404(Resident.objects.visible_to(request.user), code=report.resident)
    try:
        checkin, created = do_record_checkin(
            request.user,
            resident,
            client_id=report.client_id,
            temperature=report.temperature,
            symptoms=report.symptoms,
            taken_at=report.taken_at,
            note=report.note,
            request=request,
        )
    except CheckInConflictError as conflict:
        return Status(
            409,
            {
                "detail": _("This client_id was already used for another check-in; the new one was not recorded."),
                "checkin": conflict.checkin.code,
            },
        )
    return Status(201 if created else 200, checkin_item(checkin, resident))


# --- referrals ----------------------------------------------------------------------------------


class ReferralStepIn(Schema):
    state: str = Field(..., max_length=12, description="in_transit, arrived or outcome")
    outcome: str = Field("", max_length=16, description="with outcome: negative, positive, admitted, returned_home")
    facility: FreeText = Field("", max_length=100)
    note: FreeText = Field("", max_length=300)


class ReferralOut(Schema):
    code: str
    resident: str = Field(description="resident code")
    destination: str
    facility: str
    state: str
    outcome: str
    closed: bool
    resident_status: str = Field(description="the resident's colour after this step")


@router.post(
    "/referrals/{code}",
    response={200: ReferralOut, 400: Error, 403: Error, 404: Error},
    summary="Move a referral on: in transit, arrived, outcome",
)
def update_referral(request: HttpRequest, code: str, step: ReferralStepIn) -> Any:
    referral = get_visible_or_404(Referral.objects.visible_to(request.user).select_related("resident"), code=code)
    do_update_referral(
        request.user,
        referral,
        step.state,
        outcome=step.outcome,
        facility=step.facility,
        note=step.note,
        request=request,
    )
    resident = referral.resident
    resident.refresh_from_db(fields=["status"])
    return {
        "code": referral.code,
        "resident": resident.code,
        "destination": referral.destination,
        "facility": referral.facility,
        "state": referral.state,
        "outcome": referral.outcome,
        "closed": referral.closed_at is not None,
        "resident_status": resident.status,
    }
