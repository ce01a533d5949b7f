"""Registering arrivals on a phone (390×844, zh-Hans): a returnee from a risk area, found by name, is isolated."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest
from playwright.sync_api import expect

from firstline.conftest import log_in
from firstline.people.models import Resident
from firstline.status.models import RiskArea

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("FIRSTLINE_SCREENSHOTS")


def test_a_grid_worker_registers_a_returnee_and_a_newcomer(world, phone):
    RiskArea.objects.create(street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1))
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")
    phone.click("text=到达登记")
    phone.wait_for_url("**/arrivals/new/")

    phone.fill("#q", "张")
    expect(phone.locator("#candidates input[name=resident]")).to_have_count(1)  # found with htmx, in scope
    phone.locator("#candidates label").first.click()
    phone.fill("#id_origin", "湖北省武汉市江汉区")
    phone.select_option("#id_transport", "train")
    phone.fill("#id_trip_no", "G1234")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    if SCREENSHOTS:
        phone.screenshot(path=f"{SCREENSHOTS}/arrival-form.png", full_page=True)
    phone.click("#arrival > p button[type=submit]")
    phone.wait_for_url("**/arrivals/*/")
    expect(phone.locator("#arrival-summary")).to_have_text(
        re.compile(r"^来自疫区 湖北省武汉市：已居家隔离至 .+，每天2次健康打卡。$")
    )
    if SCREENSHOTS:
        phone.screenshot(path=f"{SCREENSHOTS}/arrival-result.png", full_page=True)

    phone.click("text=继续登记")
    phone.wait_for_url("**/arrivals/new/")
    phone.click("#arrival summary")
    phone.fill("#id_name", "王五")
    phone.select_option("#building", world.building_a1.code)
    expect(phone.locator(f"#household option[value='{world.household_a1.code}']")).to_have_count(1)
    phone.select_option("#household", world.household_a1.code)
    phone.fill("#id_origin", "上海市")
    phone.click("#arrival > p button[type=submit]")
    phone.wait_for_url("**/arrivals/*/")
    expect(phone.locator("#arrival-summary")).to_have_text("不是来自疫区：已登记。")
    assert Resident.objects.get(name="王五").household == world.household_a1
