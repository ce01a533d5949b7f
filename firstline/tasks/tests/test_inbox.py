"""The task inbox, the team view and a task's page, walked by the personas of ``conftest.py``.

Assertions look at codes, data attributes and Chinese text (the default language).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone, translation

from firstline.conftest import make_user
from firstline.people.actions import do_create_resident
from firstline.status.actions import do_record_gate_reading
from firstline.tasks.actions import escalate_overdue, open_task
from firstline.tasks.models import Task
from firstline.tasks.queries import due_in_words, inbox_for

INBOX = reverse("tasks:inbox")


def task_codes(response, section: str) -> list[str]:
    """Codes of the tasks listed in ``section`` (``mine`` or ``unassigned``), in page order."""
    html = response.content.decode()
    match = re.search(rf'<ul class="tasks" id="{section}">(.*?)</ul>', html, re.S)
    return re.findall(r'id="task-(\w+)"', match.group(1)) if match else []


@pytest.fixture
def tasks(world):
    """A1: a visit, an urgent fever task, an overdue call; A2: a visit; A1 unassigned at grid level."""
    now = timezone.now()
    visit = open_task(Task.Kind.VISIT, resident=world.resident_a1, note="上门核实", due_at=now + timedelta(hours=5))
    call = open_task(Task.Kind.CALL, resident=world.resident_a1, note="电话询问", due_at=now - timedelta(hours=3))
    fever = open_task(Task.Kind.FEVER, resident=world.resident_a1, urgent=True, due_at=now + timedelta(hours=2))
    other = open_task(Task.Kind.VISIT, resident=world.resident_a2, note="乙网格的任务")
    floating = open_task(Task.Kind.OTHER, resident=world.resident_a1, note="待认领")
    Task.objects.filter(pk=floating.pk).update(assignee=None)
    return {"visit": visit, "call": call, "fever": fever, "other": other, "floating": floating}


def test_it_lists_my_tasks_urgent_first_then_by_due_time_then_the_unassigned_ones(world, login, tasks):
    response = login(world.grid_worker).get(INBOX)

    assert response.status_code == 200
    assert task_codes(response, "mine") == [tasks["fever"].code, tasks["call"].code, tasks["visit"].code]
    assert task_codes(response, "unassigned") == [tasks["floating"].code]
    html = response.content.decode()
    assert "乙网格的任务" not in html and world.resident_a2.name not in html
    assert "紧急" in html and "已超时3小时" in html and "2小时后到期" in html
    assert world.household_a1.address in html and "张三" in html
    assert world.resident_a1.id_number_masked not in html  # the inbox shows name and address only


def test_the_other_grid_worker_sees_only_her_grid(world, login, tasks):
    response = login(world.other_worker).get(INBOX)

    assert task_codes(response, "mine") == [tasks["other"].code]
    assert task_codes(response, "unassigned") == []
    assert "张三" not in response.content.decode()


def test_a_read_only_viewer_has_no_inbox_and_lands_on_the_community(world, login, tasks):
    client = login(world.viewer)

    assert client.get(INBOX).status_code == 403
    assert client.get(reverse("home")).url == reverse("people:overview", kwargs={"community": world.community.code})


def test_a_worker_lands_on_the_inbox_and_the_navigation_counts_her_open_tasks(world, login, tasks):
    client = login(world.grid_worker)

    assert client.get(reverse("home")).url == INBOX
    page = client.get(reverse("people:residents", kwargs={"community": world.community.code})).content.decode()
    assert re.search(r'class="nav-tasks">任务 <span class="badge">4</span>', page)


@pytest.mark.parametrize("persona", ["other_worker", "viewer"])
def test_a_task_of_grid_a1_is_404_outside_it(world, login, tasks, persona):
    client = login(getattr(world, persona))
    task = tasks["visit"]

    assert client.get(reverse("tasks:task", kwargs={"code": task.code})).status_code == 404
    assert client.post(reverse("tasks:task_done", kwargs={"code": task.code}), {"note": "x"}).status_code == 404
    visit = {"temperature": "36.5", "client_id": "6f1c0f7e-0000-4000-8000-000000000001"}
    assert client.post(reverse("tasks:task_visit", kwargs={"code": task.code}), visit).status_code == 404
    task.refresh_from_db()
    assert task.is_open


def test_it_lists_the_inbox_in_a_constant_number_of_queries(world, login, tasks, django_assert_num_queries):
    client = login(world.grid_worker)
    client.get(INBOX)  # warm up: session and translations
    # session, user, memberships, tasks, community for the navigation, session save (3)
    with django_assert_num_queries(8):
        first = client.get(INBOX)
    for number in range(30):
        open_task(Task.Kind.VISIT, resident=world.resident_a1, note=f"第{number}户")
    with django_assert_num_queries(8):
        second = client.get(INBOX)
    assert len(task_codes(first, "mine")) + 30 == len(task_codes(second, "mine"))


def test_the_source_of_a_fever_task_is_its_referral(world, login):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.5")

    html = login(world.grid_worker).get(INBOX).content.decode()

    assert "转诊 · 发热门诊 · 已申请" in html
    assert "#referral-" in html


def test_the_team_view_shows_every_open_task_of_the_community_by_assignee(world, login, tasks):
    with time_machine.travel(timezone.now() + timedelta(hours=4)):
        assert escalate_overdue() == 2  # the overdue call and the fever task, up to the community
    response = login(world.admin).get(reverse("tasks:team"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "网格员甲" in html and "网格员乙" in html and "未分派" in html
    assert "乙网格的任务" in html and "上门核实" in html
    assert "已升级1次" in html
    for persona in ("grid_worker", "viewer", "other_worker"):
        assert login(getattr(world, persona)).get(reverse("tasks:team")).status_code == 403


def test_a_grid_leader_has_the_team_view_of_her_grid_only(world, login, tasks):
    leader = make_user("leader_a1", "grid_leader", world.grid_a1, "网格长")

    html = login(leader).get(reverse("tasks:team")).content.decode()

    assert "上门核实" in html and "乙网格的任务" not in html


def test_a_building_leader_gets_the_tasks_of_her_building_and_the_grid_worker_does_not(world, login):
    leader = make_user("leader_b1", "building_leader", world.building_a1, "楼栋长")
    task = open_task(Task.Kind.VISIT, resident=world.resident_a1, level=Task.Level.BUILDING, note="楼栋走访")

    assert task.assignee == leader
    assert list(inbox_for(leader)) == [task]
    assert task not in inbox_for(world.grid_worker)


def test_due_times_read_as_a_worker_says_them():
    now = timezone.now()
    with translation.override("zh-hans"):
        assert due_in_words(now + timedelta(hours=1, minutes=59), now).text == "2小时后到期"
        assert due_in_words(now - timedelta(hours=3, minutes=10), now).text == "已超时3小时"
    with translation.override("en"):
        assert due_in_words(now + timedelta(minutes=30), now).text == "due in 30 minutes"
        assert due_in_words(now - timedelta(hours=3, minutes=10), now).text == "overdue by 3 hours"
        assert due_in_words(now + timedelta(days=3, hours=1), now).text == "due in 3 days"
        assert due_in_words(now - timedelta(seconds=20), now).overdue


def test_a_task_opened_by_hand_goes_to_the_grid_worker_and_is_audited(world, login):
    from firstline.audit.models import AuditEvent

    response = login(world.admin).post(
        reverse("tasks:task_new", kwargs={"code": world.resident_a1.code}),
        {"kind": "call", "note": "电话问候独居老人", "urgent": "on"},
    )

    task = Task.objects.get(note="电话问候独居老人")
    assert response.url == reverse("tasks:task", kwargs={"code": task.code})
    assert (task.kind, task.urgent, task.assignee, task.created_by) == ("call", True, world.grid_worker, world.admin)
    assert AuditEvent.objects.filter(action="create", object_code=task.code, actor=world.admin).exists()
    assert (
        login(world.viewer)
        .post(reverse("tasks:task_new", kwargs={"code": world.resident_a1.code}), {"kind": "call", "note": "x"})
        .status_code
        == 403
    )
    assert Task.objects.count() == 1


def test_a_new_resident_in_grid_a1_brings_nothing_into_the_other_inbox(world, login):
    newcomer = do_create_resident(world.admin, world.household_a1, {"name": "王五"})
    open_task(Task.Kind.VISIT, resident=newcomer)

    assert not task_codes(login(world.other_worker).get(INBOX), "mine")
