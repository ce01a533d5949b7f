"""An arrival posted with another grid's resident's ID number says nothing about that resident.

The attack: a grid worker posting a new person with an ID number got "already in the
ledger of this community" for a resident of another grid, whom she may not see: an
oracle for who lives here. Now the answer is neutral, nothing is created, the
community gets one merge task with the arrival's details, and each probe counts
against the exact-search limit and is audited.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from firstline.accounts.actions import do_issue_token
from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.people.actions import do_create_resident
from firstline.people.models import Movement, Resident
from firstline.status.models import RiskArea
from firstline.tasks.models import Task

A2_ID = make_id_number(born=date(1985, 6, 1), serial=224)  # 李四, grid A2


def arrival(world, id_number: str, name: str = "李四") -> dict:
    return {
        "name": name,
        "id_number": id_number,
        "household": world.household_a1.code,
        "origin": "湖北省武汉市江汉区",
        "transport": "train",
    }


def send(client, user, body, language="zh-hans"):
    return client.post(
        "/api/v1/arrivals",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {do_issue_token(user)}",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def ledger() -> tuple:
    return (Resident.objects.count(), Movement.objects.count())


def test_another_grids_id_number_gets_a_neutral_answer_and_a_merge_task(world, client):
    RiskArea.objects.create(street=world.street, name="湖北省武汉市", keywords="武汉", active_from="2020-01-01")
    before = ledger()
    answer = send(client, world.grid_worker, arrival(world, A2_ID))
    assert answer.status_code == 400
    text = answer.json()["detail"]
    assert "社区" in text and "已有" not in text and "台账" in text
    assert world.resident_a2.code not in answer.content.decode() and "李四" not in text
    assert ledger() == before  # nothing created, no movement
    task = Task.objects.get(kind="merge")
    assert task.resident == world.resident_a2 and task.level == "community" and task.urgent  # from a risk area
    assert world.household_a1.address in task.note and "网格员甲" in task.note
    assert A2_ID not in task.note
    # Sent again, the same task; each probe is audited and counted like an exact search.
    send(client, world.grid_worker, arrival(world, A2_ID))
    assert Task.objects.filter(kind="merge").count() == 1
    events = AuditEvent.objects.filter(action="search", actor=world.grid_worker)
    assert [e.detail["clash"] for e in events] == [True, True]
    assert all(A2_ID not in json.dumps(e.detail) for e in events)


def test_a_number_nobody_holds_and_one_the_worker_can_see_are_answered_as_before(world, client):
    fresh = make_id_number(serial=77)
    assert send(client, world.grid_worker, arrival(world, fresh, name="新人")).status_code == 201
    own = send(client, world.grid_worker, arrival(world, world.resident_a1.id_number_masked and _a1_id(), "张三"))
    assert own.status_code == 400 and "已有" in own.json()["detail"]  # she sees 张三: no secret to keep
    assert not Task.objects.filter(kind="merge").exists()


def _a1_id() -> str:
    return make_id_number(serial=123)


def test_the_probes_stop_at_the_exact_search_limit(world, client, settings):
    settings.EXACT_SEARCH_LIMIT = 2
    statuses = [send(client, world.grid_worker, arrival(world, A2_ID)).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


def test_a_viewer_cannot_probe_at_all(world, client):
    answer = send(client, world.viewer, arrival(world, A2_ID))
    assert answer.status_code == 403
    assert not Task.objects.exists() and not AuditEvent.objects.filter(action="search").exists()


def test_the_web_form_gives_the_same_neutral_answer(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_new", kwargs={"code": world.household_a1.code})
    response = client.post(
        url,
        {
            "name": "李四",
            "id_type": "resident_id",
            "id_number": A2_ID,
            "relation_to_head": "other",
            "person_type": "registered",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["id_number"]
    assert "already" not in " ".join(errors) and "community office" in " ".join(errors)
    assert Resident.objects.filter(name="李四").count() == 1


def test_someone_who_sees_both_is_told_plainly(world):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        do_create_resident(world.admin, world.household_a1, {"name": "李四", "id_number": A2_ID})
    assert "已有" in str(refused.value)
