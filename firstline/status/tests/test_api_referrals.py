"""POST /api/v1/referrals/{code}: the steps of a referral, the colour that follows, refusals."""

from __future__ import annotations

import json

from firstline.accounts.actions import do_issue_token
from firstline.status.actions import do_record_gate_reading
from firstline.status.models import Referral


def step(client, user, referral, **body):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(user)}", "HTTP_ACCEPT_LANGUAGE": "en"}
    return client.post(
        f"/api/v1/referrals/{referral.code}", json.dumps(body), content_type="application/json", **headers
    )


def test_the_steps_of_a_referral_and_the_colour_that_follows(world, client):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.4")
    referral = Referral.objects.get()

    left = step(client, world.grid_worker, referral, state="in_transit")
    arrived = step(client, world.grid_worker, referral, state="arrived", facility="区人民医院发热门诊")
    back = step(client, world.grid_worker, referral, state="outcome", outcome="negative", note="核酸阴性")

    assert left.status_code == arrived.status_code == back.status_code == 200
    assert left.json()["resident_status"] == "out" and left.json()["closed"] is False
    assert arrived.json()["facility"] == "区人民医院发热门诊"
    assert back.json() == {
        "code": referral.code,
        "resident": world.resident_a1.code,
        "destination": "fever_clinic",
        "facility": "区人民医院发热门诊",
        "state": "outcome",
        "outcome": "negative",
        "closed": True,
        "resident_status": "observation",
    }


def test_a_step_out_of_order_is_400_and_changes_nothing(world, client):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.4")
    referral = Referral.objects.get()

    response = step(client, world.grid_worker, referral, state="outcome", outcome="maybe")

    assert response.status_code == 400 and response.json() == {"detail": "Choose the outcome."}
    referral.refresh_from_db()
    assert referral.state == "requested" and len(referral.history) == 1


def test_outside_the_grid_it_is_404_and_for_the_viewer_403(world, client):
    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.4")
    referral = Referral.objects.get()

    assert step(client, world.other_worker, referral, state="in_transit").status_code == 404
    assert step(client, world.viewer, referral, state="in_transit").status_code == 403
    referral.refresh_from_db()
    assert referral.state == "requested"
