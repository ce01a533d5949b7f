"""The one audit writer and its verifier."""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def derived_key(purpose: str) -> bytes:
    """A key for one purpose (``head``, ``anchor``), derived from the audit key, never stored."""
    return hmac.new(settings.AUDIT_KEY.encode(), f"firstline-audit-{purpose}".encode(), hashlib.sha256).digest()


def head_mac(last_id: int, last_digest: str, count: int) -> str:
    """The chain head's MAC: without the audit key, the head cannot be rewritten to match a cut chain."""
    body = json.dumps([int(last_id), last_digest, int(count)], separators=(",", ":"))
    return hmac.new(derived_key("head"), body.encode(), hashlib.sha256).hexdigest()


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
    """The client's address: REMOTE_ADDR, or behind a trusted proxy the address the proxy saw.

    Only when REMOTE_ADDR is one of ``settings.TRUSTED_PROXIES`` is the proxy's header
    (``settings.CLIENT_IP_HEADER``) read, from its right end: the last address that is not
    itself a trusted proxy is the client (what a client writes first can be forged, what
    the proxies append cannot). The one door for the audit log, the login lockout and limits.
    """
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = _trusted(tuple(settings.TRUSTED_PROXIES))
    if remote is None or not proxies or not _within(remote, proxies):
        return remote
    header = "HTTP_" + settings.CLIENT_IP_HEADER.upper().replace("-", "_")
    for candidate in reversed(request.META.get(header, "").split(",")):
        candidate = candidate.strip()
        try:
            ipaddress.ip_address(candidate)
        except ValueError:
            return remote  # a header the proxy did not write: trust none of it
        if not _within(candidate, proxies):
            return candidate
    return remote


@functools.cache
def _trusted(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())


def _within(address: str, networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


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
    with transaction.atomic(savepoint=False):  # one event with its head: no savepoint of its own
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
        head.mac = head_mac(head.last_id, head.last_digest, head.count)
        head.save()
    return event


def _when(at: str) -> str:
    """An anchor's time as a person reads it: date, hour and minute (UTC)."""
    return at[:16].replace("T", " ") + " UTC" if len(at) >= 16 else at


@dataclass
class Verdict:
    ok: bool
    checked: int
    problems: list[str]


def verify(batch: int = 5000, also: list[str] | None = None) -> Verdict:
    """Walk the chain from the start; report every broken link, edit, deletion or truncation.

    The head row is checked against its MAC, and the chain against every anchor kept
    outside the database (``$DATA_DIR/audit/anchors.jsonl`` and the ``also`` files):
    each anchored event must still be in the chain, at its place, with its digest.
    """
    from firstline.audit import anchors as anchor_files

    problems: list[str] = []
    anchored: dict[int, list[anchor_files.Anchor]] = {}
    for anchor in anchor_files.read_all(also):
        if anchor.problem:
            problems.append(anchor.problem)
        else:
            anchored.setdefault(anchor.count, []).append(anchor)
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
                    _("event %(id)s: link to the previous event is broken (a row before it was removed or changed)")
                    % {"id": event.id}
                )
            if not hmac.compare_digest(event.digest, _digest(event.prev_digest, event)):
                problems.append(_("event %(id)s: content does not match its digest (edited)") % {"id": event.id})
            prev = event.digest
            last_id = event.id
            checked += 1
            for anchor in anchored.pop(checked, []):
                if anchor.last_id != event.id or not hmac.compare_digest(anchor.last_digest, event.digest):
                    problems.append(
                        _(
                            "the anchor of %(at)s does not match the log: event number %(count)s was removed or "
                            "changed after it was anchored"
                        )
                        % {"at": _when(anchor.at), "count": anchor.count}
                    )
    for count in sorted(anchored):
        for anchor in anchored[count]:
            problems.append(
                _(
                    "the anchor of %(at)s counted %(count)s events but the log holds only %(checked)s: "
                    "the newest events were removed"
                )
                % {"at": _when(anchor.at), "count": anchor.count, "checked": checked}
            )
    head = AuditHead.objects.filter(id=1).first()
    if head is not None:
        if not hmac.compare_digest(head.mac, head_mac(head.last_id, head.last_digest, head.count)):
            problems.append(_("the chain head was rewritten without the audit key (its signature does not match)"))
        if head.count != checked:
            problems.append(
                _("the log holds %(checked)s events but %(count)s were written")
                % {"checked": checked, "count": head.count}
            )
        if head.last_digest and head.last_digest != prev:
            problems.append(_("the newest events were removed or changed (the chain end does not match)"))
    elif checked:
        problems.append(_("the chain head is missing"))
    return Verdict(ok=not problems, checked=checked, problems=problems)
