"""Doing a task from its page: a visit (the rules apply), done with a note, or the shortcut its kind calls for."""

from __future__ import annotations

import uuid
from datetime import timedelta

import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from firstline.people.models import Status
from firstline.status.actions import do_record_gate_reading, open_isolation
from firstline.status.jobs import find_releases_due, find_silent_referrals
from firstline.status.models import CheckIn, Reason, Referral, StatusChange
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task, TaskEvent


def task_url(task: Task, name: str = "tasks:task") -> str:
    return reverse(name, kwargs={"code": task.code})


def missed_checkin(world) -> Task:
    return open_task(Task.Kind.MISSED_CHECKIN, resident=world.resident_a1, note="未打卡：请上门", dedupe_key="missed:t")


def test_a_visit_with_a_fever_completes_the_task_and_turns_the_resident_yellow(world, login):
    task = missed_checkin(world)
    client = login(world.grid_worker)
    page = client.get(task_url(task)).content.decode()
    assert 'action="' + task_url(task, "tasks:task_visit") + '"' in page

    response = client.post(
        task_url(task, "tasks:task_visit"), {"temperature": "38.2", "symptoms": ["cough"], "client_id": uuid.uuid4()}
    )

    assert response.url == task_url(task)
    task.refresh_from_db()
    assert task.state == Task.State.DONE and task.done_by == world.grid_worker and "38.2" in task.done_note
    checkin = CheckIn.objects.get(resident=world.resident_a1)
    assert (checkin.source, str(checkin.temperature), checkin.symptoms) == ("visit", "38.2", ["cough"])
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.status == Status.OBSERVATION
    change = StatusChange.objects.get(resident=world.resident_a1)
    assert (change.reason, change.changed_by) == (Reason.FEVER, world.grid_worker)
    fever = Task.objects.get(kind=Task.Kind.FEVER)
    assert fever.urgent and fever.assignee == world.grid_worker and fever.is_open
    assert Referral.objects.get().destination == "fever_clinic"


def test_a_normal_visit_completes_the_task_and_keeps_the_colour(world, login):
    task = missed_checkin(world)

    login(world.grid_worker).post(
        task_url(task, "tasks:task_visit"), {"temperature": "36.4", "note": "在家，无不适", "client_id": uuid.uuid4()}
    )

    task.refresh_from_db()
    assert task.state == Task.State.DONE and task.done_note == "在家，无不适"
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.status == Status.HEALTHY and not StatusChange.objects.exists()


def test_a_double_tap_records_one_visit(world, login):
    task = missed_checkin(world)
    client = login(world.grid_worker)
    visit = {"temperature": "36.8", "client_id": uuid.uuid4()}

    client.post(task_url(task, "tasks:task_visit"), visit)
    client.post(task_url(task, "tasks:task_visit"), visit)

    assert CheckIn.objects.count() == 1
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.DONE).count() == 1


def test_a_refused_visit_says_why_and_changes_nothing(world, login):
    task = missed_checkin(world)
    client = login(world.grid_worker)

    response = client.post(task_url(task, "tasks:task_visit"), {"temperature": "45", "client_id": uuid.uuid4()})

    assert [str(message) for message in get_messages(response.wsgi_request)] == ["体温应在34.0至43.0 °C之间，请核对。"]
    task.refresh_from_db()
    assert task.is_open and not CheckIn.objects.exists()


def test_done_with_a_note_and_not_twice(world, login):
    task = missed_checkin(world)
    client = login(world.grid_worker)

    response = client.post(task_url(task, "tasks:task_done"), {"note": "已电话联系，本人在家"})

    assert response.url == reverse("tasks:inbox")
    task.refresh_from_db()
    assert (task.state, task.done_note, task.done_by) == (Task.State.DONE, "已电话联系，本人在家", world.grid_worker)
    again = client.post(task_url(task, "tasks:task_done"), {"note": "再次"})
    assert again.url == task_url(task)
    task.refresh_from_db()
    assert task.done_note == "已电话联系，本人在家"
    assert TaskEvent.objects.filter(task=task, kind=TaskEvent.Kind.DONE).count() == 1


def test_a_fever_task_offers_the_referral_steps_and_a_step_closes_it(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.6")
    task = Task.objects.get(kind=Task.Kind.FEVER)
    referral = Referral.objects.get()
    client = login(world.grid_worker)

    page = client.get(task_url(task)).content.decode()
    assert 'id="shortcut"' in page and reverse("screening:referral_update", kwargs={"code": referral.code}) in page
    assert "转运中" in page and "阴性" in page

    response = client.post(
        reverse("screening:referral_update", kwargs={"code": referral.code}),
        {"state": "in_transit", "next": task_url(task)},
    )

    assert response.url == task_url(task)
    task.refresh_from_db()
    referral.refresh_from_db()
    world.resident_a1.refresh_from_db()
    assert task.state == Task.State.DONE and referral.state == "in_transit"
    assert world.resident_a1.status == Status.OUT


def test_a_release_due_task_offers_the_release(world, login):
    with time_machine.travel(timezone.now() - timedelta(days=15)):
        order = open_isolation(world.resident_a1, reason=Reason.ISOLATION_ORDERED, actor=world.admin)
    assert find_releases_due() == 1
    task = Task.objects.get(kind=Task.Kind.RELEASE_DUE)
    client = login(world.grid_worker)
    assert (
        reverse("screening:isolation_release", kwargs={"code": order.code})
        in client.get(task_url(task)).content.decode()
    )

    response = client.post(
        reverse("screening:isolation_release", kwargs={"code": order.code}),
        {"note": "期满无症状", "next": task_url(task)},
    )

    assert response.url == task_url(task)
    task.refresh_from_db()
    order.refresh_from_db()
    world.resident_a1.refresh_from_db()
    assert task.state == Task.State.DONE and order.released_by == world.grid_worker
    assert world.resident_a1.status == Status.HEALTHY


def test_a_silent_referral_becomes_a_follow_up_and_an_update_closes_it(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.6")
    Referral.objects.update(updated_at=timezone.now() - timedelta(hours=8))  # no news since
    assert find_silent_referrals() == 1
    task = Task.objects.get(kind=Task.Kind.REFERRAL_FOLLOW_UP)
    referral = Referral.objects.get()
    client = login(world.grid_worker)
    assert 'id="shortcut"' in client.get(task_url(task)).content.decode()

    client.post(
        reverse("screening:referral_update", kwargs={"code": referral.code}),
        {"state": "outcome", "outcome": "negative", "next": task_url(task)},
    )

    task.refresh_from_db()
    assert task.state == Task.State.DONE
    referral.refresh_from_db()
    assert referral.closed_at is not None


def test_the_next_address_must_be_local(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.6")
    referral = Referral.objects.get()

    response = login(world.grid_worker).post(
        reverse("screening:referral_update", kwargs={"code": referral.code}),
        {"state": "in_transit", "next": "https://evil.example/"},
    )

    assert response.url == reverse("people:resident", kwargs={"code": world.resident_a1.code})
