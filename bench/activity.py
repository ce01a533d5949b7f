"""Thirty days of status rows for the demo street, so that the dashboard's queries read real volumes.

The demo builder writes residents with their colours but no history. This adds,
in proportion to the street (seeded, so every run gets the same rows):

- an open isolation order for every resident in home isolation, started in the
  last 14 days, and as many released ones, started 14–30 days ago and released
  14 days later;
- referrals for 0.5 % of the residents over 30 days, half of them closed;
- two check-ins a day for the last three days from every resident in isolation or
  under observation, 1 % of them with a fever;
- a missed check-in task for one window in ten of those residents, for 30 days;
- the ``DailyCount`` rows of the 29 days before today (``record_daily_counts``).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

BATCH = 2000
DAYS = 30


def _place(row, resident: tuple) -> None:
    _, street, community, grid, building, _status = resident
    row.street_id, row.community_id, row.grid_id, row.building_id = street, community, grid, building


def _at(day_start: datetime, rng: random.Random, first_hour: int = 7, last_hour: int = 21) -> datetime:
    return day_start + timedelta(hours=rng.randint(first_hour, last_hour - 1), minutes=rng.randint(0, 59))


@transaction.atomic
def add_status_activity(seed: int = 2020) -> dict[str, int]:
    """Write the rows described above; returns how many of each."""
    from firstline.people.models import Resident, Status
    from firstline.status.daily import day_start, record_daily_counts
    from firstline.status.models import CheckIn, DailyCount, IsolationOrder, Reason, Referral
    from firstline.tasks.models import Task

    rng = random.Random(f"{seed}:status")
    today = timezone.localdate()
    starts = [day_start(today - timedelta(days=n)) for n in range(DAYS)]  # starts[0] is today
    residents = list(
        Resident.objects.filter(left_at__isnull=True)
        .order_by("id")
        .values_list("id", "street_id", "community_id", "grid_id", "building_id", "status")
    )
    watched = [r for r in residents if r[5] in (Status.HOME_ISOLATION, Status.OBSERVATION)]

    orders = []
    for resident in (r for r in residents if r[5] == Status.HOME_ISOLATION):
        begun = _at(starts[rng.randrange(14)], rng)
        orders.append(_order(IsolationOrder, Reason, resident, begun, None))
    for resident in rng.sample(residents, len(orders)):
        begun = _at(starts[rng.randrange(14, DAYS)], rng)
        released = begun + timedelta(days=14)
        orders.append(_order(IsolationOrder, Reason, resident, begun, released if released < timezone.now() else None))
    IsolationOrder.objects.bulk_create(orders, batch_size=BATCH)

    referrals = []
    for resident in rng.sample(residents, len(residents) // 200):
        left = _at(starts[rng.randrange(DAYS)], rng)
        closed = left + timedelta(hours=rng.randint(4, 72)) if rng.random() < 0.5 else None
        referral = Referral(
            resident_id=resident[0],
            destination=Referral.Destination.FEVER_CLINIC,
            reason=Reason.FEVER,
            state=Referral.State.OUTCOME if closed else Referral.State.IN_TRANSIT,
            outcome=Referral.Outcome.NEGATIVE if closed else "",
            requested_at=left - timedelta(minutes=30),
            in_transit_at=left,
            closed_at=closed,
            updated_at=closed or left,
        )
        _place(referral, resident)
        referrals.append(referral)
    Referral.objects.bulk_create(referrals, batch_size=BATCH)

    checkins = []
    for start in starts[:3]:
        for resident in watched:
            for hour in (8, 18):
                fever = rng.random() < 0.01
                checkin = CheckIn(
                    client_id=uuid.UUID(int=rng.getrandbits(128)),
                    payload_hash="0" * 64,
                    resident_id=resident[0],
                    temperature="38.0" if fever else "36.6",
                    is_fever=fever,
                    source=CheckIn.Source.SELF,
                    taken_at=start + timedelta(hours=hour, minutes=rng.randint(0, 59)),
                )
                _place(checkin, resident)
                checkins.append(checkin)
    CheckIn.objects.bulk_create(checkins, batch_size=BATCH)

    tasks = []
    for start in starts:
        for resident in watched:
            for hour in (12, 22):
                if rng.random() >= 0.1:
                    continue
                created = start + timedelta(hours=hour, minutes=5)
                tasks.append(
                    Task(
                        kind=Task.Kind.MISSED_CHECKIN,
                        resident_id=resident[0],
                        street_id=resident[1],
                        community_id=resident[2],
                        grid_id=resident[3],
                        building_id=resident[4],
                        level=Task.Level.GRID,
                        due_at=created + timedelta(hours=24),
                        state=Task.State.DONE if start != starts[0] else Task.State.OPEN,
                        created_at=created,
                    )
                )
    Task.objects.bulk_create(tasks, batch_size=BATCH)

    for n in range(1, DAYS):
        record_daily_counts(today - timedelta(days=n))
    return {
        "isolation orders": len(orders),
        "referrals": len(referrals),
        "check-ins": len(checkins),
        "tasks": len(tasks),
        "daily counts": DailyCount.objects.count(),
    }


def _order(model, reason, resident: tuple, begun: datetime, released: datetime | None):
    order = model(
        resident_id=resident[0],
        reason=reason.ARRIVAL_FROM_RISK_AREA,
        starts_at=begun,
        planned_end=(begun + timedelta(days=14)).date(),
        released_at=released,
    )
    _place(order, resident)
    return order
