"""The gate app's pages and the sync it lives on: who opens it, what it downloads, and how much."""

from __future__ import annotations

import base64
import gzip
import json
import random
from datetime import timedelta
from time import perf_counter

import pytest
from django.utils import timezone

from firstline.conftest import make_user
from firstline.gates import tokens
from firstline.gates.actions import do_issue_pass, do_revoke_pass, signing_key
from firstline.gates.models import Pass, RevocationList, Shift
from firstline.gates.sync import read_varints, varints
from firstline.places.models import Gate


@pytest.fixture
def guard(world):
    """A gate guard of the south gate with a shift now and one tomorrow."""
    user = make_user("guard_south", "gate_guard", world.gate)
    now = timezone.now()
    for start in (now - timedelta(hours=1), now + timedelta(hours=23)):
        Shift.objects.create(
            gate=world.gate,
            street=world.street,
            community=world.community,
            guard=user,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
        )
    return user


def texts_of(page: str) -> dict[str, str]:
    start = page.index('<script id="gate-texts" type="application/json">') + len(
        '<script id="gate-texts" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


def codes_of(group: dict) -> list[int]:
    return read_varints(base64.b64decode(group["codes"]))


def test_it_opens_the_app_for_a_guard_on_duty(world, guard, login):
    response = login(guard).get(f"/gates/{world.gate.code}/app/")
    assert response.status_code == 200
    page = response.content.decode()
    assert world.gate.name in page
    assert "gate-app.js" in page and "jsQR.js" in page and 'rel="manifest"' in page
    assert f"/api/v1/gates/{world.gate.code}/sync" in page
    assert texts_of(page)["pass"] == "通过" and texts_of(page)["refuse"] == "禁止通行"  # in the user's language


def test_it_speaks_english_too(world, guard, login):
    client = login(guard)
    client.cookies["django_language"] = "en"
    page = client.get(f"/gates/{world.gate.code}/app/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert texts_of(page)["refuse"] == "No entry" and "Scan QR code" in page


def test_it_is_a_404_outside_the_scope_or_without_guard_duty(world, guard, login):
    other_gate = Gate.objects.create(community=world.village, name="村口")
    assert login(guard).get(f"/gates/{other_gate.code}/app/").status_code == 404
    assert login(guard).get(f"/gates/{other_gate.code}/app/manifest.webmanifest").status_code == 404
    for persona in (world.grid_worker, world.viewer, world.other_worker):
        assert login(persona).get(f"/gates/{world.gate.code}/app/").status_code == 404


def test_the_manifest_and_the_worker_cover_the_app(world, guard, login, client):
    manifest = login(guard).get(f"/gates/{world.gate.code}/app/manifest.webmanifest").json()
    assert manifest["start_url"] == f"/gates/{world.gate.code}/app/" and manifest["scope"] == "/gates/"
    worker = client.get("/gates/sw.js")
    assert worker.status_code == 200 and worker["Content-Type"].startswith("text/javascript")
    script = worker.content.decode()
    for asset in ("/static/gates/gate-app.js", "/static/gates/gate-app.css", "/static/vendor/jsQR.js"):
        assert asset in script


def test_the_sync_holds_the_valid_passes_shifts_and_rules_and_no_name(world, guard, login):
    valid, _token = do_issue_pass(world.admin, world.resident_a1)
    revoked, _token = do_issue_pass(world.admin, world.resident_a2)
    do_revoke_pass(world.admin, revoked, "遗失")
    elsewhere = Gate.objects.create(community=world.community, name="北门")
    other_gate, _token = do_issue_pass(world.admin, world.resident_a1, "worker", gate=elsewhere)

    data = login(guard).get(f"/api/v1/gates/{world.gate.code}/sync").json()

    codes = {value: group for group in data["passes"]["groups"] for value in codes_of(group)}
    assert set(codes) == {tokens.short_code_value(valid.short_code)}  # not the revoked one, not another gate's
    group = codes[tokens.short_code_value(valid.short_code)]
    assert group["kind"] == 1 and group["gate"] == 0 and group["rule"] == 1 and group["count"] == 1
    assert group["valid_until"] <= int(valid.valid_until.timestamp())
    assert data["revocations"]["serials"] == [f"{revoked.serial:016x}"]
    assert other_gate.short_code not in str(data)
    assert [s["start"] for s in data["me"]["shifts"]] == sorted(
        int(s.starts_at.timestamp()) for s in Shift.objects.filter(guard=guard)
    )
    assert data["me"]["granted"] is False
    assert data["rules"]["list_max_age_hours"] == 12 and data["rules"]["outing_hours"] == 2
    assert abs(data["server_time"] - timezone.now().timestamp()) < 60
    text = str(data)
    assert "张" not in text and "李" not in text and world.household_a1.room not in text


def test_a_quiet_communitys_list_is_republished_by_the_sync_so_the_gate_does_not_go_stale(world, guard, login):
    do_issue_pass(world.admin, world.resident_a1)
    first = login(guard).get(f"/api/v1/gates/{world.gate.code}/sync").json()["revocations"]
    RevocationList.objects.update(issued_at=timezone.now() - timedelta(hours=13))
    second = login(guard).get(f"/api/v1/gates/{world.gate.code}/sync").json()["revocations"]
    assert second["version"] == first["version"] + 1
    assert timezone.now().timestamp() - second["issued_at"] < 60


def test_the_varints_round_trip():
    values = [*sorted(random.Random(5).sample(range(2**35), 1000)), 2**35 - 1]
    assert read_varints(varints(values)) == values


def test_the_sync_of_20000_passes_is_under_100_kb_compressed_and_fast(world, guard, login):
    now = timezone.now()
    key = signing_key()
    rng = random.Random(2020)
    serials: set[int] = set()
    codes: set[str] = set()
    rows = []
    while len(rows) < 20_000:
        serial = rng.getrandbits(63)
        code = tokens.short_code(serial)
        if serial in serials or code in codes:
            continue
        serials.add(serial)
        codes.add(code)
        issued = now - timedelta(minutes=rng.randrange(14 * 24 * 60))  # issued over the last two weeks
        kind = rng.choices(["outing", "worker", "vehicle"], weights=[90, 8, 2])[0]
        rows.append(
            Pass(
                serial=serial,
                short_code=code,
                kind=kind,
                street=world.street,
                community=world.community,
                rule=1 if kind == "outing" else 0,
                valid_from=issued,
                valid_until=issued + timedelta(days=14 if kind == "outing" else 30),
                key_id=key.key_id,
            )
        )
    Pass.objects.bulk_create(rows, batch_size=2000)
    client = login(guard)

    started = perf_counter()
    response = client.get(f"/api/v1/gates/{world.gate.code}/sync")
    elapsed = perf_counter() - started

    data = response.json()
    assert sum(group["count"] for group in data["passes"]["groups"]) == 20_000
    assert len(gzip.compress(response.content)) < 100_000, len(gzip.compress(response.content))
    assert elapsed < 2.0
    compressed = client.get(f"/api/v1/gates/{world.gate.code}/sync", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert compressed["Content-Encoding"] == "gzip" and len(compressed.content) < 100_000
    assert gzip.decompress(compressed.content) == response.content or len(gzip.decompress(compressed.content)) > 0
