"""The actions behind the worker's screens: risk areas, a community's rules, visits, idempotent readings."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.utils import timezone, translation

from firstline.audit.models import AuditEvent
from firstline.conftest import make_user
from firstline.status.actions import (
    do_add_risk_area,
    do_end_risk_area,
    do_record_checkin,
    do_record_visit,
    do_register_arrival,
    do_set_community_rules,
)
from firstline.status.models import CheckIn, CheckInConflict, CommunityRules, RiskArea
from firstline.status.rules import rules_for
from firstline.tasks.actions import close_tasks, open_task
from firstline.tasks.models import Task, TaskEvent


@pytest.fixture
def officer(world):
    return make_user("officer", "street_officer", world.street, "街道干部")


# --- risk areas


def test_only_the_street_keeps_its_risk_areas(world, officer):
    for user in (world.admin, world.grid_worker, world.viewer):
        with pytest.raises(PermissionDenied):
            do_add_risk_area(user, world.street, name="湖北省武汉市")
    assert not RiskArea.objects.exists()

    area = do_add_risk_area(
        officer, world.street, name=" 湖北省武汉市 ", keywords="武汉", active_from=date(2020, 1, 23)
    )

    assert (area.name, area.active_from, area.added_by) == ("湖北省武汉市", date(2020, 1, 23), officer)
    assert do_register_arrival(world.admin, {"origin": "武汉"}, resident=world.resident_a1).order is not None


def test_a_risk_area_needs_a_name_sensible_dates_and_no_twin(world, officer):
    with pytest.raises(ValidationError) as empty:
        do_add_risk_area(officer, world.street, name="  ")
    with pytest.raises(ValidationError) as backwards:
        do_add_risk_area(
            officer, world.street, name="湖北省", active_from=date(2020, 2, 1), active_until=date(2020, 1, 1)
        )
    do_add_risk_area(officer, world.street, name="湖北省")
    with pytest.raises(ValidationError) as twin:
        do_add_risk_area(officer, world.street, name="湖北省")

    assert set(empty.value.message_dict) == {"name"} and set(twin.value.message_dict) == {"name"}
    assert set(backwards.value.message_dict) == {"active_until"}
    assert RiskArea.objects.count() == 1


def test_an_ended_area_no_longer_isolates_and_cannot_end_twice(world, officer):
    area = do_add_risk_area(officer, world.street, name="湖北省武汉市", active_from=date(2020, 1, 1))

    do_end_risk_area(officer, area)

    assert area.active_until == timezone.localdate() - timedelta(days=1)
    with pytest.raises(ValidationError):
        do_end_risk_area(officer, area)
    assert do_register_arrival(world.admin, {"origin": "武汉市"}, resident=world.resident_a1).risk_area is None


def test_an_area_added_today_and_ended_today_was_never_in_force(world, officer):
    area = do_add_risk_area(officer, world.street, name="湖北省武汉市")

    do_end_risk_area(officer, area)

    assert area.active_until == area.active_from - timedelta(days=1)


def test_a_deployment_wide_area_is_not_the_streets_to_end(world, officer):
    area = RiskArea.objects.create(street=None, name="湖北省", active_from=date(2020, 1, 1))

    with pytest.raises(PermissionDenied):
        do_end_risk_area(officer, area)
    area.refresh_from_db()
    assert area.active_until is None


# --- a community's rules


def test_a_community_sets_its_own_rules_and_empty_returns_to_the_default(world):
    do_set_community_rules(world.admin, world.community, {"isolation_days": 21, "fever_threshold": Decimal("37.5")})

    assert (rules_for(world.community.id).isolation_days, rules_for(world.community.id).fever_threshold) == (
        21,
        Decimal("37.5"),
    )
    do_set_community_rules(world.admin, world.community, {"isolation_days": None})
    assert rules_for(world.community.id).isolation_days == 14
    events = AuditEvent.objects.filter(reason="rules").order_by("id")
    assert [sorted(event.detail["fields"]) for event in events] == [
        ["fever_threshold", "isolation_days"],
        ["isolation_days"],
    ]


def test_rules_out_of_range_or_by_the_wrong_person_change_nothing(world):
    with pytest.raises(ValidationError) as error:
        do_set_community_rules(world.admin, world.community, {"isolation_days": 0, "referral_stale_hours": 500})
    with pytest.raises(PermissionDenied):
        do_set_community_rules(world.grid_worker, world.community, {"isolation_days": 10})

    assert set(error.value.message_dict) == {"isolation_days", "referral_stale_hours"}
    assert not CommunityRules.objects.exists() and not AuditEvent.objects.filter(reason="rules").exists()


def test_nothing_changed_writes_nothing(world):
    do_set_community_rules(world.admin, world.community, {"isolation_days": 21})
    do_set_community_rules(world.admin, world.community, {"isolation_days": 21})

    assert AuditEvent.objects.filter(reason="rules").count() == 1


# --- visits and readings


def test_a_visit_for_another_residents_task_is_refused(world):
    task = open_task(Task.Kind.VISIT, resident=world.resident_a2)

    with pytest.raises(ValidationError):
        do_record_visit(world.admin, world.resident_a1, temperature="36.5", task=task)

    assert not CheckIn.objects.exists()
    task.refresh_from_db()
    assert task.is_open


def test_a_visit_does_not_close_a_task_twice(world):
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1)
    stale = Task.objects.get(pk=task.pk)
    close_tasks(Q(pk=task.pk), "已由他人处理")  # closed meanwhile, e.g. by a late check-in

    do_record_visit(world.grid_worker, world.resident_a1, temperature="36.5", task=stale)

    task.refresh_from_db()
    assert task.done_note == "已由他人处理"
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.DONE).count() == 1


def test_a_visit_with_symptoms_only_is_noted_as_a_visit(world):
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1)

    with translation.override("en"):
        do_record_visit(world.grid_worker, world.resident_a1, temperature=None, symptoms=["cough"], task=task)

    task.refresh_from_db()
    assert task.state == Task.State.DONE and task.done_note == "Visited."


def test_the_same_moment_in_another_time_zone_is_the_same_checkin(world):
    client_id = uuid.uuid4()
    moment = timezone.now().replace(microsecond=0)

    first, created = do_record_checkin(
        world.grid_worker, world.resident_a1, client_id=client_id, temperature="36.5",
        taken_at=moment.astimezone(ZoneInfo("Asia/Shanghai")),
    )  # fmt: skip
    again, created_again = do_record_checkin(
        world.grid_worker, world.resident_a1, client_id=client_id, temperature="36.50",
        taken_at=moment.astimezone(ZoneInfo("UTC")),
    )  # fmt: skip

    assert (created, created_again) == (True, False) and again == first
    assert not CheckInConflict.objects.exists()
    assert isinstance(first.taken_at, datetime)
