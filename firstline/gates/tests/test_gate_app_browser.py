"""The gate app in a phone's browser: a guard on shift syncs, loses signal, checks passes and records scans,
and every scan leaves the phone once when the signal comes back.

The upload goes to ``POST /api/v1/scans``. Until the server side of it is merged, the browser's requests to it
are answered here, by the contract (``answer_scans``): what is checked is the browser's half — each queued scan
sent exactly once, with its client id, direction, temperature and the CSRF header. With the real endpoint, drop
``answer_scans`` and count the stored ``Scan`` rows instead (see ``uploaded``).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import segno
from django.utils import timezone

from firstline.conftest import log_in, make_user
from firstline.gates.actions import do_issue_pass, do_revoke_pass
from firstline.gates.models import Pass, Shift
from firstline.status.actions import do_order_isolation

pytestmark = pytest.mark.e2e


def answer_scans(page, received: list[list[dict]]) -> None:
    """Answer the gate app's uploads as ``POST /api/v1/scans`` will: every item stored."""

    def fulfil(route, request) -> None:
        assert request.method == "POST" and request.headers.get("x-csrftoken")
        items = json.loads(request.post_data)
        received.append(items)
        results = [
            {"client_id": item["client_id"], "status": "stored", "verdict": "passed", "reason": "", "flags": []}
            for item in items
        ]
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"results": results}))

    page.context.route("**/api/v1/scans", fulfil)


def qr_png(token: str, folder) -> str:
    path = folder / "pass.png"
    segno.make(token, error="m").save(str(path), scale=4, border=4)
    return str(path)


def check_code(page, code: str, temperature: str, count: int) -> None:
    page.fill("#temperature", temperature)
    page.fill("#code-input", code)
    page.click("#code-check")
    page.wait_for_selector(f'#queue-count[data-count="{count}"]')


def verdict(page) -> tuple[str, str, str]:
    box = page.locator("#verdict")
    return (
        box.get_attribute("data-verdict") or "",
        box.locator(".verdict-reason").inner_text(),
        box.locator(".verdict-detail").inner_text(),
    )


def test_a_guard_checks_passes_offline_and_every_scan_leaves_once(world, phone, tmp_path):
    guard = make_user("guard_south", "gate_guard", world.gate)
    now = timezone.now()
    Shift.objects.create(
        gate=world.gate,
        street=world.street,
        community=world.community,
        guard=guard,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=7),
    )
    typed, _token = do_issue_pass(world.admin, world.resident_a1)
    shown, shown_token = do_issue_pass(world.admin, world.resident_a1)
    revoked, _token = do_issue_pass(world.admin, world.resident_a1)
    do_revoke_pass(world.admin, revoked, "遗失")
    isolated, isolated_token = do_issue_pass(world.admin, world.resident_a2)
    received: list[list[dict]] = []
    answer_scans(phone, received)

    log_in(phone, guard.username)
    phone.wait_for_url(lambda url: "/accounts/login/" not in url)
    phone.goto(phone.url_for(f"/gates/{world.gate.code}/app/"))
    phone.wait_for_selector('#sync-state:not([data-synced="0"])')
    assert phone.locator("#duty-banner").is_hidden()  # on shift: no warning

    do_order_isolation(world.admin, world.resident_a2, note="密接")  # the household's passes are suspended
    assert Pass.objects.get(pk=isolated.pk).state == "suspended"
    phone.click("#sync-button")
    phone.wait_for_function("window.gateApp.state() && window.gateApp.state().suspended.size === 1")

    phone.wait_for_selector('#gate-app[data-offline-ready="1"]')  # the shell is kept for a reload offline
    phone.context.set_offline(True)
    phone.wait_for_selector("#net-state.offline")
    assert phone.evaluate("fetch('/healthz').then(() => 'reached', () => 'no signal')") == "no signal"

    check_code(phone, typed.short_code, "36.5", 1)
    assert verdict(phone)[0] == "pass" and phone.locator("#verdict .verdict-word").inner_text() == "通过"
    assert typed.short_code[:3] in verdict(phone)[2] and "居民出入证" in verdict(phone)[2]

    phone.fill("#temperature", "36.6")
    phone.set_input_files("#photo-input", qr_png(shown_token, tmp_path))
    phone.wait_for_selector('#queue-count[data-count="2"]')
    assert verdict(phone)[0] == "pass" and shown.short_code[3:] in verdict(phone)[2]

    check_code(phone, revoked.short_code, "36.4", 3)
    assert verdict(phone)[:2] == ("refuse", "通行证已吊销")
    assert phone.locator("#verdict .verdict-word").inner_text() == "禁止通行"

    phone.fill("#temperature", "36.7")
    phone.set_input_files("#photo-input", qr_png(isolated_token, tmp_path))
    phone.wait_for_selector('#queue-count[data-count="4"]')
    state, reason, _detail = verdict(phone)
    assert state == "refuse" and "隔离" in reason and "暂停" in reason

    phone.fill("#temperature", "38.2")  # a fever: refused whatever the pass, and the warning shows at once
    assert "请勿放行，立即上报" in phone.locator("#fever-warning").inner_text()
    check_code(phone, typed.short_code, "38.2", 5)
    assert verdict(phone)[0] == "refuse" and "发热" in verdict(phone)[1]

    for count in range(6, 21):
        check_code(phone, typed.short_code, f"36.{count % 10}", count)
    assert phone.locator("#queue-count").inner_text() == "待上传 20 条"

    # Without signal the page reopens from the service worker, with its list and its queue.
    reopened = phone.reload()
    assert reopened is not None and reopened.from_service_worker
    phone.wait_for_selector('#sync-state:not([data-synced="0"])')
    phone.wait_for_selector('#queue-count[data-count="20"]')
    assert not received

    phone.context.set_offline(False)
    phone.wait_for_selector('#queue-count[data-count="0"]')
    phone.evaluate("window.gateApp.upload()")  # nothing is left to send: nothing leaves again
    phone.wait_for_timeout(300)

    uploaded = [item for batch in received for item in batch]
    assert len(uploaded) == 20 and len({item["client_id"] for item in uploaded}) == 20
    assert sorted(float(item["temperature"]) for item in uploaded)[-1] == 38.2
    assert {item["gate"] for item in uploaded} == {world.gate.code} and {item["direction"] for item in uploaded} == {
        "in"
    }
    tokens = [item for item in uploaded if item["token"]]
    assert {item["token"] for item in tokens} == {shown_token, isolated_token}
    assert all(item["short_code"] is None for item in tokens)
    assert sum(item["short_code"] == typed.short_code for item in uploaded) == 17
    assert all(item["scanned_at"][-6] in "+-" for item in uploaded)  # ISO 8601 with the offset
