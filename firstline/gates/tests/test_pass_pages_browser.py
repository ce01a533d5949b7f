"""A household asks for a pass on its phone, a grid worker approves it in the queue, the household shows it: zh-Hans."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from firstline.accounts.household_codes import do_issue_household_codes
from firstline.conftest import log_in
from firstline.gates.cards import format_short_code
from firstline.gates.models import Pass, PassRequest
from firstline.status.letters import checkin_url

pytestmark = pytest.mark.e2e


@pytest.fixture
def worker_phone(browser, live_server):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.url_for = lambda path: live_server.url + path  # type: ignore[attr-defined]
    yield page
    context.close()


def test_a_household_asks_a_worker_approves_and_the_household_shows_the_qr(world, phone, worker_phone):
    code = do_issue_household_codes(world.grid_worker, [world.household_a1])[world.household_a1.pk]
    phone.goto(checkin_url(phone.url_for("/checkin/"), code))
    phone.click("#code-form button[type=submit]")
    phone.wait_for_url("**/checkin/household/")
    phone.click("#my-passes")
    phone.wait_for_url("**/checkin/passes/")
    expect(phone.locator("h1")).to_have_text("我的通行证")
    phone.select_option("#id_member", world.resident_a1.code)
    phone.select_option("#id_kind", "outing")
    phone.fill("#id_reason", "买菜")
    phone.click("#send-request")
    expect(phone.locator(".messages")).to_contain_text("申请已提交")
    item = PassRequest.objects.get()
    expect(phone.locator(f"[data-request='{item.code}']")).to_contain_text("张*")
    assert "张三" not in phone.content()

    log_in(worker_phone, "worker_a1")
    worker_phone.goto(worker_phone.url_for("/passes/requests/"))
    row = worker_phone.locator(f"#request-{item.code}")
    expect(row).to_contain_text("买菜")
    row.locator(".approve-form button[type=submit]").click()
    expect(worker_phone.locator(f"#request-{item.code}")).to_have_attribute("data-state", "approved")
    assert worker_phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    issued = Pass.objects.get()
    phone.goto(phone.url_for("/checkin/passes/"))
    card = phone.locator(f"[data-pass='{issued.code}']")
    expect(card.locator("svg.qr")).to_be_visible()
    expect(card.locator(".short-code")).to_have_text(format_short_code(issued.short_code))
    expect(card).to_contain_text("有效")
    box = card.locator("svg.qr").bounding_box()
    assert box is not None and box["width"] >= 250  # big enough for a gate phone's camera
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
