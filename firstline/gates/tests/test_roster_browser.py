"""Gate duty on a phone (390×844, zh-Hans): the administrator fills the week, the guard on duty hands over,
the next guard reads the note when their shift begins."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from firstline.conftest import log_in, make_user
from firstline.gates.models import Shift
from firstline.gates.roster import day_start

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("FIRSTLINE_SCREENSHOTS")  # a folder: keep the pages as pictures


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_an_administrator_fills_the_week_and_the_guards_hand_over(world, phone):
    guards = [make_user(f"guard{n}", "gate_guard", world.gate, f"门卫{n}") for n in (1, 2, 3)]
    now = timezone.localtime()
    if (now + timedelta(minutes=3)).hour // 8 != now.hour // 8:
        pytest.skip("too close to a change of shift")  # the shift on duty would change under the test
    on_now, next_guard = guards[now.hour // 8], guards[(now.hour // 8 + 1) % 3]

    log_in(phone, "admin_a")
    phone.wait_for_url("**/tasks/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    phone.click("header nav .nav-gates")
    phone.wait_for_url("**/gates/")
    row = phone.locator(f"#gate-{world.gate.code}")
    expect(row).to_contain_text("无人值守")
    expect(phone.locator("#unguarded")).to_contain_text("1 个卡口当前无人值守")
    assert fits(phone)
    shot(phone, "gates")

    row.locator("a").click()
    phone.wait_for_url(f"**/gates/{world.gate.code}/")
    expect(phone.locator("#on-duty")).to_contain_text("无人值守")
    fill = phone.locator("#fill-week")
    fill.get_by_label("社区管理员").uncheck()
    for guard in guards:
        fill.get_by_label(guard.full_name).check()
    fill.get_by_role("button", name="排满一周").click()
    expect(phone.locator("#roster .notice")).to_contain_text(re.compile(r"已添加 \d+ 个班次"))
    expect(phone.locator("#on-duty")).to_contain_text(on_now.full_name)
    expect(phone.locator(f"#day-{timezone.localdate():%Y-%m-%d} li.gap")).to_have_count(
        1 if now.hour >= 8 else 0  # the hours before the shift now on are over: left empty
    )
    assert Shift.objects.filter(gate=world.gate).count() == 21 - now.hour // 8
    assert fits(phone)
    shot(phone, "gate-filled")

    phone.context.clear_cookies()
    log_in(phone, on_now.username)
    phone.wait_for_url("**/gates/")  # a guard's home: the gates they guard
    phone.click(f"#gate-{world.gate.code} a")
    phone.fill("#handover-note", "体温枪电量低，已充电。3栋有一位外出未归。")
    phone.get_by_role("button", name="交班").click()
    expect(phone.locator("#roster .notice")).to_have_text("交接班记录已提交。")
    expect(phone.locator("#last-handover")).to_contain_text("3栋有一位外出未归")
    shot(phone, "handover")

    phone.context.clear_cookies()
    next_shift = day_start(timezone.localdate()) + timedelta(hours=8 * (now.hour // 8 + 1), minutes=5)
    with time_machine.travel(next_shift, tick=True):
        log_in(phone, next_guard.username)
        phone.wait_for_url("**/gates/")
        expect(phone.locator(f"#gate-{world.gate.code}")).to_contain_text(next_guard.full_name)
        phone.click(f"#gate-{world.gate.code} a")
        expect(phone.locator("#on-duty")).to_contain_text(next_guard.full_name)
        expect(phone.locator("#last-handover")).to_contain_text(on_now.full_name)
        expect(phone.locator("#last-handover")).to_contain_text("体温枪电量低，已充电。")
        expect(phone.locator("#handover")).to_be_visible()  # their own turn to hand over, later
        assert fits(phone)
        shot(phone, "next-guard")
