import pytest

from firstline.conftest import log_in

pytestmark = pytest.mark.e2e


def test_it_logs_in_on_a_phone_in_chinese(world, phone):
    phone.goto(phone.url_for("/accounts/login/"))
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")  # a worker starts on the task inbox
    assert phone.locator("h1").inner_text().startswith("我的任务")


def test_a_read_only_viewer_starts_on_the_community(world, phone):
    log_in(phone, "viewer_a1")
    phone.wait_for_url("**/c/**")
    assert world.community.name in phone.content()
