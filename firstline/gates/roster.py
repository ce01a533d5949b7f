"""The duty roster of a gate (轮流值守): shifts set and removed, rotations filled, notes handed over.

A shift is set by whoever builds the gate's community (``manage_places`` over the
gate: its community administrator, the street officer). Its guard must hold
``guard_gate`` over the gate (a gate guard of that gate, a community worker or
administrator of its community). A guard stands at one gate at a time, so shifts
of the same guard never overlap; a shift lasts at most a day. What has begun is
history: a shift that has started is not removed, and one that has ended is not
added afterwards (a shift makes a guard's scans count, it is not back-dated).

The guard of a shift writes the handover note at its end; the next guard of the
gate sees the newest note handed over (``last_handover``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.audit.log import record
from firstline.gates.models import Shift
from firstline.places.models import Gate
from firstline.scoping import require, role_for

MAX_SHIFT = timedelta(hours=24)
HANDOVER_GRACE = timedelta(hours=6)  # a guard may still write the note this long after the shift ended
ROTATION_HOURS = (4, 6, 8, 12, 24)  # shift lengths that divide a day
MAX_ROTATION_DAYS = 14


def may_guard(user: Any, gate: Gate) -> bool:
    """Whether ``user`` holds ``guard_gate`` over ``gate`` now (a membership or a temporary grant)."""
    return bool(role_for(user, "guard_gate", gate))


def _clashes(guard: Any, starts_at: datetime, ends_at: datetime) -> QuerySet[Shift]:
    """The guard's shifts (at any gate) that overlap [starts_at, ends_at)."""
    return Shift.objects.filter(guard=guard, starts_at__lt=ends_at, ends_at__gt=starts_at)


def _check_shift(gate: Gate, guard: Any, starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if guard is None or not may_guard(guard, gate):
        raise ValidationError({"guard": _("This person may not guard this gate.")})
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("A shift ends after it starts.")})
    if ends_at - starts_at > MAX_SHIFT:
        raise ValidationError({"ends_at": _("A shift lasts at most 24 hours.")})
    if ends_at <= now:
        raise ValidationError({"ends_at": _("This shift is over: a roster is not written afterwards.")})
    if _clashes(guard, starts_at, ends_at).exists():
        raise ValidationError({"starts_at": _("This guard is already on duty at that time.")})


def do_add_shift(
    actor: Any, gate: Gate, guard: Any, starts_at: datetime, ends_at: datetime, request: Any = None
) -> Shift:
    """Put ``guard`` on duty at ``gate`` from ``starts_at`` until ``ends_at`` (``manage_places`` over the gate)."""
    role = require(actor, "manage_places", gate)
    with transaction.atomic():
        _check_shift(gate, guard, starts_at, ends_at, timezone.now())
        shift = Shift.objects.create(
            gate=gate,
            street_id=gate.street_id,
            community_id=gate.community_id,
            guard=guard,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=actor,
        )
        record("create", actor=actor, role=role, obj=shift, detail={"gate": gate.code}, request=request)
    return shift


def do_remove_shift(actor: Any, shift: Shift, request: Any = None) -> None:
    """Take a shift off the roster before it starts (``manage_places`` over its gate)."""
    role = require(actor, "manage_places", shift)
    if shift.starts_at <= timezone.now():
        raise ValidationError(_("This shift has started: it stays on the roster."))
    with transaction.atomic():
        record("delete", actor=actor, role=role, obj=shift, detail={"gate": shift.gate.code}, request=request)
        shift.delete()


def do_hand_over(actor: Any, shift: Shift, note: str, request: Any = None) -> Shift:
    """The guard of ``shift`` writes what the next guard must know; written again, it replaces the note."""
    role = require(actor, "guard_gate", shift)
    if shift.guard_id != actor.id:
        raise PermissionDenied
    now = timezone.now()
    note = note.strip()
    if shift.starts_at > now:
        raise ValidationError(_("This shift has not started yet."))
    if now > shift.ends_at + HANDOVER_GRACE:
        raise ValidationError(_("This shift ended too long ago to hand it over now."))
    if not note:
        raise ValidationError({"note": _("Write what the next guard needs to know.")})
    if len(note) > 1000:
        raise ValidationError({"note": _("Keep the note under 1000 characters.")})
    with transaction.atomic():
        shift.handover_note, shift.handed_over_at = note, now
        shift.save(update_fields=["handover_note", "handed_over_at"])
        record("update", actor=actor, role=role, obj=shift, detail={"fields": ["handover_note"]}, request=request)
    return shift


# --- rotations -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    guard: Any
    starts_at: datetime
    ends_at: datetime


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def roster_rotation(gate: Gate, guards: list[Any], start_day: date, days: int, hours_per_shift: int) -> list[Slot]:
    """The slots of a rotation around the clock: from ``start_day`` 00:00 for ``days`` days, the guards
    taking turns in shifts of ``hours_per_shift`` (3 guards × 8 h: the same guard keeps the same hours)."""
    if hours_per_shift not in ROTATION_HOURS:
        raise ValidationError({"hours": _("Choose a shift length that divides the day (4, 6, 8, 12 or 24 hours).")})
    if not guards:
        raise ValidationError({"guards": _("Choose at least one guard.")})
    if not 1 <= days <= MAX_ROTATION_DAYS:
        raise ValidationError({"days": _("A rotation covers 1 to 14 days.")})
    per_day = 24 // hours_per_shift
    slots = []
    for day in range(days):
        midnight = day_start(start_day + timedelta(days=day))
        for number in range(per_day):
            # Local midnight + hours: on a day when the clock changes the next day's midnight still starts a slot.
            starts_at = midnight + timedelta(hours=number * hours_per_shift)
            ends_at = midnight + timedelta(hours=(number + 1) * hours_per_shift)
            if number == per_day - 1:
                ends_at = day_start(start_day + timedelta(days=day + 1))
            slots.append(Slot(guards[(day * per_day + number) % len(guards)], starts_at, ends_at))
    return slots


def do_fill_rotation(
    actor: Any,
    gate: Gate,
    guards: list[Any],
    start_day: date,
    days: int = 7,
    hours_per_shift: int = 8,
    request: Any = None,
) -> tuple[list[Shift], int]:
    """Fill the gate's roster with a rotation; returns the shifts added and the number of slots left out
    (over already, the gate already covered then, or the guard on duty elsewhere)."""
    role = require(actor, "manage_places", gate)
    for guard in guards:
        if not may_guard(guard, gate):
            raise ValidationError({"guards": _("This person may not guard this gate.")})
    slots = roster_rotation(gate, guards, start_day, days, hours_per_shift)
    now = timezone.now()
    with transaction.atomic():
        taken = list(
            Shift.objects.filter(
                Q(gate=gate) | Q(guard__in=guards), starts_at__lt=slots[-1].ends_at, ends_at__gt=slots[0].starts_at
            ).values_list("gate_id", "guard_id", "starts_at", "ends_at")
        )
        new: list[Shift] = []
        for slot in slots:
            overlapping = [t for t in taken if t[2] < slot.ends_at and t[3] > slot.starts_at]
            if slot.ends_at <= now or any(t[0] == gate.id or t[1] == slot.guard.id for t in overlapping):
                continue
            new.append(
                Shift(
                    gate=gate,
                    street_id=gate.street_id,
                    community_id=gate.community_id,
                    guard=slot.guard,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                    created_by=actor,
                )
            )
        Shift.objects.bulk_create(new)
        record(
            "create",
            actor=actor,
            role=role,
            obj=gate,
            object_type="roster",
            detail={"shifts": len(new), "days": days, "hours": hours_per_shift, "guards": len(guards)},
            request=request,
        )
    return new, len(slots) - len(new)


# --- reads -----------------------------------------------------------------------------------------


def last_handover(gate: Gate, at: datetime) -> Shift | None:
    """The newest note handed over at ``gate`` by a shift that had started by ``at``."""
    return (
        Shift.objects.filter(gate=gate, handed_over_at__isnull=False, starts_at__lte=at)
        .select_related("guard")
        .order_by("-ends_at", "-handed_over_at")
        .first()
    )


def possible_guards(gate: Gate) -> list[Any]:
    """The users who may be put on duty at ``gate``: its own guards first, then the community's staff who guard."""
    from firstline.accounts.models import Membership
    from firstline.accounts.roles import role_can

    memberships = (
        Membership.objects.active()
        .filter(Q(level="gate", gate_id=gate.id) | Q(level="community", community_id=gate.community_id))
        .select_related("user")
        .order_by("-level", "user__full_name", "user__username")  # "gate" sorts after "community": reversed
    )
    seen: dict[int, Any] = {}
    for membership in memberships:
        if role_can(membership.role, "guard_gate") and membership.user.is_active:
            seen.setdefault(membership.user_id, membership.user)
    return list(seen.values())
