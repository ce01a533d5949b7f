"""The battle map on a phone (390×844, zh-Hans): a grid worker shows the red households alone and opens one."""

import pytest
from playwright.sync_api import expect

from firstline.conftest import World, log_in
from firstline.people.actions import do_create_resident
from firstline.people.models import Resident
from firstline.places.models import Household

pytestmark = pytest.mark.e2e


def test_a_grid_worker_filters_the_map_to_red_and_opens_a_red_household(world: World, phone):
    Resident.objects.filter(pk=world.resident_a1.pk).update(status="home_isolation")
    entrance = world.household_a1.entrance
    for room, floor, status in (("502", 5, "healthy"), ("301", 3, "observation"), ("101", 1, "out")):
        household = Household.objects.create(building=world.building_a1, entrance=entrance, room=room, floor=floor)
        resident = do_create_resident(world.admin, household, {"name": f"住户{room}"})
        Resident.objects.filter(pk=resident.pk).update(status=status)

    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")  # a worker lands on the task inbox
    phone.click("header nav >> text=作战图")
    phone.wait_for_url(f"**/c/{world.community.code}/map/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"
    cells = phone.locator("#bmap a")
    expect(cells).to_have_count(4)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    phone.click(".legend a[data-colour='red']")

    expect(phone.locator("#bmap")).to_have_attribute("data-show", "red")
    visible = [cells.nth(i) for i in range(cells.count()) if cells.nth(i).is_visible()]
    assert [cell.get_attribute("class") for cell in visible] == ["red"]
    assert visible[0].inner_text().startswith("501")
    assert "colour=red" in phone.url
    assert world.resident_a1.name not in phone.content()

    visible[0].click()
    phone.wait_for_url(f"**/h/{world.household_a1.code}/")
    assert phone.locator("h1").inner_text() == world.household_a1.address
