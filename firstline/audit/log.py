"""The one audit writer and its verifier."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from firstline.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _digest(prev: str, event: AuditEvent) -> str:
    body = json.dumps(
        [
            prev,
            event.at.isoformat(),
            event.actor_id,
            event.actor_name,
            event.role,
            event.action,
            event.object_type,
            event.object_code,
            event.community_id,
            event.reason,
            event.detail,
            event.ip,
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hmac.new(settings.AUDIT_KEY.encode(), body.encode(), hashlib.sha256).hexdigest()


def client_ip(request: Any) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor: Any = None,
    role: str = "",
    obj: Any = None,
    object_type: str = "",
    object_code: str = "",
    community_id: int | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> AuditEvent:
    """Append one event. ``detail`` holds field names and counts, never personal values."""
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_code = object_code or getattr(obj, "code", "")
        if community_id is None:
            community_id = getattr(obj, "community_id", None)
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(id=1)
        event = AuditEvent(
            at=timezone.now(),
            actor=actor,
            actor_name=actor.get_username() if actor else "",
            role=role,
            action=action,
            object_type=object_type,
            object_code=object_code,
            community_id=community_id,
            reason=reason[:200],
            detail=detail or {},
            ip=client_ip(request),
            prev_digest=head.last_digest or GENESIS,
        )
        event.digest = _digest(event.prev_digest, event)
        event.save()
        head.last_id, head.last_digest, head.count = event.id, event.digest, head.count + 1
        head.save()
    return event


@dataclass
class Verdict:
    ok: bool
    checked: int
    problems: list[str]


def verify(batch: int = 5000) -> Verdict:
    """Walk the chain from the start; report every broken link, edit, deletion or truncation."""
    problems: list[str] = []
    prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = list(AuditEvent.objects.filter(id__gt=last_id).order_by("id")[:batch])
        if not rows:
            break
        for event in rows:
            if event.prev_digest != prev:
                problems.append(
                    f"event {event.id}: link to the previous event is broken (a row before it was removed or changed)"
                )
            if not hmac.compare_digest(event.digest, _digest(event.prev_digest, event)):
                problems.append(f"event {event.id}: content does not match its digest (edited)")
            prev = event.digest
            last_id = event.id
            checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None:
        if head.count != checked:
            problems.append(f"the log holds {checked} events but {head.count} were written")
        if head.last_digest and head.last_digest != prev:
            problems.append("the newest events were removed or changed (the chain end does not match)")
    elif checked:
        problems.append("the chain head is missing")
    return Verdict(ok=not problems, checked=checked, problems=problems)
