"""Daily counts: how many residents of each grid were in each colour at the end of each day.

``DailyCount`` is the dashboard's memory: today's numbers are counted live from
``Resident.status``, past days are read from these rows. They are written two ways:

- ``record_daily_counts(day)`` copies the live colours of every grid into ``day``'s
  rows. The job ``record_todays_counts`` runs it at the daily cut-off (so that the
  reports of the day have numbers) and again at 23:55, local time, to close the day.
- ``rebuild_daily_counts(first_day, last_day)`` reconstructs past days from the
  ``StatusChange`` history: a resident's colour at the end of a day is the
  ``to_status`` of their last change up to then (healthy without one), counted if
  they were in the ledger by then and had not moved out.

Both write one row per grid and day (an upsert on the unique ``(grid, day)``), so
running either twice gives the same rows. A resident is counted in the grid they
live in now: the ledger keeps no history of moves between grids.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from huey.contrib.djhuey import HUEY, db_periodic_task

from firstline.people.models import Resident, Status
from firstline.places.models import Grid
from firstline.status.models import DailyCount, StatusChange

COLOURS = tuple(Status.values)  # the DailyCount column of each status has the status's name
BATCH = 2000


def day_start(day: date) -> datetime:
    """The first instant of ``day`` in the deployment's time zone (the end of the day before)."""
    return timezone.make_aware(datetime.combine(day, time.min))


def day_range(day: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of ``day``, local time: filter with ``__gte=start, __lt=end``."""
    return day_start(day), day_start(day + timedelta(days=1))


def _grids() -> list[tuple[int, int, int]]:
    return list(Grid.objects.order_by("id").values_list("id", "community_id", "street_id"))


def _write(rows: Iterable[DailyCount]) -> int:
    written = DailyCount.objects.bulk_create(
        rows,
        batch_size=BATCH,
        update_conflicts=True,
        unique_fields=["grid", "day"],
        update_fields=["street", "community", *COLOURS],
    )
    return len(written)


def _row(day: date, grid: tuple[int, int, int], counts: dict[str, int]) -> DailyCount:
    grid_id, community_id, street_id = grid
    return DailyCount(
        day=day,
        grid_id=grid_id,
        community_id=community_id,
        street_id=street_id,
        **{colour: counts.get(colour, 0) for colour in COLOURS},
    )


@transaction.atomic
def record_daily_counts(day: date | None = None) -> int:
    """Write ``day``'s row (default today) for every grid from the live colours; returns the rows written."""
    day = day or timezone.localdate()
    live: dict[int, dict[str, int]] = defaultdict(dict)
    counted = (
        Resident.objects.filter(left_at__isnull=True)
        .order_by()
        .values_list("grid_id", "status")
        .annotate(n=Count("id"))
    )
    for grid_id, status, n in counted:
        live[grid_id][status] = n
    return _write(_row(day, grid, live.get(grid[0], {})) for grid in _grids())


@transaction.atomic
def rebuild_daily_counts(first_day: date, last_day: date) -> int:
    """Reconstruct the rows of ``first_day``…``last_day`` from the status history; returns the rows written.

    One pass over the residents and one over their changes, in time order: the
    counts of each grid are carried from one day's end to the next.
    """
    if last_day < first_day:
        return 0
    days = [first_day + timedelta(days=n) for n in range((last_day - first_day).days + 1)]
    ends = [day_start(day + timedelta(days=1)) for day in days]
    last_end = ends[-1]

    # Events up to the last day's end: (when, order, resident, status). At the same
    # instant a resident enters the ledger before their first change, and changes
    # before moving out.
    events: list[tuple[datetime, int, int, str]] = []
    grid_of: dict[int, int] = {}
    residents = (
        Resident.objects.filter(created_at__lt=last_end)
        .filter(Q(left_at__isnull=True) | Q(left_at__gte=ends[0]))
        .values_list("id", "grid_id", "created_at", "left_at")
    )
    for resident_id, grid_id, created_at, left_at in residents.iterator(chunk_size=BATCH):
        grid_of[resident_id] = grid_id
        events.append((created_at, 0, resident_id, ""))
        if left_at is not None and left_at < last_end:
            events.append((left_at, 2, resident_id, ""))
    changes = StatusChange.objects.filter(changed_at__lt=last_end).values_list("resident_id", "to_status", "changed_at")
    for resident_id, to_status, changed_at in changes.iterator(chunk_size=BATCH):
        if resident_id in grid_of:
            events.append((changed_at, 1, resident_id, to_status))
    events.sort(key=lambda event: (event[0], event[1]))

    status: dict[int, str] = {}
    present: set[int] = set()
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    grids = _grids()
    rows: list[DailyCount] = []
    times = [event[0] for event in events]
    start = 0
    for day, end in zip(days, ends, strict=True):
        stop = bisect_left(times, end)  # the events before the day's end
        for _when, order, resident_id, to_status in events[start:stop]:
            grid = counts[grid_of[resident_id]]
            current = status.get(resident_id, Status.HEALTHY.value)
            if order == 0:
                present.add(resident_id)
                grid[current] += 1
            elif order == 2:
                present.discard(resident_id)
                grid[current] -= 1
            else:
                status[resident_id] = to_status
                if resident_id in present:
                    grid[current] -= 1
                    grid[to_status] += 1
        start = stop
        rows.extend(_row(day, grid, counts.get(grid[0], {})) for grid in grids)
    return _write(rows)


def at_local_times(times: Callable[[], set[tuple[int, int]]]) -> Callable[[datetime], bool]:
    """A Huey schedule that fires at the given ``(hour, minute)`` of the deployment's time zone.

    Huey hands periodic checks a naive timestamp in UTC (its default ``utc=True``),
    so a plain ``crontab(hour=23)`` would fire at 23:00 UTC, 07:00 in Shanghai.
    """

    def validate(timestamp: datetime) -> bool:
        aware = timestamp.replace(tzinfo=UTC) if HUEY.utc else timezone.make_aware(timestamp)
        local = timezone.localtime(aware)
        return (local.hour, local.minute) in times()

    return validate


def count_times() -> set[tuple[int, int]]:
    """The cut-off (reports need the day's numbers) and 23:55 (the day as it ends)."""
    return {(settings.DAILY_CUTOFF_HOUR, 0), (23, 55)}


@db_periodic_task(at_local_times(count_times))
def record_todays_counts() -> None:
    """Keep today's ``DailyCount`` rows: at the cut-off and at 23:55, local time."""
    record_daily_counts(timezone.localdate())
