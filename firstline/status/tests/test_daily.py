"""Daily counts: kept from the live colours, rebuilt from the status history, scheduled in local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from firstline.people.models import Resident, Status
from firstline.places.models import Building, Grid, Household
from firstline.status.daily import (
    at_local_times,
    count_times,
    day_start,
    rebuild_daily_counts,
    record_daily_counts,
    record_todays_counts,
)
from firstline.status.models import DailyCount, Reason, StatusChange

D0 = date(2026, 3, 1)
DAYS = [D0 + timedelta(days=n) for n in range(5)]  # D4 is "today"
NOON_OF_LAST_DAY = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai


def add_resident(household: Household, name: str, status: str = Status.HEALTHY, **fields) -> Resident:
    return Resident.objects.create(
        household=household,
        street_id=household.street_id,
        community_id=household.community_id,
        grid_id=household.grid_id,
        building_id=household.building_id,
        name=name,
        status=status,
        **fields,
    )


def change(resident: Resident, to_status: str, at: datetime) -> None:
    """What the status engine writes: a history row, and the cached colour."""
    row = StatusChange(
        resident=resident, from_status=resident.status, to_status=to_status, reason=Reason.CORRECTED, changed_at=at
    )
    row.place_like(resident)
    row.save()
    resident.status = to_status
    Resident.objects.filter(pk=resident.pk).update(status=to_status)


def at(day: date, hours: int = 0, minutes: int = 0, seconds: int = 0) -> datetime:
    return day_start(day) + timedelta(hours=hours, minutes=minutes, seconds=seconds)


def counts(day: date, grid: Grid) -> dict[str, int]:
    row = DailyCount.objects.get(day=day, grid=grid)
    return {value: getattr(row, value) for value in Status.values if getattr(row, value)}


def all_rows() -> list[tuple]:
    return list(
        DailyCount.objects.order_by("day", "grid_id").values_list(
            "day", "street_id", "community_id", "grid_id", *Status.values
        )
    )


@pytest.fixture
def village_group(world) -> Grid:
    """A villager group without residents: its rows say zero."""
    group = Grid.objects.create(community=world.village, name="一组")
    Building.objects.create(grid=group, name="张庄1号")
    return group


@pytest.fixture
def history(world, village_group):
    """Five days of colours in grids A1 and A2 (see the expectations in the test)."""
    Resident.objects.update(created_at=at(D0) - timedelta(days=1))
    r1 = add_resident(world.household_a1, "王一")
    r2 = add_resident(world.household_a1, "王二")
    r3 = add_resident(world.household_a2, "王三")
    r4 = add_resident(world.household_a2, "王四")
    Resident.objects.filter(pk__in=[r1.pk, r2.pk, r4.pk]).update(created_at=at(D0) - timedelta(days=1))
    Resident.objects.filter(pk=r3.pk).update(created_at=at(DAYS[2], 12))
    change(r1, Status.HOME_ISOLATION, at(DAYS[1], 10))
    change(r1, Status.HEALTHY, at(DAYS[3], 9))
    change(r2, Status.OBSERVATION, at(DAYS[0], 23, 59, 59))
    change(r2, Status.OUT, at(DAYS[2]))  # the first instant of D2 belongs to D2
    change(r3, Status.OBSERVATION, at(DAYS[2], 12))  # the instant it entered the ledger
    change(r4, Status.OUT, at(DAYS[1], 10))
    Resident.objects.filter(pk=r4.pk).update(left_at=at(DAYS[3], 8))
    return world


@time_machine.travel(NOON_OF_LAST_DAY, tick=False)
def test_it_rebuilds_past_days_from_the_status_history(history, village_group):
    written = rebuild_daily_counts(DAYS[0], DAYS[4])

    a1, a2 = history.grid_a1, history.grid_a2
    assert written == 5 * Grid.objects.count()
    assert [counts(day, a1) for day in DAYS] == [
        {"healthy": 2, "observation": 1},
        {"healthy": 1, "home_isolation": 1, "observation": 1},
        {"healthy": 1, "home_isolation": 1, "out": 1},
        {"healthy": 2, "out": 1},
        {"healthy": 2, "out": 1},
    ]
    assert [counts(day, a2) for day in DAYS] == [
        {"healthy": 2},
        {"healthy": 1, "out": 1},
        {"healthy": 1, "out": 1, "observation": 1},
        {"healthy": 1, "observation": 1},
        {"healthy": 1, "observation": 1},
    ]
    assert [counts(day, village_group) for day in DAYS] == [{}] * 5
    row = DailyCount.objects.get(day=DAYS[0], grid=a1)
    assert (row.street_id, row.community_id) == (history.street.id, history.community.id)


@time_machine.travel(NOON_OF_LAST_DAY, tick=False)
def test_its_reconstruction_of_today_agrees_with_the_live_colours(history):
    assert timezone.localdate() == DAYS[4]
    rebuild_daily_counts(DAYS[4], DAYS[4])
    rebuilt = all_rows()
    DailyCount.objects.all().delete()

    record_daily_counts(DAYS[4])

    assert all_rows() == rebuilt
    assert len(rebuilt) == Grid.objects.count()


@time_machine.travel(NOON_OF_LAST_DAY, tick=False)
def test_it_keeps_todays_rows_from_the_live_colours(history, village_group):
    record_daily_counts()

    assert counts(DAYS[4], history.grid_a1) == {"healthy": 2, "out": 1}
    assert counts(DAYS[4], history.grid_a2) == {"healthy": 1, "observation": 1}  # the one who left is not counted
    assert counts(DAYS[4], village_group) == {}
    assert DailyCount.objects.count() == Grid.objects.count()


@time_machine.travel(NOON_OF_LAST_DAY, tick=False)
def test_running_it_twice_gives_the_same_rows_and_a_later_run_updates_them(history):
    record_daily_counts(DAYS[4])
    first = all_rows()
    record_daily_counts(DAYS[4])
    assert all_rows() == first

    change(Resident.objects.get(name="王一"), Status.HOME_ISOLATION, timezone.now())
    record_daily_counts(DAYS[4])
    assert counts(DAYS[4], history.grid_a1) == {"healthy": 1, "home_isolation": 1, "out": 1}
    assert len(all_rows()) == len(first)

    rebuild_daily_counts(DAYS[0], DAYS[4])
    rebuilt = all_rows()
    rebuild_daily_counts(DAYS[0], DAYS[4])
    assert all_rows() == rebuilt
    assert counts(DAYS[4], history.grid_a1) == {"healthy": 1, "home_isolation": 1, "out": 1}


def test_it_rebuilds_nothing_for_an_empty_range(history):
    assert rebuild_daily_counts(DAYS[3], DAYS[2]) == 0
    assert not DailyCount.objects.exists()


@pytest.mark.parametrize(
    ("utc", "fires"),
    [
        (datetime(2026, 3, 5, 15, 55), True),  # 23:55 in Shanghai
        (datetime(2026, 3, 5, 7, 0), True),  # 15:00 in Shanghai: the cut-off
        (datetime(2026, 3, 5, 23, 55), False),  # 07:55 in Shanghai
        (datetime(2026, 3, 5, 15, 0), False),  # 23:00 in Shanghai
        (datetime(2026, 3, 5, 7, 1), False),
    ],
)
def test_the_job_runs_at_the_cut_off_and_before_midnight_local_time(utc, fires):
    assert at_local_times(count_times)(utc) is fires


def test_the_cut_off_hour_is_a_setting(settings):
    settings.DAILY_CUTOFF_HOUR = 16
    assert at_local_times(count_times)(datetime(2026, 3, 5, 8, 0)) is True  # 16:00 in Shanghai
    assert at_local_times(count_times)(datetime(2026, 3, 5, 7, 0)) is False


@time_machine.travel(NOON_OF_LAST_DAY, tick=False)
def test_the_job_keeps_todays_rows(history):
    record_todays_counts()

    assert counts(DAYS[4], history.grid_a1) == {"healthy": 2, "out": 1}
