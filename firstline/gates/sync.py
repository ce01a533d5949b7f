"""What a gate phone downloads to check passes offline (``GET /api/v1/gates/{code}/sync``).

The keys that still verify, the community's signed revocation list, the rules, the
caller's shifts at the gate, and the short codes of the passes valid there now —
so that a code typed when the camera cannot read the QR is checked offline too. No
name, no ID number: a short code is the top 35 bits of a random serial.

The short codes are sent compactly, grouped by (kind, gate, rule, valid until): each
group's codes sorted, as LEB128 varints of the differences, in base64. A pass's
"valid until" is rounded down to the hour, and capped at the hour after the list
goes stale: the phone refuses everything once the list is older than
``list_max_age_hours``, so a pass valid beyond that needs no more precise end, and
the passes of a community fall into a few groups instead of one per hour of the
next month (fewer, denser groups: smaller differences, shorter varints).
"""

from __future__ import annotations

import base64
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from firstline.gates import duty, tokens
from firstline.gates.actions import current_revocations, publish_revocations, verifying_keys
from firstline.gates.models import Pass, RevocationList, Shift
from firstline.gates.rules import gate_rules_for
from firstline.places.models import Gate
from firstline.status.rules import rules_for

HOUR = 3600
SHIFTS_AHEAD = timedelta(hours=48)
# A sync republishes the community's list (same serials, new version and time) when its newest is
# older than this, so that a quiet community's gates do not go stale while nothing is revoked.
REPUBLISH_AFTER = timedelta(hours=1)


def varints(values: list[int]) -> bytes:
    """Sorted non-negative ints as LEB128 varints of their differences (the first from 0)."""
    out = bytearray()
    previous = 0
    for value in values:
        delta = value - previous
        previous = value
        while delta >= 0x80:
            out.append((delta & 0x7F) | 0x80)
            delta >>= 7
        out.append(delta)
    return bytes(out)


def read_varints(data: bytes) -> list[int]:
    """The inverse of ``varints`` (the gate app does the same in JavaScript)."""
    values, value, shift, previous = [], 0, 0, 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            previous += value
            values.append(previous)
            value, shift = 0, 0
    return values


def fresh_revocations(community_id: int, now: datetime) -> RevocationList:
    latest = current_revocations(community_id)
    if now - latest.issued_at <= REPUBLISH_AFTER:
        return latest
    try:
        with transaction.atomic():
            return publish_revocations(community_id, now)
    except IntegrityError:  # another gate's sync published the same version a moment ago
        return current_revocations(community_id)


def pass_groups(gate: Gate, now: datetime, horizon: int) -> list[dict[str, Any]]:
    """The short codes of the passes usable at ``gate`` now, grouped (see the module docstring)."""
    rows = (
        Pass.objects.filter(
            community_id=gate.community_id,
            state=Pass.State.ACTIVE,
            valid_from__lte=now,
            valid_until__gt=now,
        )
        .filter(Q(gate__isnull=True) | Q(gate_id=gate.id))
        .values_list("kind", "gate_id", "rule", "valid_until", "serial")
    )
    shift = 63 - tokens.SHORT_CODE_BITS  # the short code is the serial's top bits (tokens.short_code)
    groups: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    for kind, gate_id, rule, valid_until, serial in rows.iterator(chunk_size=5000):
        until = min(int(valid_until.timestamp()) // HOUR * HOUR, horizon)
        groups[(Pass.KIND_NUMBERS[kind], gate_id or 0, rule, until)].append(serial >> shift)
    return [
        {
            "kind": kind,
            "gate": gate_id,
            "rule": rule,
            "valid_until": until,
            "count": len(values),
            "codes": base64.b64encode(varints(sorted(values))).decode(),
        }
        for (kind, gate_id, rule, until), values in sorted(groups.items())
    ]


def my_duty(user: Any, gate: Gate, now: datetime) -> dict[str, Any]:
    shifts = Shift.objects.filter(gate=gate, guard=user, ends_at__gt=now, starts_at__lt=now + SHIFTS_AHEAD).order_by(
        "starts_at"
    )
    grant = duty.granted_at(user, gate, now)
    return {
        "granted": grant is not None,
        "shifts": [
            {"start": int(starts.timestamp()), "end": int(ends.timestamp())}
            for starts, ends in shifts.values_list("starts_at", "ends_at")
        ],
        "granted_until": int(grant.ends_at.timestamp()) if grant is not None and grant.ends_at else None,
    }


def sync_payload(user: Any, gate: Gate, now: datetime) -> dict[str, Any]:
    """The whole sync of ``gate`` for ``user`` (already checked: guard_gate there)."""
    revocations = fresh_revocations(gate.community_id, now)
    rules = rules_for(gate.community_id)
    gate_rules = gate_rules_for(gate.community_id)
    issued_at = int(revocations.issued_at.timestamp())
    # The first whole hour after the list goes stale: a pass valid until then is valid for the list's life.
    horizon = (issued_at + gate_rules.list_max_age_hours * HOUR) // HOUR * HOUR + HOUR
    return {
        "gate": {"id": gate.id, "code": gate.code, "community": gate.community_id},
        "generated_at": int(now.timestamp()),
        "server_time": now.timestamp(),
        "keys": [
            {"key_id": key_id, "public_key": base64.b64encode(public).decode()}
            for key_id, public in sorted(verifying_keys(now).items())
        ],
        "revocations": {
            "community": revocations.community_id,
            "version": revocations.version,
            "issued_at": issued_at,
            # Serials as 16 hex digits: as they sit in the token (and never mistaken for an ID number).
            "serials": [f"{serial:016x}" for serial in revocations.serials],
            "suspended": [f"{serial:016x}" for serial in revocations.suspended],
            "key_id": revocations.key_id,
            "signature": base64.b64encode(bytes(revocations.signature)).decode(),
        },
        "rules": {
            "fever_threshold": str(rules.fever_threshold),
            "list_max_age_hours": gate_rules.list_max_age_hours,
            "outing_people": gate_rules.outing_people,
            "outing_every_days": gate_rules.outing_every_days,
            "outing_hours": gate_rules.outing_hours,
        },
        "passes": {"bits": tokens.SHORT_CODE_BITS, "horizon": horizon, "groups": pass_groups(gate, now, horizon)},
        "me": my_duty(user, gate, now),
    }
