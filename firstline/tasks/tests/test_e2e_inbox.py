"""A grid worker's day on a phone (390×844, zh-Hans): the inbox, a visit with a fever, the colour that follows."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from firstline.conftest import log_in
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("FIRSTLINE_SCREENSHOTS")  # a folder: keep the pages as pictures


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


def test_a_grid_worker_visits_a_resident_who_missed_a_checkin_and_finds_a_fever(world, phone):
    zhang = world.resident_a1
    task = open_task(Task.Kind.MISSED_CHECKIN, resident=zhang, note="02-01 06:00 至 12:00 未打卡：请上门或电话联系。")

    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")  # the inbox is the worker's home page
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    # The battle map before the visit: 张三's household is green.
    phone.click("header nav >> text=作战图")
    cell = phone.locator(f"#bmap a[href='/h/{world.household_a1.code}/']")
    expect(cell).to_have_class("green")
    phone.click(".nav-tasks")
    phone.wait_for_url("**/tasks/")
    item = phone.locator(f"#task-{task.code}")
    expect(item).to_contain_text("未打卡")
    expect(item).to_contain_text("张三")
    expect(item).to_contain_text(world.household_a1.address)
    expect(phone.locator(".nav-tasks .badge")).to_have_text("1")
    assert fits(phone)
    shot(phone, "inbox")

    item.locator("a").first.click()
    phone.wait_for_url(f"**/tasks/{task.code}/")
    expect(phone.locator("#task-resident-status")).to_have_text("健康")
    phone.fill("#visit-temperature", "38.2")
    phone.get_by_label("咳嗽").check()
    assert fits(phone)
    shot(phone, "task")
    phone.click("#visit button[type=submit]")
    phone.wait_for_url(f"**/tasks/{task.code}/")
    expect(phone.locator(".messages")).to_contain_text("走访已登记，任务已完成。")

    phone.click(f"a:has-text('{zhang.name}')")
    phone.wait_for_url(f"**/r/{zhang.code}/")
    status = phone.locator("#resident-status")
    expect(status).to_have_text(re.compile("观察"))
    expect(status).to_have_class(re.compile(r"\byellow\b"))
    expect(phone.locator("#status-section")).to_contain_text("38.2 °C")
    expect(phone.locator("#status-section")).to_contain_text("发热门诊")
    assert fits(phone)
    shot(phone, "resident")

    phone.click(".nav-tasks")
    phone.wait_for_url("**/tasks/")
    fever = Task.objects.get(kind=Task.Kind.FEVER, resident=zhang)
    urgent = phone.locator(f"#mine #task-{fever.code}")
    expect(urgent).to_have_count(1)
    expect(urgent).to_have_class(re.compile(r"\burgent\b"))
    expect(urgent).to_contain_text("紧急")
    expect(phone.locator(f"#task-{task.code}")).to_have_count(0)  # the visit closed the missed check-in
    expect(phone.locator("#mine li.task").first).to_have_id(f"task-{fever.code}")  # urgent first
    shot(phone, "inbox-after")

    # And the battle map: the household's cell has turned yellow.
    phone.click("header nav >> text=作战图")
    phone.wait_for_url(f"**/c/{world.community.code}/map/")
    expect(cell).to_have_class("yellow")
    assert zhang.name not in phone.content()
    shot(phone, "map-after")


def test_a_grid_worker_moves_a_referral_on_from_the_resident_page_with_htmx(world, phone):
    from firstline.status.actions import do_record_gate_reading
    from firstline.status.models import Referral

    do_record_gate_reading(world.grid_worker, world.resident_a1, "38.6")
    referral = Referral.objects.get()
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")
    phone.goto(phone.url_for(f"/r/{world.resident_a1.code}/"))
    expect(phone.locator("#resident-status")).to_have_text(re.compile("观察"))

    with phone.expect_response(lambda response: "/update/" in response.url):
        phone.locator(f"#referral-{referral.code} button:has-text('转运中')").click()
    expect(phone.locator("#resident-status")).to_have_text("外出")  # swapped out of band
    expect(phone.locator("#status-section .notice")).to_have_text("转诊已更新。")
    assert phone.url.endswith(f"/r/{world.resident_a1.code}/")  # no page load: the section was swapped
    assert fits(phone)
    shot(phone, "resident-referral")
