"""The ledger's main journey in a phone-sized Chromium, in zh-Hans."""

import pytest
from playwright.sync_api import expect

from firstline.audit.models import AuditEvent
from firstline.conftest import log_in, make_id_number

pytestmark = pytest.mark.e2e


def test_a_grid_worker_finds_a_resident_by_exact_id_number_and_opens_the_household(world, phone):
    id_number = make_id_number(serial=123)
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")  # a worker starts on the task inbox
    assert phone.locator("html").get_attribute("lang") == "zh-hans"

    phone.click("text=居民")  # the navigation link to the resident list
    phone.wait_for_url("**/residents/**")
    phone.fill("#q", id_number)
    with phone.expect_response(lambda response: response.request.method == "POST"):
        phone.click("#filters button[type=submit]")
    rows = phone.locator("#results tbody tr")
    expect(rows).to_have_count(1)  # waits for htmx to swap the results
    assert world.resident_a1.name in rows.first.inner_text()
    assert id_number not in phone.url and id_number not in phone.content()

    rows.first.locator(f"a:has-text('{world.resident_a1.name}')").click()
    phone.wait_for_url(f"**/r/{world.resident_a1.code}/")
    assert AuditEvent.objects.filter(action="read", object_code=world.resident_a1.code).exists()

    phone.click(f"a:has-text('{world.household_a1.address}')")
    phone.wait_for_url(f"**/h/{world.household_a1.code}/")
    assert phone.locator("h1").inner_text() == world.household_a1.address
    assert world.resident_a1.name in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
