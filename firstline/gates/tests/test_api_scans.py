"""The gate phone's batches: one result per item, 409 when any item conflicted, masked history of a gate."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from firstline.conftest import make_user
from firstline.gates.actions import do_issue_pass
from firstline.gates.models import GateConflict, Scan, Shift

SCANS = "/api/v1/scans"


@pytest.fixture
def phone(world):
    guard = make_user("guard_south", "gate_guard", world.gate, "门卫老王")
    now = timezone.now()
    Shift.objects.create(
        gate=world.gate,
        street=world.street,
        community=world.community,
        guard=guard,
        starts_at=now - timedelta(hours=8),
        ends_at=now + timedelta(hours=8),
    )
    client = Client()
    client.force_login(guard)
    return client


@pytest.fixture
def token(world):
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        return do_issue_pass(world.admin, world.resident_a1)[1]


def item(world, token, direction="out", **fields):
    return {
        "client_id": str(uuid.uuid4()),
        "token": token,
        "gate": world.gate.code,
        "direction": direction,
        "scanned_at": timezone.localtime().isoformat(),
        **fields,
    }


def send(client, body, language="en"):
    return client.post(SCANS, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=language)


def test_it_answers_each_scan_of_a_batch(world, phone, token):
    batch = [item(world, token), item(world, token), item(world, "FL1NOPE")]
    response = send(phone, batch)
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["client_id"] for r in results] == [i["client_id"] for i in batch]
    assert results[0] == {
        "client_id": batch[0]["client_id"],
        "status": "stored",
        "verdict": "passed",
        "reason": "",
        "flags": [],
        "message": "",
    }
    assert (results[1]["verdict"], results[1]["flags"]) == ("flagged", ["passback"])
    assert (results[2]["verdict"], results[2]["reason"], results[2]["message"]) == (
        "refused",
        "malformed",
        "Not a pass code.",
    )
    assert Scan.objects.count() == 3


def test_a_conflicting_resend_is_409_and_lists_every_result(world, phone, token):
    first = item(world, token)
    send(phone, [first])
    response = send(phone, [first, {**first, "temperature": "36.8"}, item(world, token, "in")], "zh-hans")
    assert response.status_code == 409
    assert [r["status"] for r in response.json()["results"]] == ["duplicate", "conflict", "stored"]
    assert GateConflict.objects.count() == 1 and Scan.objects.count() == 2


def test_off_duty_is_said_in_the_guards_language(world, token):
    guard = make_user("guard_night", "gate_guard", world.gate)
    client = Client()
    client.force_login(guard)
    result = send(client, [item(world, token)], "zh-hans").json()["results"][0]
    assert (result["status"], result["reason"], result["message"]) == ("rejected", "not_on_duty", "不在值守时间")
    assert not Scan.objects.exists()


def test_without_guard_gate_it_is_403_and_nothing_is_stored(world, login, token):
    response = send(login(world.grid_worker), [item(world, token)])
    assert response.status_code == 403 and response.json()["detail"]
    assert not Scan.objects.exists()


def test_a_body_that_is_not_a_list_of_scans_is_refused_clearly(world, phone, token):
    assert send(phone, {"scans": []}).status_code == 422
    assert send(phone, [{**item(world, token), "direction": "sideways"}]).status_code == 422
    empty = send(phone, [])
    assert empty.status_code == 400 and empty.json() == {"detail": "Send between 1 and 500 records at a time."}
    assert send(phone, [item(world, token)] * 501).status_code == 400
    assert not Scan.objects.exists()


def test_visits_are_sent_the_same_way(world, phone):
    visit = {
        "client_id": str(uuid.uuid4()),
        "kind": "vehicle",
        "gate": world.gate.code,
        "name": "赵六",
        "phone": "13811112222",
        "plate": "鄂a12345",
        "cargo": "蔬菜",
        "at": timezone.localtime().isoformat(),
    }
    response = phone.post("/api/v1/visits", json.dumps([visit]), content_type="application/json")
    assert response.status_code == 200
    assert response.json()["results"][0]["status"] == "stored"
    again = phone.post("/api/v1/visits", json.dumps([{**visit, "cargo": "药品"}]), content_type="application/json")
    assert again.status_code == 409


def test_a_gates_history_shows_masked_scans_in_a_fixed_number_of_queries(
    world, phone, token, django_assert_max_num_queries
):
    send(phone, [item(world, token), item(world, token, "in", temperature="36.5"), item(world, "FL1NOPE")])
    with django_assert_max_num_queries(8):
        response = phone.get(f"/api/v1/gates/{world.gate.code}/scans")
    assert response.status_code == 200
    scans = response.json()["scans"]
    assert len(scans) == 3
    newest_first = [scan["direction"] for scan in scans]
    assert newest_first == ["out", "in", "out"]
    passed = scans[-1]
    assert passed["masked_name"] == "张*" and passed["guard"] == "门卫老王" and passed["kind"] == "outing"
    assert "张三" not in response.content.decode()
    since = (timezone.now() + timedelta(minutes=1)).isoformat()
    assert phone.get(f"/api/v1/gates/{world.gate.code}/scans", {"since": since}).json() == {"scans": []}


def test_a_gates_history_is_for_its_guards(world, login):
    assert login(world.grid_worker).get(f"/api/v1/gates/{world.gate.code}/scans").status_code == 403


def test_a_time_without_its_time_zone_is_refused(world, phone, token):
    naive = timezone.localtime().replace(microsecond=0, tzinfo=None).isoformat()
    history = phone.get(f"/api/v1/gates/{world.gate.code}/scans", {"since": naive})
    assert history.status_code == 422 and "时区" in json.dumps(history.json(), ensure_ascii=False)  # zh-Hans by default

    # In a batch of offline scans only the scan without its offset is refused, with its reason; the rest is kept.
    batch = [item(world, token), {**item(world, token, "in"), "scanned_at": naive}]
    results = send(phone, batch).json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [("stored", ""), ("rejected", "bad_time")]
    assert Scan.objects.count() == 1


def test_a_scan_holding_a_nul_is_refused_alone_and_the_batch_is_kept(world, phone, token):
    batch = [item(world, token), item(world, "FL1\u0000NOPE"), item(world, token, "in")]
    response = send(phone, batch, language="zh-hans")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [("stored", ""), ("rejected", "bad_text"), ("stored", "")]
    assert "控制字符" in results[1]["message"]
    assert Scan.objects.count() == 2
