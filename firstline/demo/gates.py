"""The demo street's gates: guards on a rotation around the clock, outing passes, two days of comings and goings.

Every gate has three guards taking turns in 8-hour shifts from two days ago to a
week ahead (``gates.roster.roster_rotation``, the rotation the gate page fills).
Each household with a healthy adult and nobody under home isolation holds one
outing pass, in that adult's name; the rows are the ones ``do_issue_pass`` writes
(a random serial, its short code unique in the community, the signing key's id,
the masked name), inserted in bulk, and each community's revocation list is
published once. The last two days have outings on some of those passes: out at
the household's gate, back within the rules' hours, scanned by the guard on duty.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from firstline.accounts.roles import Role
from firstline.demo import plan as p
from firstline.gates import tokens
from firstline.gates.actions import DEFAULT_DAYS, publish_revocations, signing_key
from firstline.gates.models import Outing, Pass, Scan, Shift
from firstline.gates.roster import Slot, roster_rotation
from firstline.people.models import Resident, Status
from firstline.places.models import Gate
from firstline.sealing import mask_name

BATCH = 2000
ROSTER_FROM = 2  # days before today
ROSTER_DAYS = 9  # … until a week after today
SHIFT_HOURS = 8
OUTINGS_PER_DAY = 0.06  # share of the passes used on a day
ADULT = (18, 70)


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def write_gates(
    plan: p.Plan,
    gates: list[list[Gate]],
    users: list[Any],
    residents: list[Resident],
    people: list[p.Person],
    now: datetime,
) -> dict[str, int]:
    rng = random.Random(f"{plan.seed}:gates")
    codes = p.Codes(rng)  # public codes from the seed, like every other code of the demo
    today = timezone.localdate(now)
    guards: dict[tuple[int, int], list[Any]] = defaultdict(list)
    for login, user in zip([*plan.logins, *plan.guards], users, strict=True):
        if login.role == Role.GATE_GUARD and login.place and login.place[0] == "gate":
            guards[(login.place[1], login.place[2])].append(user)

    shifts: list[Shift] = []
    slots: dict[int, list[tuple[Slot, Shift]]] = {}
    for ci, row in enumerate(gates):
        for gi, gate in enumerate(row):
            rotation = roster_rotation(gate, guards[(ci, gi)], today - timedelta(days=ROSTER_FROM), ROSTER_DAYS, 8)
            made = [
                Shift(
                    code=codes(),
                    gate=gate,
                    street_id=gate.street_id,
                    community_id=gate.community_id,
                    guard=slot.guard,
                    starts_at=slot.starts_at,
                    ends_at=slot.ends_at,
                )
                for slot in rotation
            ]
            shifts.extend(made)
            slots[gate.id] = list(zip(rotation, made, strict=True))
    Shift.objects.bulk_create(shifts, batch_size=BATCH)

    passes = _passes(rng, codes, residents, people, today, now)
    Pass.objects.bulk_create(passes, batch_size=BATCH)
    for community_id in sorted({gate.community_id for row in gates for gate in row}):
        publish_revocations(community_id, now)

    scans, outings = _outings(rng, passes, gates, slots, now)
    Scan.objects.bulk_create(scans, batch_size=BATCH)
    for outing in outings:  # the scans have their ids now
        outing.out_scan_id, outing.back_scan_id = outing.out_scan.id, outing.back_scan.id if outing.back_scan else None
    Outing.objects.bulk_create(outings, batch_size=BATCH)
    still_out = [outing.pass_obj_id for outing in outings if outing.back_at is None]
    Pass.objects.filter(id__in=still_out).update(presence=Pass.Presence.OUT)
    return {"shifts": len(shifts), "passes": len(passes), "scans": len(scans), "outings": len(outings)}


def _passes(
    rng: random.Random, codes: p.Codes, residents: list[Resident], people: list[p.Person], today: date, now: datetime
) -> list[Pass]:
    """One outing pass per household with a healthy adult and nobody under home isolation."""
    households: dict[int, list[tuple[Resident, p.Person]]] = defaultdict(list)
    for resident, person in zip(residents, people, strict=True):
        households[resident.household_id].append((resident, person))
    key_id = signing_key().key_id
    used: set[tuple[int, str]] = set()
    passes = []
    for members in households.values():
        if any(person.status == Status.HOME_ISOLATION for _, person in members):
            continue
        adults = [
            resident
            for resident, person in members
            if person.status == Status.HEALTHY and ADULT[0] <= _age(person.birth_date, today) <= ADULT[1]
        ]
        if not adults:
            continue
        resident = adults[0]
        serial = secrets.randbits(63)
        while (resident.community_id, tokens.short_code(serial)) in used:
            serial = secrets.randbits(63)
        used.add((resident.community_id, tokens.short_code(serial)))
        issued = now - timedelta(days=rng.randint(3, 6), minutes=rng.randint(0, 600))
        passes.append(
            Pass(
                code=codes(),
                serial=serial,
                short_code=tokens.short_code(serial),
                kind=Pass.Kind.OUTING,
                resident=resident,
                household_id=resident.household_id,
                street_id=resident.street_id,
                community_id=resident.community_id,
                grid_id=resident.grid_id,
                building_id=resident.building_id,
                masked_name=mask_name(resident.name),
                rule=1,
                valid_from=issued,
                valid_until=issued + timedelta(days=DEFAULT_DAYS[Pass.Kind.OUTING]),
                key_id=key_id,
            )
        )
    return passes


def _on_duty(slots: list[tuple[Slot, Shift]], at: datetime) -> tuple[Slot, Shift]:
    return next(pair for pair in slots if pair[0].starts_at <= at < pair[0].ends_at)


def _outings(
    rng: random.Random,
    passes: list[Pass],
    gates: list[list[Gate]],
    slots: dict[int, list[tuple[Slot, Shift]]],
    now: datetime,
) -> tuple[list[Scan], list[Outing]]:
    """Outings of the last two days: out between 07:00 and 20:00, back within about two hours."""
    from firstline.places.models import Building

    compound_of = dict(
        Building.objects.filter(id__in={item.building_id for item in passes}).values_list("id", "compound_id")
    )
    by_compound: dict[tuple[int, int | None], list[Gate]] = defaultdict(list)
    by_community: dict[int, list[Gate]] = defaultdict(list)
    for row in gates:
        for gate in row:
            by_compound[(gate.community_id, gate.compound_id)].append(gate)
            by_community[gate.community_id].append(gate)
    scans: list[Scan] = []
    outings: list[Outing] = []
    today = timezone.localdate(now)
    yesterday: set[int] = set()  # one outing per household every 2 days (the default rules)
    for days_ago in (2, 1, 0):
        day = today - timedelta(days=days_ago)
        going = [item for item in rng.sample(passes, int(len(passes) * OUTINGS_PER_DAY)) if item.id not in yesterday]
        yesterday = {item.id for item in going}
        for item in going:
            out_at = timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(
                minutes=rng.randint(7 * 60, 20 * 60)
            )
            if out_at >= now or out_at < item.valid_from:
                continue
            choices = (
                by_compound.get((item.community_id, compound_of.get(item.building_id)))
                or by_community[item.community_id]
            )
            gate = rng.choice(choices)
            away = timedelta(minutes=rng.randint(25, 150))  # the rules allow 2 hours: a few come back late
            out_scan = _scan(rng, item, gate, slots[gate.id], out_at, Scan.Direction.OUT, [])
            back_scan, back_at = None, None
            if out_at + away < now:
                back_at = out_at + away
                late = ["late_return"] if away > timedelta(hours=2) else []
                back_scan = _scan(rng, item, gate, slots[gate.id], back_at, Scan.Direction.IN, late)
            scans.append(out_scan)
            if back_scan:
                scans.append(back_scan)
            outings.append(
                Outing(
                    pass_obj=item,
                    household_id=item.household_id,
                    street_id=item.street_id,
                    community_id=item.community_id,
                    grid_id=item.grid_id,
                    building_id=item.building_id,
                    out_scan=out_scan,
                    back_scan=back_scan,
                    out_at=out_at,
                    due_back_at=out_at + timedelta(hours=2),
                    back_at=back_at,
                )
            )
    return scans, outings


def _scan(
    rng: random.Random,
    item: Pass,
    gate: Gate,
    slots: list[tuple[Slot, Shift]],
    at: datetime,
    direction: str,
    flags: list[str],
) -> Scan:
    slot, shift = _on_duty(slots, at)
    client_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    return Scan(
        client_id=client_id,
        payload_hash=hashlib.sha256(client_id.bytes).hexdigest(),
        pass_obj=item,
        serial=item.serial,
        gate=gate,
        street_id=gate.street_id,
        community_id=gate.community_id,
        household_id=item.household_id,
        direction=direction,
        temperature=Decimal(rng.choice(("36.2", "36.4", "36.5", "36.6", "36.7", "36.8"))),
        scanned_at=at,
        verdict=Scan.Verdict.FLAGGED if flags else Scan.Verdict.PASSED,
        reason=flags[0] if flags else "",
        flags=flags,
        recorded_by=slot.guard,
        shift=shift,
    )
