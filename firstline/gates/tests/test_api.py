"""The passes API and a gate's sync: what the gate phone downloads is enough to check a pass offline."""

from __future__ import annotations

import base64

from django.test import Client
from django.utils import timezone

from firstline.conftest import make_user
from firstline.gates import tokens
from firstline.gates.models import Pass


def test_issue_then_check_offline_with_the_gate_sync_then_revoke(world, login):
    worker = login(world.grid_worker)
    issued = worker.post("/api/v1/passes", {"resident": world.resident_a1.code}, content_type="application/json")
    assert issued.status_code == 201, issued.content
    body = issued.json()
    assert body["masked_name"] == "张*" and "张三" not in issued.content.decode()

    guard = make_user("guard_south", "gate_guard", world.gate)
    client = Client()  # the gate phone, beside the worker's
    client.force_login(guard)
    sync = client.get(f"/api/v1/gates/{world.gate.code}/sync")
    assert sync.status_code == 200

    assert len(sync.content) < 2000 and "张" not in sync.content.decode()

    def at_the_gate() -> str:
        data = client.get(f"/api/v1/gates/{world.gate.code}/sync").json()
        keys = {k["key_id"]: base64.b64decode(k["public_key"]) for k in data["keys"]}
        lst = data["revocations"]
        revocations = tokens.verify_revocations(
            lst["community"],
            lst["version"],
            lst["issued_at"],
            [int(serial, 16) for serial in lst["serials"]],
            lst["key_id"],
            base64.b64decode(lst["signature"]),
            keys,
            [int(serial, 16) for serial in lst["suspended"]],
        )
        try:
            tokens.verify(
                body["token"],
                keys=keys,
                revocations=revocations,
                community=data["gate"]["community"],
                gate=data["gate"]["id"],
                now=timezone.now(),
            )
        except tokens.Refused as refused:
            return refused.reason
        return "pass"

    assert at_the_gate() == "pass"
    revoked = worker.post(f"/api/v1/passes/{body['code']}/revoke", {"reason": "遗失"}, content_type="application/json")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert at_the_gate() == "revoked"


def test_bad_input_gets_a_clear_error_and_nothing_is_written(world, login):
    worker = login(world.grid_worker)
    response = worker.post(
        "/api/v1/passes", {"resident": world.resident_a1.code, "kind": "vehicle"}, content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["detail"]
    other = worker.post("/api/v1/passes", {"resident": world.resident_a2.code}, content_type="application/json")
    assert other.status_code == 404
    assert not Pass.objects.exists()
