"""Every write to the four colours: the screening rules applied by named, atomic, audited actions.

A resident's colour follows from the open facts (``status.models``): the actions
change a fact (an order, an observation, a referral, a check-in, a movement), then
``settle`` derives the colour again and, when it differs, appends a ``StatusChange``
with who and why and updates the cached ``Resident.status``, in the same transaction.
A stricter colour is therefore never replaced by a milder one: a fever under home
isolation opens a referral but leaves the resident red until the referral leaves.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.audit.log import record
from firstline.people.actions import do_check_id_number_clash, do_create_resident, do_record_movement
from firstline.people.models import Movement, Resident, Status
from firstline.places.models import Household, bump_map_version
from firstline.scoping import memberships_with, require, role_for
from firstline.status.models import (
    CheckIn,
    CheckInConflict,
    CommunityRules,
    IsolationOrder,
    Observation,
    Reason,
    Referral,
    RiskArea,
    StatusChange,
    Symptom,
)
from firstline.status.rules import Rules, risk_area_for, rules_for, window_at
from firstline.tasks.actions import close_tasks, open_task
from firstline.tasks.models import Task

# Sent inside the transaction when a home isolation order opens or closes (passes listen).
isolation_opened = Signal()  # sender=IsolationOrder, order=...
isolation_closed = Signal()  # sender=IsolationOrder, order=...

TEMPERATURE_RANGE = (Decimal("34.0"), Decimal("43.0"))
# Readings that count towards ending an observation (a gate reading does not: it is not a check-in).
CHECKIN_SOURCES = (CheckIn.Source.SELF, CheckIn.Source.WORKER, CheckIn.Source.VISIT)


# --- the colour ---------------------------------------------------------------------------------


def derived_status(resident: Resident) -> str:
    """The colour the open facts give ``resident`` (see the module docstring of ``status.models``)."""
    if Referral.objects.filter(resident=resident, closed_at__isnull=True, state__in=Referral.AWAY_STATES).exists():
        return Status.OUT
    orders = set(
        IsolationOrder.objects.filter(resident=resident, released_at__isnull=True).values_list("kind", flat=True)
    )
    if IsolationOrder.Kind.CENTRAL in orders:
        return Status.OUT
    last_movement = Movement.objects.filter(resident=resident).order_by("-id").values_list("direction", flat=True)[:1]
    if list(last_movement) == [Movement.Direction.DEPARTURE]:
        return Status.OUT
    if IsolationOrder.Kind.HOME in orders:
        return Status.HOME_ISOLATION
    if Observation.objects.filter(resident=resident, closed_at__isnull=True).exists():
        return Status.OBSERVATION
    return Status.HEALTHY


def settle(
    resident: Resident,
    reason: str,
    *,
    actor: Any = None,
    role: str = "",
    note: str = "",
    source: str = "",
    at: datetime | None = None,
    request: Any = None,
) -> StatusChange | None:
    """Derive the colour again; when it changed, record the change (history, cache, audit) and return it."""
    status = derived_status(resident)
    if status == resident.status:
        return None
    change = StatusChange(
        resident=resident,
        from_status=resident.status,
        to_status=status,
        reason=reason,
        note=note[:300],
        source=source,
        changed_by=actor if getattr(actor, "is_authenticated", False) else None,
        changed_at=at or timezone.now(),
    )
    change.place_like(resident)
    change.save()
    Resident.objects.filter(pk=resident.pk).update(status=status, updated_at=change.changed_at)
    resident.status = status
    bump_map_version(resident.community_id)
    record(
        "status",
        actor=actor,
        role=role,
        obj=resident,
        reason=reason,
        detail={"from": change.from_status, "to": status, "source": source},
        request=request,
    )
    return change


def _placed(model_class, resident: Resident, **fields):
    row = model_class(resident=resident, **fields)
    row.place_like(resident)
    return row


# --- isolation ----------------------------------------------------------------------------------


def open_isolation(
    resident: Resident,
    *,
    reason: str,
    kind: str = IsolationOrder.Kind.HOME,
    starts_at: datetime | None = None,
    planned_end: date | None = None,
    site: str = "",
    note: str = "",
    source: str = "",
    actor: Any = None,
    role: str = "",
    request: Any = None,
) -> IsolationOrder:
    """Open an isolation order (a rule or a worker decided); an open order of the kind is extended instead."""
    rules = rules_for(resident.community_id)
    starts_at = starts_at or timezone.now()
    planned_end = planned_end or timezone.localtime(starts_at).date() + timedelta(days=rules.isolation_days)
    current = IsolationOrder.objects.filter(resident=resident, kind=kind, released_at__isnull=True).first()
    if current is not None:
        if planned_end > current.planned_end:
            _extend(current, planned_end, reason, actor, starts_at)
        return current
    order = _placed(
        IsolationOrder,
        resident,
        kind=kind,
        site=site,
        reason=reason,
        note=note[:300],
        source=source,
        starts_at=starts_at,
        planned_end=planned_end,
        ordered_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    order.save()
    record("create", actor=actor, role=role, obj=order, reason=reason, request=request)
    if kind == IsolationOrder.Kind.HOME:
        isolation_opened.send(sender=IsolationOrder, order=order)
    settle(
        resident,
        reason,
        actor=actor,
        role=role,
        note=note,
        source=f"isolation:{order.code}",
        at=starts_at,
        request=request,
    )
    return order


def _extend(order: IsolationOrder, until: date, reason: str, actor: Any, at: datetime) -> None:
    order.extensions = [
        *order.extensions,
        {
            "from": order.planned_end.isoformat(),
            "to": until.isoformat(),
            "reason": reason,
            "by": getattr(actor, "username", ""),
            "at": at.isoformat(),
        },
    ]
    order.planned_end = until
    order.save(update_fields=["extensions", "planned_end"])


def do_order_isolation(
    actor: Any,
    resident: Resident,
    *,
    kind: str = IsolationOrder.Kind.HOME,
    planned_end: date | None = None,
    site: str = "",
    note: str = "",
    request: Any = None,
) -> IsolationOrder:
    """A worker orders home or central isolation (e.g. a close contact named by the health department)."""
    role = require(actor, "edit_ledger", resident)
    if kind not in IsolationOrder.Kind.values:
        raise ValidationError({"kind": _("Choose home or central isolation.")})
    if kind == IsolationOrder.Kind.CENTRAL and not site.strip():
        raise ValidationError({"site": _("Say where the resident is isolated.")})
    if planned_end is not None and planned_end < timezone.localdate():
        raise ValidationError({"planned_end": _("The planned end is in the past.")})
    with transaction.atomic():
        return open_isolation(
            resident,
            reason=Reason.ISOLATION_ORDERED,
            kind=kind,
            planned_end=planned_end,
            site=site.strip(),
            note=note,
            actor=actor,
            role=role,
            request=request,
        )


def do_extend_isolation(actor: Any, order: IsolationOrder, until: date, reason: str, request: Any = None) -> None:
    role = require(actor, "edit_ledger", order)
    if not order.is_open:
        raise ValidationError({"until": _("This isolation has already ended.")})
    if until <= order.planned_end:
        raise ValidationError({"until": _("An extension must end later than the current planned end.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the isolation is extended.")})
    with transaction.atomic():
        _extend(order, until, reason.strip(), actor, timezone.now())
        record("update", actor=actor, role=role, obj=order, reason=reason, detail={"extended": True}, request=request)


def do_release_isolation(actor: Any, order: IsolationOrder, note: str = "", request: Any = None) -> IsolationOrder:
    """End an isolation. Only a worker does it, and only when the full period has passed."""
    role = require(actor, "edit_ledger", order)
    if not order.is_open:
        raise ValidationError({"order": _("This isolation has already ended.")})
    today = timezone.localdate()
    if today < order.planned_end:
        raise ValidationError(
            {
                "order": _("The isolation period ends on %(date)s: it cannot be released before.")
                % {"date": order.planned_end}
            }
        )
    now = timezone.now()
    resident = order.resident
    with transaction.atomic():
        order.released_at, order.released_by, order.release_note = now, actor, note.strip()[:300]
        order.save(update_fields=["released_at", "released_by", "release_note"])
        record("update", actor=actor, role=role, obj=order, reason="release", request=request)
        if order.kind == IsolationOrder.Kind.HOME:
            isolation_closed.send(sender=IsolationOrder, order=order)
        close_tasks(Q(source=f"isolation:{order.code}", kind=Task.Kind.RELEASE_DUE), _("Released."), by=actor, at=now)
        settle(
            resident,
            Reason.ISOLATION_RELEASED,
            actor=actor,
            role=role,
            note=note,
            source=f"isolation:{order.code}",
            at=now,
            request=request,
        )
    return order


# --- arrivals and departures --------------------------------------------------------------------


@dataclass
class ArrivalResult:
    resident: Resident
    movement: Movement
    created: bool
    risk_area: RiskArea | None
    order: IsolationOrder | None


class ArrivalReferred(ValidationError):
    """A new person's ID number belongs to a resident of the community whom the worker may not see.

    Nothing is created; the community gets a ``merge`` task with the arrival's details,
    and the worker a message that says nothing about the other record.
    """

    def __init__(self, task: Task) -> None:
        super().__init__(
            _(
                "This person cannot be added here. The community office has been asked to check the ledger "
                "and register the arrival: you need do nothing more."
            )
        )
        self.task = task


def _refer_arrival(actor: Any, clash: Resident, household: Household, data: dict[str, Any]) -> Task:
    arrived = data.get("arrival_date") or timezone.localdate()
    note = _("Arrival registered by %(worker)s at %(address)s on %(day)s from %(origin)s: check and merge.") % {
        "worker": actor.display_name(),
        "address": household.address,
        "day": arrived.isoformat(),
        "origin": (data.get("origin") or "").strip()[:80],
    }
    return open_task(
        Task.Kind.MERGE,
        resident=clash,
        level=Task.Level.COMMUNITY,
        urgent=risk_area_for(clash.street_id, data.get("origin") or "", arrived) is not None,
        note=note[:300],
        source=f"arrival:{household.code}",
        dedupe_key=f"merge:{clash.code}:{household.code}",
        created_by=actor,
    )


def do_register_arrival(
    actor: Any,
    data: dict[str, Any],
    *,
    resident: Resident | None = None,
    household: Household | None = None,
    person: dict[str, Any] | None = None,
    request: Any = None,
) -> ArrivalResult:
    """Register an arrival (R22) and apply the screening rules.

    Either ``resident`` (already in the ledger) or ``household`` + ``person`` (a new
    resident's fields, as ``people.actions.do_create_resident`` takes them). ``data``:
    origin, departure_date, arrival_date, transport, trip_no, temperature (optional),
    notes. From a risk area, within the isolation period: home isolation (red), the
    household's passes suspended, check-ins expected. A fever at arrival: the fever rule.
    """
    if resident is None and (household is None or person is None):
        raise ValidationError({"resident": _("Choose a resident, or a household and the new person's details.")})
    arrival_date = data.get("arrival_date") or timezone.localdate()
    if arrival_date > timezone.localdate():
        raise ValidationError({"arrival_date": _("The arrival date is in the future.")})
    temperature = clean_temperature(data.get("temperature"))
    if resident is None:
        assert household is not None and person is not None
        require(actor, "edit_ledger", household)
        clash = do_check_id_number_clash(actor, household.community_id, person.get("id_number") or "", request)
        if clash is not None:
            raise ArrivalReferred(_refer_arrival(actor, clash, household, data))
    with transaction.atomic():
        created = resident is None
        if resident is None:
            assert household is not None and person is not None
            resident = do_create_resident(actor, household, person, reason=_("arrival"), request=request)
        role = require(actor, "edit_ledger", resident)
        movement = do_record_movement(
            actor,
            resident,
            {
                "direction": Movement.Direction.ARRIVAL,
                "origin": (data.get("origin") or "").strip(),
                "departed_on": data.get("departure_date"),
                "arrived_on": arrival_date,
                "transport": data.get("transport") or "",
                "trip_number": (data.get("trip_no") or "").strip(),
                "notes": (data.get("notes") or "").strip(),
            },
            request=request,
        )
        area, order = screen_arrival(resident, movement, actor=actor, role=role, request=request)
        if temperature is not None:
            record_reading(
                resident,
                temperature=temperature,
                symptoms=[],
                source=CheckIn.Source.WORKER,
                taken_at=timezone.now(),
                actor=actor,
                role=role,
                note=_("at arrival"),
                request=request,
            )
    return ArrivalResult(resident=resident, movement=movement, created=created, risk_area=area, order=order)


def screen_arrival(
    resident: Resident, movement: Movement, *, actor: Any = None, role: str = "", request: Any = None
) -> tuple[RiskArea | None, IsolationOrder | None]:
    """The arrival rule: from a risk area and still inside the isolation period → home isolation."""
    arrived = movement.arrived_on or timezone.localdate()
    area = risk_area_for(resident.street_id, movement.origin, arrived)
    order = None
    if area is not None:
        rules = rules_for(resident.community_id)
        planned_end = arrived + timedelta(days=rules.isolation_days)
        if planned_end > timezone.localdate():
            order = open_isolation(
                resident,
                reason=Reason.ARRIVAL_FROM_RISK_AREA,
                planned_end=planned_end,
                note=area.name,
                source=f"movement:{movement.code}",
                actor=actor,
                role=role,
                request=request,
            )
    if order is None:
        settle(resident, Reason.RETURNED, actor=actor, role=role, source=f"movement:{movement.code}", request=request)
    return area, order


def do_record_departure(actor: Any, resident: Resident, data: dict[str, Any], request: Any = None) -> Movement:
    """A resident leaves the community for a while: out (blue) until an arrival brings them back."""
    role = require(actor, "edit_ledger", resident)
    if IsolationOrder.objects.filter(resident=resident, released_at__isnull=True, kind="home").exists():
        raise ValidationError({"direction": _("A resident under home isolation cannot leave.")})
    with transaction.atomic():
        movement = do_record_movement(actor, resident, {**data, "direction": Movement.Direction.DEPARTURE}, request)
        settle(resident, Reason.DEPARTED, actor=actor, role=role, source=f"movement:{movement.code}", request=request)
    return movement


# --- readings: check-ins, visits, gates ---------------------------------------------------------


def clean_temperature(value: Any) -> Decimal | None:
    """A body temperature in °C with one decimal, or None; a clear error for anything else."""
    if value is None or value == "":
        return None
    try:
        temperature = Decimal(str(value).strip().replace("，", ".").replace(",", ".")).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise ValidationError({"temperature": _("Write the temperature as a number, e.g. 36.5.")}) from None
    low, high = TEMPERATURE_RANGE
    if not low <= temperature <= high:
        raise ValidationError(
            {"temperature": _("A body temperature is between %(low)s and %(high)s °C.") % {"low": low, "high": high}}
        )
    return temperature


def clean_symptoms(values: Any) -> list[str]:
    values = list(values or [])
    unknown = [value for value in values if value not in Symptom.values]
    if unknown:
        raise ValidationError({"symptoms": _("Unknown symptom: choose from the list.")})
    return sorted(set(values))


def record_reading(
    resident: Resident,
    *,
    temperature: Decimal | None,
    symptoms: list[str],
    source: str,
    taken_at: datetime,
    actor: Any = None,
    role: str = "",
    note: str = "",
    client_id: uuid.UUID | None = None,
    payload_hash: str = "",
    request: Any = None,
) -> CheckIn:
    """Store one reading and apply the rules that follow from it (inside the caller's transaction)."""
    rules = rules_for(resident.community_id)
    checkin = _placed(
        CheckIn,
        resident,
        client_id=client_id or uuid.uuid4(),
        payload_hash=payload_hash,
        temperature=temperature,
        symptoms=symptoms,
        is_fever=rules.is_fever(temperature),
        note=note[:300],
        source=source,
        taken_at=taken_at,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    checkin.save()
    _after_reading(resident, checkin, rules, actor=actor, role=role, request=request)
    return checkin


def _after_reading(resident: Resident, checkin: CheckIn, rules: Rules, *, actor: Any, role: str, request: Any) -> None:
    source = f"checkin:{checkin.code}"
    if checkin.source in CHECKIN_SOURCES:
        window = window_at(checkin.taken_at, rules)
        if window is not None:  # a late sync of a reading taken in time settles the missed check-in
            close_tasks(
                Q(dedupe_key=f"missed:{resident.pk}:{window.key}"), _("Checked in."), by=actor, at=checkin.taken_at
            )
    if checkin.is_fever:
        _fever(resident, checkin, actor=actor, role=role, request=request)
    elif checkin.symptoms:
        urgent = Symptom.SHORT_OF_BREATH in checkin.symptoms
        open_task(
            Task.Kind.CALL,
            resident=resident,
            urgent=urgent,
            source=source,
            dedupe_key=f"symptoms:{checkin.code}",
            at=checkin.taken_at,
        )
    if checkin.source in CHECKIN_SOURCES:
        _count_towards_observation(resident, rules, actor=actor, role=role, at=checkin.taken_at, request=request)


def _fever(resident: Resident, checkin: CheckIn, *, actor: Any, role: str, request: Any) -> None:
    """The fever rule: a fever-clinic referral, observation (never replacing a stricter colour), an urgent task."""
    source = f"checkin:{checkin.code}"
    referral = Referral.objects.filter(
        resident=resident, closed_at__isnull=True, destination=Referral.Destination.FEVER_CLINIC
    ).first()
    if referral is None:
        referral = _placed(
            Referral,
            resident,
            destination=Referral.Destination.FEVER_CLINIC,
            reason=Reason.FEVER,
            note=_("%(temperature)s °C") % {"temperature": checkin.temperature},
            source=source,
            requested_at=checkin.taken_at,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            updated_at=checkin.taken_at,
            history=[{"state": Referral.State.REQUESTED, "at": checkin.taken_at.isoformat(), "by": _who(actor)}],
        )
        referral.save()
        record("create", actor=actor, role=role, obj=referral, reason=Reason.FEVER, request=request)
        open_task(
            Task.Kind.FEVER,
            resident=resident,
            urgent=True,
            note=_("Fever: arrange the visit to the fever clinic."),
            source=f"referral:{referral.code}",
            dedupe_key=f"fever:{referral.code}",
            at=checkin.taken_at,
        )
    isolated = IsolationOrder.objects.filter(resident=resident, released_at__isnull=True).exists()
    if not isolated and not Observation.objects.filter(resident=resident, closed_at__isnull=True).exists():
        _placed(Observation, resident, reason=Reason.FEVER, source=source, opened_at=checkin.taken_at).save()
    settle(resident, Reason.FEVER, actor=actor, role=role, source=source, at=checkin.taken_at, request=request)


def _count_towards_observation(
    resident: Resident, rules: Rules, *, actor: Any, role: str, at: datetime, request: Any
) -> None:
    """Observation ends after N normal check-ins in a row (counted in the order they were taken)."""
    observation = Observation.objects.filter(resident=resident, closed_at__isnull=True).first()
    if observation is None:
        return
    # Readings after the one that opened it, newest first: the streak is the run of normal ones.
    readings = (
        CheckIn.objects.filter(resident=resident, taken_at__gt=observation.opened_at, source__in=CHECKIN_SOURCES)
        .order_by("-taken_at", "-id")
        .values_list("is_fever", "symptoms")[: rules.observation_checkins]
    )
    streak = 0
    for is_fever, symptoms in readings:
        if is_fever or symptoms:
            break
        streak += 1
    observation.normal_streak = streak
    if (
        streak >= rules.observation_checkins
        and not Referral.objects.filter(resident=resident, closed_at__isnull=True).exists()
    ):
        observation.closed_at = at
        observation.save(update_fields=["normal_streak", "closed_at"])
        settle(
            resident,
            Reason.OBSERVATION_CLEARED,
            actor=actor,
            role=role,
            source=f"observation:{observation.code}",
            at=at,
            request=request,
        )
    else:
        observation.save(update_fields=["normal_streak"])


def payload_digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class CheckInConflictError(Exception):
    """The client id was used before with another payload; the conflict is kept (``conflict``)."""

    def __init__(self, checkin: CheckIn, conflict: CheckInConflict):
        super().__init__("check-in conflict")
        self.checkin = checkin
        self.conflict = conflict


def _who(actor: Any) -> str:
    return actor.get_username() if getattr(actor, "is_authenticated", False) else ""


def _may_check_in(actor: Any, resident: Resident, household_login: Any) -> str:
    if household_login is not None:
        if household_login.revoked_at is not None or household_login.household_id != resident.household_id:
            raise PermissionDenied
        return "household"
    return require(actor, "record_health", resident)


def do_record_checkin(
    actor: Any,
    resident: Resident,
    *,
    client_id: uuid.UUID | str | None,
    temperature: Any,
    symptoms: Any = (),
    taken_at: datetime | None = None,
    source: str = CheckIn.Source.WORKER,
    note: str = "",
    household_login: Any = None,
    request: Any = None,
) -> tuple[CheckIn, bool]:
    """Record a check-in, idempotently by ``client_id``: returns (check-in, created).

    Same id and same payload → the first check-in, ``created`` False. Same id with
    another payload → the conflict is stored and ``CheckInConflictError`` raised.
    A resident checks in through ``household_login`` (their letter's code), a worker
    by holding ``record_health`` over the resident.
    """
    role = _may_check_in(actor, resident, household_login)
    try:
        client_uuid = uuid.UUID(str(client_id)) if client_id else uuid.uuid4()
    except ValueError:
        raise ValidationError({"client_id": _("The client id must be a UUID.")}) from None
    temperature = clean_temperature(temperature)
    symptoms = clean_symptoms(symptoms)
    if temperature is None and not symptoms:
        raise ValidationError({"temperature": _("Enter the temperature.")})
    now = timezone.now()
    taken_at = taken_at or now
    if timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    if taken_at > now + timedelta(minutes=5):
        raise ValidationError({"taken_at": _("The time taken is in the future.")})
    if taken_at < now - timedelta(days=3):
        raise ValidationError({"taken_at": _("This reading is more than three days old.")})
    if source not in CheckIn.Source.values:
        raise ValidationError({"source": _("Unknown source.")})
    payload = {
        "resident": resident.code,
        "temperature": str(temperature) if temperature is not None else None,
        "symptoms": symptoms,
        "taken_at": taken_at.astimezone(UTC).isoformat(),  # one instant, however the device wrote its zone
    }
    digest = payload_digest(payload)
    existing = CheckIn.objects.filter(client_id=client_uuid).first()
    if existing is None:
        try:
            with transaction.atomic():
                checkin = record_reading(
                    resident,
                    temperature=temperature,
                    symptoms=symptoms,
                    source=CheckIn.Source.SELF if household_login is not None else source,
                    taken_at=taken_at,
                    actor=actor,
                    role=role if role != "household" else "",
                    note=note,
                    client_id=client_uuid,
                    payload_hash=digest,
                    request=request,
                )
                if household_login is not None:
                    type(household_login).objects.filter(pk=household_login.pk).update(last_used_at=now)
            return checkin, True
        except IntegrityError:
            existing = CheckIn.objects.filter(client_id=client_uuid).first()
            if existing is None:
                raise
    if existing.payload_hash == digest:
        return existing, False
    conflict = CheckInConflict.objects.create(
        checkin=existing,
        community_id=existing.community_id,
        payload=payload,
        received_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    raise CheckInConflictError(existing, conflict)


def do_record_visit(
    actor: Any,
    resident: Resident,
    *,
    temperature: Any,
    symptoms: Any = (),
    note: str = "",
    task: Task | None = None,
    client_id: uuid.UUID | str | None = None,
    taken_at: datetime | None = None,
    request: Any = None,
) -> CheckIn:
    """A home visit: the reading counts as a check-in; the visit's task (if any) is done with the note.

    Sent twice with the same ``client_id`` and payload, the second visit changes nothing.
    """
    from firstline.tasks.actions import do_complete_task

    if task is not None and task.resident_id is not None and task.resident_id != resident.pk:
        raise ValidationError({"task": _("This task is about another resident.")})
    with transaction.atomic():
        checkin, _created = do_record_checkin(
            actor,
            resident,
            client_id=client_id,
            temperature=temperature,
            symptoms=symptoms,
            taken_at=taken_at,
            source=CheckIn.Source.VISIT,
            note=note,
            request=request,
        )
        if task is not None:
            task.refresh_from_db(fields=["state"])  # the reading's own rules may have closed it
        if task is not None and task.is_open:
            if note.strip():
                done_note = note
            elif checkin.temperature is not None:
                done_note = _("Visited: %(temperature)s °C") % {"temperature": checkin.temperature}
            else:
                done_note = _("Visited.")
            do_complete_task(actor, task, done_note, request=request)
    return checkin


def do_record_gate_reading(
    actor: Any, resident: Resident, temperature: Any, *, capability: str = "record_health", request: Any = None
) -> CheckIn:
    """A temperature taken at a gate: the fever rule applies; it is not a check-in."""
    role = require(actor, capability, resident)
    value = clean_temperature(temperature)
    if value is None:
        raise ValidationError({"temperature": _("Enter the temperature.")})
    with transaction.atomic():
        return record_reading(
            resident,
            temperature=value,
            symptoms=[],
            source=CheckIn.Source.GATE,
            taken_at=timezone.now(),
            actor=actor,
            role=role,
            request=request,
        )


# --- referrals ----------------------------------------------------------------------------------

NEXT_STATES: dict[str, tuple[str, ...]] = {
    Referral.State.REQUESTED: (Referral.State.IN_TRANSIT, Referral.State.ARRIVED, Referral.State.OUTCOME),
    Referral.State.IN_TRANSIT: (Referral.State.ARRIVED, Referral.State.OUTCOME),
    Referral.State.ARRIVED: (Referral.State.OUTCOME,),
    Referral.State.OUTCOME: (Referral.State.OUTCOME,),  # admitted → returned home
}


def do_refer(
    actor: Any,
    resident: Resident,
    destination: str,
    *,
    reason: str = Reason.SYMPTOMS,
    facility: str = "",
    note: str = "",
    request: Any = None,
) -> Referral:
    """Send a resident to a fever clinic, testing, a designated hospital or central isolation."""
    role = require(actor, "edit_ledger", resident)
    if destination not in Referral.Destination.values:
        raise ValidationError({"destination": _("Choose where the resident is sent.")})
    if reason not in Reason.values:
        raise ValidationError({"reason": _("Choose a reason.")})
    if Referral.objects.filter(resident=resident, closed_at__isnull=True, destination=destination).exists():
        raise ValidationError({"destination": _("This resident already has an open referral there.")})
    now = timezone.now()
    with transaction.atomic():
        referral = _placed(
            Referral,
            resident,
            destination=destination,
            facility=facility.strip()[:100],
            reason=reason,
            note=note.strip()[:300],
            requested_at=now,
            requested_by=actor,
            updated_at=now,
            history=[{"state": Referral.State.REQUESTED, "at": now.isoformat(), "by": _who(actor)}],
        )
        referral.save()
        record("create", actor=actor, role=role, obj=referral, reason=reason, request=request)
    return referral


def do_update_referral(
    actor: Any,
    referral: Referral,
    state: str,
    *,
    outcome: str = "",
    facility: str = "",
    note: str = "",
    at: datetime | None = None,
    request: Any = None,
) -> Referral:
    """Move a referral on: in transit → arrived → outcome. The colour follows where the person is."""
    role = require(actor, "edit_ledger", referral)
    if not referral.is_open:
        raise ValidationError({"state": _("This referral is already closed.")})
    if state not in NEXT_STATES.get(referral.state, ()):
        raise ValidationError({"state": _("This step does not follow the referral's current state.")})
    if state == Referral.State.OUTCOME:
        if outcome not in Referral.Outcome.values:
            raise ValidationError({"outcome": _("Choose the outcome.")})
        if referral.state == Referral.State.OUTCOME and outcome != Referral.Outcome.RETURNED_HOME:
            raise ValidationError({"outcome": _("After admission, the next step is the return home.")})
    at = at or timezone.now()
    resident = referral.resident
    with transaction.atomic():
        referral.state = state
        referral.updated_at = at
        if facility.strip():
            referral.facility = facility.strip()[:100]
        if state == Referral.State.IN_TRANSIT:
            referral.in_transit_at = at
        elif state == Referral.State.ARRIVED:
            referral.arrived_at = at
            referral.in_transit_at = referral.in_transit_at or at
        else:
            referral.outcome, referral.outcome_at = outcome, at
            referral.in_transit_at = referral.in_transit_at or at
            if outcome in Referral.HOME_OUTCOMES:
                referral.closed_at = at
        referral.history = [
            *referral.history,
            {"state": state, "outcome": outcome, "at": at.isoformat(), "by": _who(actor), "note": note.strip()[:300]},
        ]
        referral.save()
        record(
            "update", actor=actor, role=role, obj=referral, reason=state, detail={"outcome": outcome}, request=request
        )
        source = f"referral:{referral.code}"
        if state != Referral.State.REQUESTED:
            close_tasks(Q(source=source, kind=Task.Kind.FEVER), _("Sent to the clinic."), by=actor, at=at)
        close_tasks(Q(source=source, kind=Task.Kind.REFERRAL_FOLLOW_UP), _("Updated."), by=actor, at=at)
        reason = Reason.REFERRAL_BACK if referral.closed_at else Reason.REFERRAL_LEFT
        settle(resident, reason, actor=actor, role=role, note=note, source=source, at=at, request=request)
        if referral.closed_at is not None:
            _count_towards_observation(
                resident, rules_for(resident.community_id), actor=actor, role=role, at=at, request=request
            )
    return referral


def do_close_observation(actor: Any, observation: Observation, note: str, request: Any = None) -> None:
    """A worker ends an observation early (e.g. the fever had a known cause); a note is required."""
    role = require(actor, "edit_ledger", observation)
    if observation.closed_at is not None:
        raise ValidationError({"observation": _("This observation has already ended.")})
    if not note.strip():
        raise ValidationError({"note": _("Say why the observation ends.")})
    now = timezone.now()
    with transaction.atomic():
        observation.closed_at, observation.closed_by = now, actor
        observation.save(update_fields=["closed_at", "closed_by"])
        settle(
            observation.resident,
            Reason.CORRECTED,
            actor=actor,
            role=role,
            note=note,
            source=f"observation:{observation.code}",
            at=now,
            request=request,
        )


def may_record_health(actor: Any, resident: Resident) -> bool:
    return bool(role_for(actor, "record_health", resident))


# --- the rules themselves: risk areas (street) and a community's screening rules ----------------


def may_manage_risk_areas(actor: Any, street_id: int) -> str:
    """The role under which ``actor`` keeps the risk-area list of this street ('' when they may not)."""
    for membership in memberships_with(actor, "manage_rules"):
        if membership.level == "street" and membership.street_id == street_id:
            return membership.role
    return ""


def _require_street_rules(actor: Any, street_id: int) -> str:
    role = may_manage_risk_areas(actor, street_id)
    if not role:
        raise PermissionDenied
    return role


def do_add_risk_area(
    actor: Any,
    street: Any,
    *,
    name: str,
    keywords: str = "",
    active_from: date | None = None,
    active_until: date | None = None,
    request: Any = None,
) -> RiskArea:
    """The street adds a risk area (疫区): from ``active_from`` (today by default), arrivals from it are isolated."""
    role = _require_street_rules(actor, street.id)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Name the area, e.g. 湖北省武汉市.")})
    active_from = active_from or timezone.localdate()
    if active_until is not None and active_until < active_from:
        raise ValidationError({"active_until": _("The last day is before the first day.")})
    overlapping = RiskArea.objects.filter(street=street, name=name).filter(
        Q(active_until__isnull=True) | Q(active_until__gte=active_from)
    )
    if overlapping.exists():
        raise ValidationError({"name": _("This area is already on the list.")})
    with transaction.atomic():
        area = RiskArea.objects.create(
            street=street,
            name=name[:100],
            keywords=(keywords or "").strip()[:200],
            active_from=active_from,
            active_until=active_until,
            added_by=actor,
        )
        record("create", actor=actor, role=role, obj=area, detail={"street": street.code}, request=request)
    return area


def do_end_risk_area(actor: Any, area: RiskArea, *, last_day: date | None = None, request: Any = None) -> RiskArea:
    """The area stops being a risk area after ``last_day`` (yesterday by default: today's arrivals are not isolated).

    Orders already opened stay open: they end by release, like any isolation.
    """
    if area.street_id is None:
        raise PermissionDenied  # a deployment-wide area is kept by the deployment's administrators
    role = _require_street_rules(actor, area.street_id)
    today = timezone.localdate()
    if area.active_until is not None and area.active_until < today:
        raise ValidationError({"area": _("This risk area has already ended.")})
    last_day = last_day or today - timedelta(days=1)
    with transaction.atomic():
        area.active_until = max(last_day, area.active_from - timedelta(days=1))
        area.save(update_fields=["active_until"])
        record(
            "update",
            actor=actor,
            role=role,
            obj=area,
            reason="end",
            detail={"until": area.active_until.isoformat()},
            request=request,
        )
    return area


RULE_LIMITS: dict[str, tuple[Decimal | int, Decimal | int]] = {
    "fever_threshold": (Decimal("37.0"), Decimal("38.5")),
    "isolation_days": (1, 60),
    "observation_checkins": (1, 30),
    "referral_stale_hours": (1, 168),
}


def save_rule_values(
    actor: Any,
    community: Any,
    rules: Any,
    values: dict[str, Any],
    limits: dict[str, tuple[Any, Any]],
    *,
    reason: str,
    request: Any = None,
) -> list[str]:
    """Set a community's own rule values on ``rules`` (``manage_rules``) and save them, audited.

    None returns a rule to the deployment's default; a value outside its ``limits`` is a
    ValidationError naming its field, and nothing is saved. Returns the fields changed.
    """
    role = require(actor, "manage_rules", community)
    changed = []
    errors: dict[str, str] = {}
    for field, (low, high) in limits.items():
        if field not in values:
            continue
        value = values[field]
        if value is not None and not low <= value <= high:
            errors[field] = _("Choose a value between %(low)s and %(high)s.") % {"low": low, "high": high}
        elif getattr(rules, field) != value:
            changed.append(field)
            setattr(rules, field, value)
    if errors:
        raise ValidationError(errors)
    if changed:
        with transaction.atomic():
            rules.save()
            record(
                "update",
                actor=actor,
                role=role,
                obj=community,
                community_id=community.id,
                reason=reason,
                detail={"fields": changed},
                request=request,
            )
    return changed


def do_set_community_rules(actor: Any, community: Any, values: dict[str, Any], request: Any = None) -> CommunityRules:
    """Set a community's own screening rules; an empty value (None) returns to the deployment's default."""
    rules = CommunityRules.objects.filter(community=community).first() or CommunityRules(community=community)
    save_rule_values(actor, community, rules, values, RULE_LIMITS, reason="rules", request=request)
    return rules
