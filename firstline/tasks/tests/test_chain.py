"""Tasks go to the person responsible along the chain, and climb it when overdue."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from firstline.conftest import make_user
from firstline.tasks.actions import do_complete_task, escalate_overdue, open_task
from firstline.tasks.models import Task, TaskEvent


def test_a_resident_task_goes_to_the_building_leader_first_then_the_grid_worker(world):
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1, level=Task.Level.BUILDING)
    assert (task.level, task.assignee) == ("grid", world.grid_worker)  # no building leader in building 1
    leader = make_user("leader_b1", "building_leader", world.building_a1)
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1, level=Task.Level.BUILDING)
    assert (task.level, task.assignee) == ("building", leader)


def test_the_least_busy_holder_gets_the_next_task(world):
    second = make_user("worker_a1b", "grid_worker", world.grid_a1)
    first = open_task(Task.Kind.CALL, resident=world.resident_a1)
    following = open_task(Task.Kind.CALL, resident=world.resident_a1)
    assert {first.assignee, following.assignee} == {world.grid_worker, second}


def test_a_rule_opens_its_task_once(world):
    one = open_task(Task.Kind.MISSED_CHECKIN, resident=world.resident_a1, dedupe_key="missed:x")
    two = open_task(Task.Kind.MISSED_CHECKIN, resident=world.resident_a1, dedupe_key="missed:x")
    assert one.pk == two.pk and Task.objects.count() == 1


def test_overdue_tasks_climb_one_level_at_a_time(world):
    officer = make_user("officer", "street_officer", world.street)
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1, urgent=True)
    assert task.assignee == world.grid_worker
    assert escalate_overdue(task.due_at - timedelta(minutes=1)) == 0
    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        assert escalate_overdue() == 1
        task.refresh_from_db()
        assert (task.level, task.assignee, task.escalations) == ("community", world.admin, 1)
        assert task.due_at > timezone.now()
    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        escalate_overdue()
    task.refresh_from_db()
    assert (task.level, task.assignee, task.escalations) == ("street", officer, 2)
    assert list(TaskEvent.objects.filter(task=task).values_list("kind", flat=True)) == [
        "created",
        "escalated",
        "escalated",
    ]


def test_only_someone_responsible_may_close_a_task_and_a_refusal_changes_nothing(world):
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1)
    with pytest.raises(PermissionDenied):
        do_complete_task(world.other_worker, task, "不是我的网格")
    task.refresh_from_db()
    assert task.state == "open" and not TaskEvent.objects.filter(task=task, kind="done").exists()
    do_complete_task(world.grid_worker, task, "已上门，体温正常")
    task.refresh_from_db()
    assert (task.state, task.done_by, task.done_note) == ("done", world.grid_worker, "已上门，体温正常")
