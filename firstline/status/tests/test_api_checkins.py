"""POST /api/v1/checkins: idempotent by the device's client_id, conflicts kept, scoped, concurrent-safe."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from firstline.accounts.actions import do_issue_token
from firstline.status.models import CheckIn, CheckInConflict, Referral
from firstline.tasks.models import Task

URL = "/api/v1/checkins"


def as_user(user, language: str = "en") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(user)}", "HTTP_ACCEPT_LANGUAGE": language}


def report(world, **changes) -> dict:
    body = {
        "client_id": str(uuid.uuid4()),
        "resident": world.resident_a1.code,
        "temperature": 36.6,
        "symptoms": [],
        "taken_at": timezone.now().replace(microsecond=0).isoformat(),
    }
    return {**body, **changes}


def send(client, headers, body):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def test_it_records_a_checkin_once_and_answers_a_repeat_with_the_same_body(world, client):
    headers = as_user(world.grid_worker)
    body = report(world, symptoms=["cough"])

    first = send(client, headers, body)
    again = send(client, headers, body)

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["resident"] == world.resident_a1.code and first.json()["symptoms"] == ["cough"]
    assert first.json()["client_id"] == body["client_id"]
    assert CheckIn.objects.count() == 1 and not CheckInConflict.objects.exists()


def test_the_same_moment_written_in_another_time_zone_is_the_same_payload(world, client):
    headers = as_user(world.grid_worker)
    moment = timezone.now().replace(microsecond=0)
    body = report(world, taken_at=moment.astimezone(ZoneInfo("Asia/Shanghai")).isoformat())

    first = send(client, headers, body)
    again = send(client, headers, {**body, "taken_at": moment.astimezone(ZoneInfo("UTC")).isoformat()})

    assert (first.status_code, again.status_code) == (201, 200)
    assert CheckIn.objects.count() == 1 and not CheckInConflict.objects.exists()


def test_a_changed_payload_under_the_same_client_id_is_409_and_the_conflict_is_kept(world, client):
    headers = as_user(world.grid_worker)
    body = report(world)
    first = send(client, headers, body).json()

    response = send(client, headers, {**body, "temperature": 38.4})

    assert response.status_code == 409
    assert response.json()["checkin"] == first["code"] and response.json()["detail"]
    checkin = CheckIn.objects.get()
    assert str(checkin.temperature) == "36.6" and not checkin.is_fever  # the first report stands
    conflict = CheckInConflict.objects.get()
    assert conflict.checkin == checkin and conflict.payload["temperature"] == "38.4"
    assert conflict.received_by == world.grid_worker
    assert not Referral.objects.exists()  # the conflicting fever was not acted upon


def test_a_fever_opens_the_referral_and_the_urgent_task(world, client):
    response = send(client, as_user(world.grid_worker), report(world, temperature=38.2))

    assert response.status_code == 201 and response.json()["is_fever"] is True
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.status == "observation"
    task = Task.objects.get(kind=Task.Kind.FEVER)
    assert task.urgent and task.assignee == world.grid_worker


@pytest.mark.parametrize(
    ("persona", "status"),
    [("other_worker", 404), ("viewer", 403)],
)
def test_it_refuses_a_worker_outside_the_grid_and_a_read_only_viewer(world, client, persona, status):
    response = send(client, as_user(getattr(world, persona)), report(world))

    assert response.status_code == status
    assert set(response.json()) == {"detail"}
    assert world.resident_a1.name not in response.content.decode()
    assert not CheckIn.objects.exists()


def test_it_explains_bad_input_in_the_callers_language(world, client):
    body = report(world, temperature=45)

    english = send(client, as_user(world.grid_worker, "en"), body)
    chinese = send(client, as_user(world.grid_worker, "zh-hans"), body)

    assert english.status_code == chinese.status_code == 400
    assert english.json() == {"detail": "A body temperature is between 34.0 and 43.0 °C."}
    assert "体温" in chinese.json()["detail"]
    future = report(world, taken_at=(timezone.now() + timedelta(hours=2)).isoformat())
    assert send(client, as_user(world.grid_worker), future).status_code == 400
    assert send(client, as_user(world.grid_worker), report(world, symptoms=["sneezing"])).status_code == 400
    missing = report(world)
    del missing["taken_at"]
    assert send(client, as_user(world.grid_worker), missing).status_code == 422
    assert send(client, as_user(world.grid_worker), report(world, client_id="not-a-uuid")).status_code == 422
    assert not CheckIn.objects.exists()


def test_a_time_without_its_time_zone_is_refused_and_nothing_is_stored(world, client):
    naive = timezone.localtime().replace(microsecond=0, tzinfo=None).isoformat()  # e.g. 2026-12-07T09:30:00

    english = send(client, as_user(world.grid_worker, "en"), report(world, taken_at=naive))
    chinese = send(client, as_user(world.grid_worker, "zh-hans"), report(world, taken_at=naive))

    assert english.status_code == chinese.status_code == 422
    assert "time zone" in json.dumps(english.json()["detail"])
    assert "时区" in json.dumps(chinese.json()["detail"], ensure_ascii=False)
    assert not CheckIn.objects.exists()
