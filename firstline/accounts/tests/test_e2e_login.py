import pytest

from firstline.conftest import log_in

pytestmark = pytest.mark.e2e


def test_it_logs_in_on_a_phone_in_chinese(world, phone):
    phone.goto(phone.url_for("/accounts/login/"))
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/c/**")
    assert world.community.name in phone.content()
