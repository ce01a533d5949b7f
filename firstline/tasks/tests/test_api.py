"""GET /api/v1/tasks (my inbox) and POST /api/v1/tasks/{code}/done."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from firstline.accounts.actions import do_issue_token
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task


def as_user(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(user)}", "HTTP_ACCEPT_LANGUAGE": "en"}


def test_it_lists_my_inbox_urgent_first(world, client):
    late = open_task(
        Task.Kind.CALL, resident=world.resident_a1, note="电话", due_at=timezone.now() - timedelta(hours=1)
    )
    urgent = open_task(Task.Kind.FEVER, resident=world.resident_a1, urgent=True)
    open_task(Task.Kind.VISIT, resident=world.resident_a2)

    response = client.get("/api/v1/tasks", **as_user(world.grid_worker))

    assert response.status_code == 200
    items = response.json()
    assert [item["code"] for item in items] == [urgent.code, late.code]
    assert items[1]["overdue"] is True and items[0]["overdue"] is False
    assert items[0] | {"due_at": None} == {
        "code": urgent.code,
        "kind": "fever",
        "state": "open",
        "urgent": True,
        "due_at": None,
        "overdue": False,
        "level": "grid",
        "assignee": "worker_a1",
        "escalations": 0,
        "note": "",
        "source": "",
        "resident": world.resident_a1.code,
        "resident_name": "张三",
        "address": world.household_a1.address,
        "done_at": None,
        "done_note": "",
    }
    assert client.get("/api/v1/tasks", **as_user(world.viewer)).json() == []


def test_the_inbox_list_needs_a_constant_number_of_queries(world, client, django_assert_num_queries):
    headers = as_user(world.grid_worker)
    open_task(Task.Kind.VISIT, resident=world.resident_a1)
    client.get("/api/v1/tasks", **headers)
    # token, memberships, tasks; the audit head, the list event, the head
    with django_assert_num_queries(6):
        client.get("/api/v1/tasks", **headers)
    for _ in range(20):
        open_task(Task.Kind.VISIT, resident=world.resident_a1)
    with django_assert_num_queries(6):
        assert len(client.get("/api/v1/tasks", **headers).json()) == 21


def test_done_with_a_note(world, client):
    task = open_task(Task.Kind.CALL, resident=world.resident_a1)
    url = f"/api/v1/tasks/{task.code}/done"

    response = client.post(
        url, json.dumps({"note": "已联系"}), content_type="application/json", **as_user(world.grid_worker)
    )

    assert response.status_code == 200
    assert (response.json()["state"], response.json()["done_note"]) == ("done", "已联系")
    again = client.post(
        url, json.dumps({"note": "再次"}), content_type="application/json", **as_user(world.grid_worker)
    )
    assert again.status_code == 400 and again.json() == {"detail": "This task is already closed."}


def test_another_grids_task_is_404_and_stays_open(world, client):
    task = open_task(Task.Kind.CALL, resident=world.resident_a1)
    url = f"/api/v1/tasks/{task.code}/done"

    for user in (world.other_worker, world.viewer):
        response = client.post(url, json.dumps({"note": "x"}), content_type="application/json", **as_user(user))
        assert response.status_code == 404 and response.json() == {"detail": "Not found"}
    task.refresh_from_db()
    assert task.is_open
