"""The demo street's last four weeks: the facts behind each colour, written in bulk.

Every colour the plan gives a resident is backed by what the screening rules would
have left behind — an isolation order (open, or released after 14 days), an
observation after a fever at the gate with its fever-clinic referral, a departure —
with the ``StatusChange`` history, check-ins in most windows, and the tasks the
rules open (missed check-ins of the last day, releases due, fevers not yet sent).
The same rows the actions write, inserted in bulk; the tasks come from the rules
themselves (``status.jobs``) so that they are assigned along the real chain.
"""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.demo import names as words
from firstline.demo import plan as p
from firstline.people.models import Resident, Status
from firstline.places.models import Street
from firstline.status.jobs import find_missed_checkins, find_releases_due
from firstline.status.models import CheckIn, IsolationOrder, Observation, Reason, Referral, RiskArea, StatusChange
from firstline.status.rules import default_rules, windows_on
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task

BATCH = 2000
NOTE = "演示数据"


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class _Writer:
    def __init__(self, seed: int, now: datetime, workers: dict[int, Any]) -> None:
        self.rng = random.Random(f"{seed}:history")
        self.now = now
        self.today = timezone.localdate(now)
        self.workers = workers  # grid id → the grid worker who acts there (or None)
        self.changes: list[StatusChange] = []
        self.orders: list[IsolationOrder] = []
        self.observations: list[Observation] = []
        self.referrals: list[Referral] = []
        self.checkins: list[CheckIn] = []
        self.windows = default_rules()
        self.fevers: list[tuple[Resident, str]] = []  # open referrals: a fever task each

    def placed(self, row, resident: Resident):
        row.resident = resident
        row.street_id, row.community_id = resident.street_id, resident.community_id
        row.grid_id, row.building_id = resident.grid_id, resident.building_id
        return row

    def change(self, resident: Resident, before: str, after: str, reason: str, at: datetime, source: str = "") -> None:
        self.changes.append(
            self.placed(
                StatusChange(
                    from_status=before,
                    to_status=after,
                    reason=reason,
                    note=NOTE,
                    source=source,
                    changed_by=self.workers.get(resident.grid_id),
                    changed_at=at,
                ),
                resident,
            )
        )

    def reading(self, resident: Resident, at: datetime, temperature: Decimal, source: str) -> None:
        self.checkins.append(
            self.placed(
                CheckIn(
                    client_id=uuid.UUID(int=self.rng.getrandbits(128)),
                    temperature=temperature,
                    symptoms=[],
                    is_fever=temperature >= self.windows.fever_threshold,
                    source=source,
                    taken_at=at,
                    recorded_by=self.workers.get(resident.grid_id) if source != CheckIn.Source.SELF else None,
                ),
                resident,
            )
        )

    def normal(self) -> Decimal:
        return Decimal(str(round(self.rng.uniform(36.0, 37.0), 1)))

    def check_ins(self, resident: Resident, start: datetime, end: datetime, skip: float = 0.04) -> int:
        """A reading in most windows between start and end; returns how many."""
        written = 0
        day = timezone.localdate(start)
        while day <= timezone.localdate(end):
            for window in windows_on(day, self.windows):
                moment = window.starts_at + timedelta(minutes=self.rng.randint(90, 200))
                if start <= moment < min(end, self.now) and self.rng.random() >= skip:
                    source = CheckIn.Source.SELF if self.rng.random() < 0.8 else CheckIn.Source.WORKER
                    self.reading(resident, moment, self.normal(), source)
                    written += 1
            day += timedelta(days=1)
        return written

    def isolation(self, resident: Resident, person: p.Person) -> None:
        assert person.since is not None
        movement = person.movement
        from_risk = movement is not None and movement.direction == "arrival" and words.is_risk_origin(movement.origin)
        reason = Reason.ARRIVAL_FROM_RISK_AREA if from_risk else Reason.ISOLATION_ORDERED
        starts = _at(person.since, 10, self.rng.randint(0, 59))
        planned_end = person.since + timedelta(days=14)
        order = self.placed(
            IsolationOrder(
                kind=IsolationOrder.Kind.HOME,
                reason=reason,
                note=movement.origin if movement is not None and from_risk else NOTE,
                starts_at=starts,
                planned_end=planned_end,
                ordered_by=self.workers.get(resident.grid_id),
            ),
            resident,
        )
        self.orders.append(order)
        self.change(resident, Status.HEALTHY, Status.HOME_ISOLATION, reason, starts, f"isolation:{order.code}")
        if person.status == Status.HOME_ISOLATION:
            self.check_ins(resident, starts, self.now)
            return
        released = _at(planned_end, 9, self.rng.randint(0, 59))
        order.released_at, order.released_by, order.release_note = released, self.workers.get(resident.grid_id), NOTE
        self.check_ins(resident, starts, released)
        self.change(
            resident,
            Status.HOME_ISOLATION,
            Status.HEALTHY,
            Reason.ISOLATION_RELEASED,
            released,
            f"isolation:{order.code}",
        )

    def observation(self, resident: Resident, person: p.Person) -> None:
        """A fever at the gate, the fever clinic the same day (negative), observation since."""
        assert person.since is not None
        rng = self.rng
        pending = rng.random() < 0.1  # a fever within the last hour or two: not yet taken to the clinic
        day = person.since if person.since < self.today else self.today - timedelta(days=1)
        fever_at = self.now - timedelta(minutes=rng.randint(20, 110)) if pending else _at(day, 8, rng.randint(0, 50))
        self.reading(resident, fever_at, Decimal(str(round(rng.uniform(37.3, 38.6), 1))), CheckIn.Source.GATE)
        observation = self.placed(Observation(reason=Reason.FEVER, opened_at=fever_at), resident)
        self.observations.append(observation)
        self.change(resident, Status.HEALTHY, Status.OBSERVATION, Reason.FEVER, fever_at)
        referral = self.placed(
            Referral(
                destination=Referral.Destination.FEVER_CLINIC,
                reason=Reason.FEVER,
                requested_at=fever_at,
                updated_at=fever_at,
                requested_by=self.workers.get(resident.grid_id),
                history=[{"state": "requested", "at": fever_at.isoformat(), "by": ""}],
            ),
            resident,
        )
        self.referrals.append(referral)
        source = f"referral:{referral.code}"
        back = fever_at + timedelta(hours=rng.randint(3, 6))
        if pending or back >= self.now:
            self.fevers.append((resident, referral.code))
            return
        left, arrived = fever_at + timedelta(minutes=40), fever_at + timedelta(minutes=80)
        referral.state, referral.outcome = Referral.State.OUTCOME, Referral.Outcome.NEGATIVE
        referral.in_transit_at, referral.arrived_at, referral.outcome_at = left, arrived, back
        referral.closed_at = referral.updated_at = back
        referral.facility = "区人民医院发热门诊"
        referral.history += [
            {"state": "in_transit", "at": left.isoformat(), "by": ""},
            {"state": "arrived", "at": arrived.isoformat(), "by": ""},
            {"state": "outcome", "outcome": "negative", "at": back.isoformat(), "by": ""},
        ]
        self.change(resident, Status.OBSERVATION, Status.OUT, Reason.REFERRAL_LEFT, left, source)
        self.change(resident, Status.OUT, Status.OBSERVATION, Reason.REFERRAL_BACK, back, source)
        observation.normal_streak = min(
            self.check_ins(resident, back, self.now), default_rules().observation_checkins - 1
        )

    def departure(self, resident: Resident, person: p.Person) -> None:
        day = person.since or self.today
        self.change(resident, Status.HEALTHY, Status.OUT, Reason.DEPARTED, _at(day, 9, self.rng.randint(0, 59)))


def _workers(street: Street) -> dict[int, Any]:
    """The grid worker of each grid that has one in the demo logins."""
    found: dict[int, Any] = {}
    for membership in Membership.objects.filter(street=street, role="grid_worker", level="grid").select_related("user"):
        found.setdefault(membership.grid_id, membership.user)
    return found


def write_history(
    plan: p.Plan, street: Street, residents: list[Resident], people: list[p.Person], now: datetime
) -> dict[str, int]:
    """Write the status facts of the plan's residents (already saved) and open the rules' tasks."""
    today = timezone.localdate(now)
    RiskArea.objects.bulk_create(
        RiskArea(street=street, name=name, keywords=keyword, active_from=today - timedelta(days=60))
        for name, keyword in words.RISK_AREAS
    )
    writer = _Writer(plan.seed, now, _workers(street))
    for resident, person in zip(residents, people, strict=True):
        if person.status == Status.OUT:
            writer.departure(resident, person)
        elif person.status == Status.OBSERVATION:
            writer.observation(resident, person)
        elif person.since is not None:  # home isolation now, or released
            writer.isolation(resident, person)
    IsolationOrder.objects.bulk_create(writer.orders, batch_size=BATCH)
    Observation.objects.bulk_create(writer.observations, batch_size=BATCH)
    Referral.objects.bulk_create(writer.referrals, batch_size=BATCH)
    CheckIn.objects.bulk_create(writer.checkins, batch_size=BATCH)
    StatusChange.objects.bulk_create(writer.changes, batch_size=BATCH)
    for resident, code in writer.fevers:
        open_task(
            Task.Kind.FEVER,
            resident=resident,
            urgent=True,
            note="发热：请安排前往发热门诊。",
            source=f"referral:{code}",
            dedupe_key=f"fever:{code}",
            at=now,
        )
    tasks = find_missed_checkins(now) + find_releases_due(now) + len(writer.fevers)
    return {
        "isolation_orders": len(writer.orders),
        "observations": len(writer.observations),
        "referrals": len(writer.referrals),
        "checkins": len(writer.checkins),
        "status_changes": len(writer.changes),
        "tasks": tasks,
    }
