"""Who may guard a gate when (轮流值守): the duty roster, and the temporary grants that stand in for it.

A guard scans at a gate only inside a shift of theirs at that gate, or while a
temporary grant (a membership with an end, given by someone) covers the gate. The
check is made at the moment of the scan, so a scan recorded offline on shift and
sent after the shift ended still counts.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q

from firstline import prepared
from firstline.accounts.models import Membership
from firstline.accounts.roles import role_can
from firstline.gates.models import Shift
from firstline.places.models import Gate


def shift_at(user: Any, gate: Gate, at: datetime) -> Shift | None:
    """The user's shift at ``gate`` covering ``at``, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    # Written once (``firstline.prepared`` says why): every scan asks.
    at = prepared.param(Shift, "starts_at", at)
    rows = prepared.fetch(_shift_at_sql(connection.vendor), [gate.id, user.pk, at, at])
    return prepared.instance(Shift, rows[0]) if rows else None


@functools.cache
def _shift_at_sql(vendor: str) -> str:
    """``Shift.objects.filter(gate=, guard=, starts_at__lte=at, ends_at__gt=at).order_by("starts_at").first()``."""
    starts_at = prepared.column(Shift, "starts_at")
    return (
        f"SELECT {prepared.columns(Shift)} FROM {prepared.table(Shift)}"  # noqa: S608 (names from _meta)
        f" WHERE {prepared.column(Shift, 'gate')} = %s AND {prepared.column(Shift, 'guard')} = %s"
        f" AND {starts_at} <= %s AND {prepared.column(Shift, 'ends_at')} > %s ORDER BY {starts_at} LIMIT 1"
    )


def granted_at(user: Any, gate: Gate, at: datetime) -> Membership | None:
    """A temporary grant of the user that lets them guard ``gate`` at ``at``, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    grants = (
        Membership.objects.active(at)
        .filter(user=user, ends_at__isnull=False, granted_by__isnull=False)
        .filter(
            Q(level=Membership.Level.GATE, gate_id=gate.id)
            | Q(level=Membership.Level.COMMUNITY, community_id=gate.community_id)
            | Q(level=Membership.Level.STREET, street_id=gate.street_id)
        )
    )
    return next((grant for grant in grants if role_can(grant.role, "guard_gate")), None)


def on_duty(user: Any, gate: Gate, at: datetime) -> tuple[bool, Shift | None]:
    """May the user scan at ``gate`` at ``at``, and under which shift (None under a temporary grant)."""
    shift = shift_at(user, gate, at)
    if shift is not None:
        return True, shift
    return granted_at(user, gate, at) is not None, None


def on_duty_now(gate: Gate, at: datetime) -> list[Shift]:
    """The shifts of ``gate`` covering ``at`` (who is on now)."""
    return list(
        Shift.objects.filter(gate=gate, starts_at__lte=at, ends_at__gt=at).select_related("guard").order_by("starts_at")
    )
