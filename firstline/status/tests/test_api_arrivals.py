"""POST /api/v1/arrivals and the open orders of GET /api/v1/residents/{code}: the contract, field by field."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone

from firstline.accounts.actions import do_issue_token
from firstline.conftest import make_id_number
from firstline.people.models import Movement, Resident
from firstline.status.models import IsolationOrder, RiskArea

URL = "/api/v1/arrivals"
NEW_ID = make_id_number("420102", date(1991, 4, 2), 37)


def as_user(user, language: str = "en") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(user)}", "HTTP_ACCEPT_LANGUAGE": language}


def send(client, user, body, language: str = "en"):
    return client.post(URL, json.dumps(body, default=str), content_type="application/json", **as_user(user, language))


@pytest.fixture
def wuhan(world):
    return RiskArea.objects.create(
        street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1)
    )


def test_an_arrival_from_a_risk_area_answers_201_with_the_colour_and_the_open_order(world, client, wuhan):
    today = timezone.localdate()

    response = send(
        client,
        world.grid_worker,
        {
            "resident": world.resident_a1.code,
            "origin": "湖北省武汉市江汉区",
            "departure_date": today - timedelta(days=1),
            "arrival_date": today,
            "transport": "train",
            "trip_no": "G1234",
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    order = IsolationOrder.objects.get()
    movement = Movement.objects.get()
    assert body == {
        "resident": world.resident_a1.code,
        "created": False,
        "movement": movement.code,
        "status": "home_isolation",
        "risk_area": "湖北省武汉市",
        "open_orders": [
            {
                "code": order.code,
                "kind": "home",
                "starts_at": body["open_orders"][0]["starts_at"],
                "planned_end": (today + timedelta(days=14)).isoformat(),
                "site": "",
            }
        ],
    }
    assert (movement.trip_number, movement.transport, movement.departed_on) == (
        "G1234",
        "train",
        today - timedelta(days=1),
    )


def test_a_new_person_is_created_in_the_household(world, client):
    response = send(
        client,
        world.grid_worker,
        {"name": "王五", "id_number": NEW_ID, "phone": "13700001111", "household": world.household_a1.code,
         "origin": "上海市", "temperature": "38.1"},
    )  # fmt: skip

    assert response.status_code == 201, response.content
    body = response.json()
    newcomer = Resident.objects.get(code=body["resident"])
    assert body["created"] is True and body["risk_area"] is None and body["open_orders"] == []
    assert body["status"] == "observation"  # the fever at arrival
    assert newcomer.household == world.household_a1 and newcomer.id_number_masked.endswith(NEW_ID[-4:])


@pytest.mark.parametrize(
    ("body", "english"),
    [
        ({"origin": "上海"}, "Send a resident code, or the new person's name and household code."),
        ({"name": "王五", "origin": "上海"}, "Send a resident code, or the new person's name and household code."),
        ({"resident": "A1", "origin": "上海", "temperature": "45"}, "A body temperature is between 34.0 and 43.0 °C."),
        ({"resident": "A1", "origin": "上海", "transport": "camel"}, None),
        ({"resident": "A1", "origin": ""}, "Say where the resident came from."),
        ({"name": "王五", "household": "H1", "origin": "上海", "id_number": "123"}, None),
    ],
)
def test_bad_input_is_400_with_a_clear_message_in_the_callers_language(world, client, body, english):
    codes = {"A1": world.resident_a1.code, "H1": world.household_a1.code}
    body = {key: codes.get(value, value) for key, value in body.items()}

    response = send(client, world.grid_worker, body)
    chinese = send(client, world.grid_worker, body, "zh-hans")

    assert response.status_code == chinese.status_code == 400, response.content
    assert set(response.json()) == {"detail"} and response.json()["detail"]
    if english:
        assert response.json()["detail"] == english
    assert response.json()["detail"] != chinese.json()["detail"]
    assert not Movement.objects.exists() and Resident.objects.count() == 2


def test_a_future_arrival_date_is_400(world, client):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = send(
        client, world.grid_worker, {"resident": world.resident_a1.code, "origin": "上海", "arrival_date": tomorrow}
    )

    assert response.status_code == 400 and response.json() == {"detail": "The arrival date is in the future."}


@pytest.mark.parametrize("field", ["resident", "household"])
def test_a_resident_or_household_outside_the_scope_is_404(world, client, field):
    body = (
        {"resident": world.resident_a1.code, "origin": "上海"}
        if field == "resident"
        else {"name": "王五", "household": world.household_a1.code, "origin": "上海"}
    )

    response = send(client, world.other_worker, body)

    assert response.status_code == 404 and response.json() == {"detail": "Not found"}
    assert not Movement.objects.exists() and not Resident.objects.filter(name="王五").exists()


def test_the_viewer_is_403(world, client):
    response = send(client, world.viewer, {"resident": world.resident_a1.code, "origin": "上海"})

    assert response.status_code == 403 and set(response.json()) == {"detail"}
    assert not Movement.objects.exists()


def test_the_resident_record_has_its_colour_and_open_orders(world, client, wuhan):
    send(client, world.grid_worker, {"resident": world.resident_a1.code, "origin": "武汉"})
    order = IsolationOrder.objects.get()

    body = client.get(f"/api/v1/residents/{world.resident_a1.code}", **as_user(world.grid_worker)).json()

    assert body["status"] == "home_isolation"
    assert [(o["code"], o["kind"], o["site"], o["planned_end"]) for o in body["open_orders"]] == [
        (order.code, "home", "", order.planned_end.isoformat())
    ]
    assert set(body["open_orders"][0]) == {"code", "kind", "starts_at", "planned_end", "site"}
    other = client.get(f"/api/v1/residents/{world.resident_a2.code}", **as_user(world.other_worker)).json()
    assert other["status"] == "healthy" and other["open_orders"] == []
