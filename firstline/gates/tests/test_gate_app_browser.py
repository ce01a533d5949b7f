"""The gate app in a phone's browser: a guard on shift syncs, loses signal, checks passes and records scans,
and every scan leaves the phone once when the signal comes back.

The upload goes to the live server's ``POST /api/v1/scans``: what the browser sent is recorded on the way
(``record_uploads``), and what arrived is read back from the database — twenty scans, each stored once, the
fever one a fever-clinic referral and an urgent task.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import segno
from django.utils import timezone

from firstline.conftest import log_in, make_user
from firstline.gates.actions import do_issue_pass, do_revoke_pass
from firstline.gates.models import Pass, Scan, Shift, Visit
from firstline.status.actions import do_order_isolation
from firstline.status.models import Referral
from firstline.tasks.models import Task

pytestmark = pytest.mark.e2e


def record_uploads(page, received: list[list[dict]]) -> None:
    """Keep each batch the gate app sends to ``POST /api/v1/scans`` (the request itself goes on to the server)."""

    def seen(request) -> None:
        if request.url.endswith("/api/v1/scans") and request.method == "POST":
            assert request.headers.get("x-csrftoken")
            received.append(json.loads(request.post_data))

    page.on("request", seen)


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
    record_uploads(phone, received)

    log_in(phone, guard.username)
    phone.wait_for_url(lambda url: "/accounts/login/" not in url)
    phone.goto(phone.url_for(f"/gates/{world.gate.code}/app/"))
    phone.wait_for_selector('#sync-state:not([data-synced="0"])')
    assert phone.locator("#duty-banner").is_hidden()  # on shift: no warning
    # The shell is kept for a reload offline. (Waited for before this test writes to the database: the live
    # server's threads share the test's one database connection.)
    phone.wait_for_selector('#gate-app[data-offline-ready="1"]')

    do_order_isolation(world.admin, world.resident_a2, note="密接")  # the household's passes are suspended
    assert Pass.objects.get(pk=isolated.pk).state == "suspended"
    phone.click("#sync-button")
    phone.wait_for_function("() => window.gateApp.state() && window.gateApp.state().suspended.size === 1")

    kept = "caches.match(location.pathname, {cacheName: 'firstline-gate-pages', ignoreVary: true}).then(Boolean)"
    assert phone.evaluate(kept) and phone.evaluate("navigator.serviceWorker.controller !== null")
    phone.context.set_offline(True)
    phone.wait_for_selector("#net-state.offline")
    assert phone.evaluate("fetch('/healthz').then(() => 'reached', () => 'no signal')") == "no signal"

    check_code(phone, typed.short_code, "36.5", 1)
    assert verdict(phone)[0] == "pass" and phone.locator("#verdict .verdict-word").inner_text() == "通过"
    assert f"{typed.short_code[:4]} {typed.short_code[4:]}" in verdict(phone)[2] and "居民出入证" in verdict(phone)[2]

    phone.fill("#temperature", "36.6")
    phone.set_input_files("#photo-input", qr_png(shown_token, tmp_path))
    phone.wait_for_selector('#queue-count[data-count="2"]')
    assert verdict(phone)[0] == "pass" and f"{shown.short_code[:4]} {shown.short_code[4:]}" in verdict(phone)[2]

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

    # What arrived: each scan once, judged by the server; the fever reading went through the screening rules.
    stored = Scan.objects.filter(gate=world.gate)
    assert stored.count() == 20
    assert {str(client_id) for client_id in stored.values_list("client_id", flat=True)} == {
        item["client_id"] for item in uploaded
    }
    assert stored.filter(recorded_by=guard, shift__isnull=False).count() == 20
    assert stored.get(pass_obj=revoked).verdict == Scan.Verdict.REFUSED
    assert stored.get(pass_obj=isolated).reason == "suspended"
    fever = stored.get(temperature="38.2")
    assert "fever" in fever.flags and fever.reading is not None
    assert Referral.objects.filter(
        resident=world.resident_a1, destination=Referral.Destination.FEVER_CLINIC, closed_at__isnull=True
    ).exists()
    assert Task.objects.filter(resident=world.resident_a1, kind=Task.Kind.FEVER, state=Task.State.OPEN).exists()


def test_a_guard_registers_a_visitor_with_a_fever_and_a_vehicle(world, phone):
    guard = make_user("guard_visits", "gate_guard", world.gate)
    now = timezone.now()
    Shift.objects.create(
        gate=world.gate,
        street=world.street,
        community=world.community,
        guard=guard,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=7),
    )
    log_in(phone, guard.username)
    phone.wait_for_url(lambda url: "/accounts/login/" not in url)
    phone.goto(phone.url_for(f"/gates/{world.gate.code}/app/"))
    phone.wait_for_selector('#sync-state:not([data-synced="0"])')
    # The live server shares one test database connection between its threads: let the page's own
    # requests at load (the sync, keeping the page for offline use) finish before the forms send theirs.
    phone.wait_for_selector('#gate-app[data-offline-ready="1"]')

    phone.click("#visitor summary")
    form = phone.locator("#visitor-form")
    form.locator("[name=name]").fill("测试访客")
    form.locator("[name=phone]").fill("13800001111")
    form.locator("[name=origin]").fill("本市")
    form.locator("[name=host]").fill("1栋101")
    form.locator("[name=temperature]").fill("38.0")
    form.locator("[name=reason]").fill("探亲")
    form.locator("button[type=submit]").click()
    phone.wait_for_selector("#notice:has-text('发热')")  # the guard is told at once, with or without signal

    phone.click("#vehicle summary")
    form = phone.locator("#vehicle-form")
    form.locator("[name=plate]").fill("京a12345")
    form.locator("[name=name]").fill("测试司机")
    form.locator("[name=cargo]").fill("蔬菜")
    form.locator("[name=temperature]").fill("36.5")
    form.locator("button[type=submit]").click()
    phone.wait_for_selector("#notice:has-text('已记录')")
    phone.wait_for_selector('#queue-count[data-count="0"]')  # both sent while online, one right after the other

    visits = Visit.objects.filter(gate=world.gate)
    assert visits.count() == 2
    visitor = visits.get(kind=Visit.Kind.VISITOR)
    assert "fever" in visitor.flags and visitor.recorded_by == guard and visitor.shift is not None
    assert visitor.phone_masked and "13800001111" not in visitor.phone_masked
    assert visits.get(kind=Visit.Kind.VEHICLE).plate == "京A12345"
    assert Task.objects.filter(kind=Task.Kind.GATE, state=Task.State.OPEN, urgent=True).count() == 1
