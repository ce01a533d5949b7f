"""The dashboard on a phone: a community administrator reads it and follows a count, in zh-Hans."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from firstline.conftest import log_in
from firstline.people.models import Status
from firstline.status.models import DailyCount
from firstline.status.tests.test_dashboard import add_residents

pytestmark = pytest.mark.e2e


def test_a_community_admin_reads_the_dashboard_and_opens_the_red_residents(world, phone):
    add_residents(world.household_a1, 3, Status.HOME_ISOLATION)
    add_residents(world.household_a2, 2, Status.OBSERVATION)
    add_residents(world.household_a2, 1, Status.HOME_ISOLATION)
    today = timezone.localdate()
    for n in range(1, 30):
        for grid in (world.grid_a1, world.grid_a2):
            DailyCount.objects.create(
                day=today - timedelta(days=n), street=world.street, community=world.community, grid=grid,
                home_isolation=n % 4, observation=n % 3, out=n % 2, healthy=20 + n,
            )  # fmt: skip

    log_in(phone, "admin_a")
    phone.wait_for_url("**/tasks/")  # an administrator works tasks too: the inbox is home
    phone.click("header nav >> text=数据看板")
    phone.wait_for_url(phone.url_for(reverse("dashboard:community", kwargs={"community": world.community.code})))

    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    expect(phone.locator("h1")).to_contain_text("数据看板")
    chart = phone.locator("svg.trend-chart")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["width"] <= 390
    expect(chart.locator("title")).to_have_text("近30天每天结束时各颜色人数")
    assert chart.locator("polyline").count() == 4
    rows = phone.locator("#rows tbody tr:not(.stack-row)")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("第一网格")
    expect(rows.nth(0).locator("td").first).to_have_text("3")
    expect(rows.nth(1)).to_contain_text("第二网格")
    expect(rows.nth(1).locator("td").first).to_have_text("1")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    red = phone.locator("a.stat[href*='status=home_isolation']")
    expect(red).to_contain_text("4")
    red.click()
    phone.wait_for_url("**/residents/?status=home_isolation")
    expect(phone.locator("#results tbody tr")).to_have_count(4)
    expect(phone.locator("select[name=status]")).to_have_value("home_isolation")
