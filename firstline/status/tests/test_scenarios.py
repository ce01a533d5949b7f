"""The two journeys of the screening rules, with the clock moved by time-machine."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from firstline.accounts.models import Membership
from firstline.people.models import Resident, Status
from firstline.scoping import forget_memberships
from firstline.status.actions import (
    do_record_checkin,
    do_record_gate_reading,
    do_register_arrival,
    do_release_isolation,
    do_update_referral,
)
from firstline.status.jobs import expected_checkins, find_missed_checkins, find_releases_due
from firstline.status.models import IsolationOrder, Reason, Referral, RiskArea, StatusChange
from firstline.status.rules import default_rules, windows_on
from firstline.tasks.models import Task

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2020, 2, 1)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2020, 2, 1, hour, minute, tzinfo=SHANGHAI) + timedelta(days=day)


def history(resident: Resident) -> list[tuple[str, str, str, str]]:
    return [
        (change.from_status, change.to_status, change.reason, change.changed_by.username if change.changed_by else "")
        for change in StatusChange.objects.filter(resident=resident).select_related("changed_by")
    ]


def colour(resident: Resident) -> str:
    resident.refresh_from_db()
    return resident.status


@pytest.fixture(autouse=True)
def memberships_since_2019(world):
    """The world is built today; these journeys happen in 2020: the team was already there."""
    Membership.objects.update(starts_at=datetime(2019, 1, 1, tzinfo=SHANGHAI))
    for user in (world.admin, world.grid_worker, world.other_worker, world.viewer):
        forget_memberships(user)


@pytest.fixture
def wuhan(world):
    return RiskArea.objects.create(
        street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1)
    )


def test_arrival_from_a_risk_area_isolation_fever_referral_and_release(world, wuhan):
    zhang = world.resident_a1
    with time_machine.travel(at(0, 9), tick=False):
        result = do_register_arrival(
            world.admin,
            {"origin": "武汉市江汉区", "arrival_date": DAY0, "transport": "train", "trip_no": "G1234"},
            resident=zhang,
        )
    assert result.risk_area == wuhan
    assert colour(zhang) == Status.HOME_ISOLATION
    order = IsolationOrder.objects.get(resident=zhang)
    assert order.planned_end == DAY0 + timedelta(days=14) and order.kind == "home"

    # Expected to check in from the first window after the order: not this morning's, this evening's.
    morning, evening = windows_on(DAY0, default_rules())
    assert zhang not in expected_checkins(morning)
    assert zhang in expected_checkins(evening)

    with time_machine.travel(at(0, 18), tick=False):
        do_record_checkin(world.grid_worker, zhang, client_id=None, temperature="36.6")
    # Day 1: the morning window closes without a check-in → a visit task for the grid worker of grid A1.
    with time_machine.travel(at(1, 12, 5), tick=False):
        assert find_missed_checkins() == 1
        assert find_missed_checkins() == 0  # once per window
    missed = Task.objects.get(kind=Task.Kind.MISSED_CHECKIN, resident=zhang)
    assert missed.assignee == world.grid_worker and missed.level == "grid"
    assert not Task.objects.visible_to(world.other_worker, "work_tasks").filter(pk=missed.pk).exists()

    # Evening: 37.8 °C → a fever-clinic referral and an urgent task; still red (isolation is stricter).
    with time_machine.travel(at(1, 18), tick=False):
        do_record_checkin(world.grid_worker, zhang, client_id=None, temperature="37.8")
    referral = Referral.objects.get(resident=zhang)
    assert referral.destination == "fever_clinic" and referral.state == "requested"
    fever_task = Task.objects.get(kind=Task.Kind.FEVER, resident=zhang)
    assert fever_task.urgent and fever_task.assignee == world.grid_worker
    assert colour(zhang) == Status.HOME_ISOLATION

    # Taken to the clinic: out (blue) while there; back negative: home isolation again.
    with time_machine.travel(at(1, 19), tick=False):
        do_update_referral(world.grid_worker, referral, "in_transit")
    assert colour(zhang) == Status.OUT
    fever_task.refresh_from_db()
    assert fever_task.state == "done"
    with time_machine.travel(at(1, 20), tick=False):
        do_update_referral(world.grid_worker, referral, "arrived", facility="区人民医院发热门诊")
    with time_machine.travel(at(1, 23), tick=False):
        do_update_referral(world.grid_worker, referral, "outcome", outcome="negative")
    assert colour(zhang) == Status.HOME_ISOLATION
    referral.refresh_from_db()
    assert referral.closed_at is not None and [step["state"] for step in referral.history] == [
        "requested",
        "in_transit",
        "arrived",
        "outcome",
    ]

    # Release is refused before the full period, and changes nothing.
    with time_machine.travel(at(10, 10), tick=False), pytest.raises(ValidationError):
        do_release_isolation(world.grid_worker, order)
    order.refresh_from_db()
    assert order.released_at is None and colour(zhang) == Status.HOME_ISOLATION

    # The period ends: a release task, then the release by a worker → green.
    with time_machine.travel(at(14, 8), tick=False):
        assert find_releases_due() == 1
        release_task = Task.objects.get(kind=Task.Kind.RELEASE_DUE, resident=zhang)
        assert release_task.assignee == world.grid_worker
        do_release_isolation(world.grid_worker, order, note="14天期满，无症状")
    assert colour(zhang) == Status.HEALTHY
    release_task.refresh_from_db()
    assert release_task.state == "done"

    assert history(zhang) == [
        (Status.HEALTHY, Status.HOME_ISOLATION, Reason.ARRIVAL_FROM_RISK_AREA, "admin_a"),
        (Status.HOME_ISOLATION, Status.OUT, Reason.REFERRAL_LEFT, "worker_a1"),
        (Status.OUT, Status.HOME_ISOLATION, Reason.REFERRAL_BACK, "worker_a1"),
        (Status.HOME_ISOLATION, Status.HEALTHY, Reason.ISOLATION_RELEASED, "worker_a1"),
    ]


def test_fever_at_the_gate_observation_then_seven_normal_checkins(world):
    li = world.resident_a2
    with time_machine.travel(at(0, 8), tick=False):
        do_record_gate_reading(world.admin, li, "38.1")
    assert colour(li) == Status.OBSERVATION
    referral = Referral.objects.get(resident=li)
    task = Task.objects.get(kind=Task.Kind.FEVER, resident=li)
    assert task.urgent and task.assignee == world.other_worker  # li lives in grid A2

    with time_machine.travel(at(0, 9), tick=False):
        do_update_referral(world.other_worker, referral, "in_transit")
    assert colour(li) == Status.OUT
    with time_machine.travel(at(0, 11), tick=False):
        do_update_referral(world.other_worker, referral, "outcome", outcome="negative")
    assert colour(li) == Status.OBSERVATION

    readings = [at(day, hour) for day in range(0, 4) for hour in (18, 8) if at(day, hour) > at(0, 11)][:7]
    readings.sort()
    for number, moment in enumerate(readings, start=1):
        with time_machine.travel(moment, tick=False):
            do_record_checkin(world.other_worker, li, client_id=None, temperature="36.5")
        assert colour(li) == (Status.HEALTHY if number == 7 else Status.OBSERVATION), number

    assert history(li) == [
        (Status.HEALTHY, Status.OBSERVATION, Reason.FEVER, "admin_a"),
        (Status.OBSERVATION, Status.OUT, Reason.REFERRAL_LEFT, "worker_a2"),
        (Status.OUT, Status.OBSERVATION, Reason.REFERRAL_BACK, "worker_a2"),
        (Status.OBSERVATION, Status.HEALTHY, Reason.OBSERVATION_CLEARED, "worker_a2"),
    ]


def test_a_fever_in_the_streak_starts_it_again(world):
    li = world.resident_a2
    with time_machine.travel(at(0, 8), tick=False):
        do_record_gate_reading(world.admin, li, "37.5")
    referral = Referral.objects.get(resident=li)
    with time_machine.travel(at(0, 9), tick=False):
        do_update_referral(world.other_worker, referral, "outcome", outcome="negative")
    moments = sorted(at(day, hour) for day in range(1, 7) for hour in (8, 18))
    temperatures = ["36.5"] * 5 + ["37.4"] + ["36.5"] * 6
    for moment, temperature in zip(moments, temperatures, strict=True):
        with time_machine.travel(moment, tick=False):
            do_record_checkin(world.other_worker, li, client_id=None, temperature=temperature)
    # Six normal readings after the fever: not yet seven.
    assert colour(li) == Status.OBSERVATION
