"""Passes API: issue and revoke passes, and the gate's sync (keys, revocation list, rules) for offline checks.

The sync is what a gate phone needs to check passes without signal: the public
keys that still verify, the community's newest signed revocation list, the rules and
the short codes of the valid passes (``gates.sync``) — no personal data. Passes are
named by code; outside the caller's scope is 404.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from ninja import Field, Router, Schema, Status

from firstline.accounts.api import Error
from firstline.gates.actions import (
    do_issue_pass,
    do_revoke_pass,
    token_for,
)
from firstline.gates.models import Pass
from firstline.gates.sync import sync_payload
from firstline.people.models import Resident
from firstline.places.models import Gate
from firstline.scoping import get_visible_or_404, role_for

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
    reason: str = Field(max_length=200)


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


@router.get("/gates/{code}/sync", response={200: dict, 403: Error, 404: Error}, summary="What a gate checks offline")
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
