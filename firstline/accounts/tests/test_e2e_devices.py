"""A worker sees the phones logged in as her and logs a lost one out, on a phone, in Chinese."""

import pytest
from django.test import Client

from firstline.accounts.actions import do_issue_token
from firstline.conftest import log_in

pytestmark = pytest.mark.e2e


def test_a_worker_logs_a_lost_phone_out_from_her_devices_page(world, phone):
    lost = do_issue_token(world.grid_worker, name="丢失的手机")
    do_issue_token(world.grid_worker, name="办公室平板")
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")
    phone.get_by_role("link", name=world.grid_worker.display_name()).click()
    phone.wait_for_url("**/accounts/devices/")
    assert phone.locator("h1").inner_text() == "我的设备"
    row = phone.locator("tr", has_text="丢失的手机")
    row.get_by_role("button", name="让这台设备退出").click()
    phone.wait_for_url("**/accounts/devices/")
    assert "该设备已退出" in phone.locator(".messages").inner_text()
    assert phone.locator("tr", has_text="丢失的手机").count() == 0
    assert phone.locator("tr", has_text="办公室平板").count() == 1
    # What the page says is what the server does: the lost phone's token is refused.
    answer = Client().get("/api/v1/tasks", HTTP_AUTHORIZATION=f"Bearer {lost}")
    assert answer.status_code == 401
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # the table fits the phone
