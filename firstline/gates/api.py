"""Passes API: issue and revoke passes, and the gate's sync (keys, revocation list, rules) for offline checks.

The sync is what a gate phone needs to check passes without signal: the public
keys that still verify, the community's newest signed revocation list, the rules and
the short codes of the valid passes (``gates.sync``) — no personal data. Passes are
named by code; outside the caller's scope is 404.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from firstline.accounts.api import GATE_DEVICES, Error
from firstline.gates.actions import (
    do_issue_pass,
    do_revoke_pass,
    token_for,
)
from firstline.gates.models import Pass, Scan
from firstline.gates.scanning import CONFLICT, ScanResult, ingest_scans, ingest_visits
from firstline.gates.sync import sync_payload
from firstline.people.models import Resident
from firstline.places.models import Gate
from firstline.schemas import FreeText, Moment
from firstline.scoping import get_visible_or_404, memberships_with, role_for

router = Router(tags=["gates"])


class PassIn(Schema):
    resident: str = Field(max_length=16, description="resident code")
    kind: str = Field("outing", max_length=10, description="outing, worker, vehicle or visitor")
    days: int | None = Field(None, ge=1, le=31, description="validity in days (default by kind)")
    gate: str | None = Field(None, max_length=16, description="gate code; empty: any gate of the community")
    plate: str = Field("", max_length=16, description="vehicle passes: the plate number")


class PassOut(Schema):
    code: str
    token: str = Field(description="signed token, shown as a QR code")
    kind: str
    state: str = Field(description="active, suspended (household under isolation) or revoked")
    masked_name: str
    valid_from: datetime
    valid_until: datetime


class RevokeIn(Schema):
    reason: FreeText = Field(max_length=200)


def _out(item: Pass) -> dict[str, Any]:
    return {
        "code": item.code,
        "token": token_for(item),
        "kind": item.kind,
        "state": item.state,
        "masked_name": item.masked_name,
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
    }


@router.post("/passes", response={201: PassOut, 400: Error, 403: Error, 404: Error}, summary="Issue a pass")
def issue_pass(request: HttpRequest, body: PassIn) -> Any:
    resident = get_visible_or_404(Resident.objects.visible_to(request.user), code=body.resident)
    gate = get_visible_or_404(Gate.objects.visible_to(request.user), code=body.gate) if body.gate else None
    item, _token = do_issue_pass(
        request.user, resident, body.kind, days=body.days, gate=gate, plate=body.plate, request=request
    )
    return Status(201, _out(item))


@router.post("/passes/{code}/revoke", response={200: PassOut, 400: Error, 403: Error, 404: Error})
def revoke_pass(request: HttpRequest, code: str, body: RevokeIn) -> Any:
    item = get_visible_or_404(Pass.objects.visible_to(request.user), code=code)
    return _out(do_revoke_pass(request.user, item, body.reason, request=request))


@router.get(
    "/gates/{code}/sync",
    auth=GATE_DEVICES,
    response={200: dict, 403: Error, 404: Error},
    summary="What a gate checks offline",
)
def gate_sync(request: HttpRequest, code: str) -> Any:
    """Keys, the signed revocation list, rules, the caller's shifts and the short codes of the valid passes
    (``gates.sync``). Sent gzip-compressed when the client accepts it (the project does not compress
    pages; this one is large and the gate phone is often on a weak signal): 20,000 passes are ~94 KB raw, ~70 KB
    compressed."""
    gate = get_visible_or_404(Gate.objects.visible_to(request.user), code=code)
    if not role_for(request.user, "guard_gate", gate):
        raise PermissionDenied
    payload = sync_payload(request.user, gate, timezone.now())
    response = HttpResponse(json.dumps(payload, separators=(",", ":")), content_type="application/json")
    response["Cache-Control"] = "no-store"
    patch_vary_headers(response, ["Accept-Encoding"])
    if "gzip" in request.headers.get("Accept-Encoding", "").lower():
        response.content = compress_string(response.content)
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(response.content))
    return response


# --- scans and visits sent by gate phones -----------------------------------------------------------

MAX_BATCH = 500


class ScanIn(Schema):
    client_id: uuid.UUID = Field(description="made on the phone: the same scan sent twice is stored once")
    token: str | None = Field(None, max_length=400, description="the QR code's text")
    short_code: str | None = Field(None, max_length=16, description="the 7 characters under the QR, when typed")
    gate: str = Field(max_length=16, description="gate code")
    direction: Literal["in", "out"]
    temperature: Decimal | None = Field(None, description="°C, 34.0 to 43.0")
    scanned_at: datetime = Field(description="ISO 8601 with its offset")


class VisitIn(Schema):
    client_id: uuid.UUID
    kind: Literal["visitor", "vehicle"]
    gate: str = Field(max_length=16)
    direction: Literal["in", "out"] = "in"
    name: str = Field("", max_length=50, description="the visitor, or the driver")
    phone: str = Field("", max_length=20)
    origin: str = Field("", max_length=100, description="coming from")
    host: str = Field("", max_length=100, description="household visited (address)")
    reason: str = Field("", max_length=200)
    plate: str = Field("", max_length=16)
    cargo: str = Field("", max_length=100)
    temperature: Decimal | None = None
    at: datetime = Field(description="ISO 8601 with its offset")


class ResultOut(Schema):
    client_id: str
    status: str = Field(description="stored, duplicate, conflict or rejected")
    verdict: str = Field(description="passed, flagged or refused; empty when rejected")
    reason: str = Field(description="why refused, rejected or flagged (a code)")
    flags: list[str]
    message: str = Field(description="the reason in words, in the request's language")


class ResultsOut(Schema):
    results: list[ResultOut]


def _results(results: list[ScanResult]) -> Any:
    body = {
        "results": [
            {
                "client_id": str(result.client_id),
                "status": result.status,
                "verdict": result.verdict,
                "reason": result.reason,
                "flags": result.flags,
                "message": result.message,
            }
            for result in results
        ]
    }
    return Status(409 if any(result.status == CONFLICT for result in results) else 200, body)


def _may_send(request: HttpRequest, count: int) -> None:
    if not memberships_with(request.user, "guard_gate"):
        raise PermissionDenied
    if not 1 <= count <= MAX_BATCH:
        raise ValidationError(_("Send between 1 and %(max)s records at a time.") % {"max": MAX_BATCH})


@router.post(
    "/scans",
    auth=GATE_DEVICES,
    response={200: ResultsOut, 400: Error, 403: Error, 409: ResultsOut},
    summary="Send the scans a gate phone recorded",
)
def send_scans(request: HttpRequest, body: list[ScanIn]) -> Any:
    """Each scan is stored once by ``client_id``; 409 when any was sent before with other content."""
    _may_send(request, len(body))
    return _results(ingest_scans(request.user, [item.dict() for item in body], request=request))


@router.post(
    "/visits",
    auth=GATE_DEVICES,
    response={200: ResultsOut, 400: Error, 403: Error, 409: ResultsOut},
    summary="Send the visitors and vehicles a gate phone registered",
)
def send_visits(request: HttpRequest, body: list[VisitIn]) -> Any:
    _may_send(request, len(body))
    return _results(ingest_visits(request.user, [item.dict() for item in body], request=request))


class GateScanOut(Schema):
    short_code: str = Field(description="of the pass; empty when the pass is unknown")
    kind: str
    masked_name: str
    direction: str
    verdict: str
    reason: str
    flags: list[str]
    temperature: float | None
    scanned_at: datetime
    guard: str = Field(description="who recorded it")


class GateScansOut(Schema):
    scans: list[GateScanOut]


class SinceIn(Schema):
    since: Moment | None = Field(None, description="with its time zone; default: the last 24 hours")


RECENT = timedelta(hours=24)
MAX_LISTED = 200


@router.get(
    "/gates/{code}/scans",
    auth=GATE_DEVICES,
    response={200: GateScansOut, 403: Error, 404: Error},
    summary="A gate's recent scans",
)
def gate_scans(request: HttpRequest, code: str, query: Query[SinceIn]) -> Any:
    """The newest scans of the gate (at most 200): masked names only, for the gate app's history."""
    gate = get_visible_or_404(Gate.objects.visible_to(request.user), code=code)
    if not role_for(request.user, "guard_gate", gate):
        raise PermissionDenied
    since = query.since or timezone.now() - RECENT
    scans = (
        Scan.objects.filter(gate=gate, scanned_at__gte=since)
        .select_related("pass_obj", "recorded_by")
        .order_by("-scanned_at", "-id")[:MAX_LISTED]
    )
    return {"scans": [_gate_scan(scan) for scan in scans]}


def _gate_scan(scan: Scan) -> dict[str, Any]:
    held = scan.pass_obj
    return {
        "short_code": held.short_code if held else "",
        "kind": held.kind if held else "",
        "masked_name": held.masked_name if held else "",
        "direction": scan.direction,
        "verdict": scan.verdict,
        "reason": scan.reason,
        "flags": scan.flags,
        "temperature": float(scan.temperature) if scan.temperature is not None else None,
        "scanned_at": scan.scanned_at,
        "guard": scan.recorded_by.display_name(),
    }
