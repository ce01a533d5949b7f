"""The battle map: worst colour per household, badges, empty and moved-out, villages, scope, filters, print, street."""

from __future__ import annotations

import os
import re
import zlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from firstline.audit.models import AuditEvent
from firstline.conftest import World, make_user
from firstline.people.actions import do_create_resident
from firstline.people.models import Resident
from firstline.places.models import Building, Community, Entrance, Grid, Household, Street, bump_map_version
from firstline.status.map import MapPrint, battle_map
from firstline.tests.test_translations import latin_words


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    """Printed maps are written under the data directory: a fresh one per test."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def set_status(resident: Resident, status: str) -> None:
    """Set the cached colour directly (the engine's own writer, ``settle``, also bumps the map version)."""
    Resident.objects.filter(pk=resident.pk).update(status=status)
    bump_map_version(resident.community_id)


def add_member(actor, household: Household, name: str, status: str = "healthy", **flags) -> Resident:
    resident = do_create_resident(actor, household, {"name": name, **flags})
    set_status(resident, status)
    return resident


def map_url(community: Community) -> str:
    return reverse("status:map", kwargs={"community": community.code})


def cell(page: str, household: Household) -> str:
    """The cell (link) of ``household`` on a map page."""
    found = re.search(rf'<a class="[^"]*" href="/h/{household.code}/"[^>]*>.*?</a>', page)
    assert found, f"no cell for household {household.code}"
    return found.group(0)


def colour_of(cell_html: str) -> str:
    found = re.match(r'<a class="([^"]*)"', cell_html)
    assert found
    return found.group(1)


def title_of(cell_html: str) -> str:
    found = re.search(r'title="([^"]*)"', cell_html)
    assert found
    return found.group(1)


def test_it_colours_a_household_with_the_worst_colour_of_its_present_members(world: World, login):
    household = world.household_a1
    set_status(world.resident_a1, "out")
    add_member(world.admin, household, "王五", "observation")
    add_member(world.admin, household, "赵六", "healthy")

    page = login(world.grid_worker).get(map_url(world.community)).content.decode()

    assert colour_of(cell(page, household)) == "yellow"
    assert title_of(cell(page, household)) == "501 · 医学观察 1 · 外出 1 · 健康 1"

    add_member(world.admin, household, "钱七", "home_isolation")
    page = login(world.grid_worker).get(map_url(world.community)).content.decode()
    assert colour_of(cell(page, household)) == "red"


def test_it_counts_the_members_in_the_cells_colour_in_a_badge_when_there_are_several(world: World, login):
    household = world.household_a1
    set_status(world.resident_a1, "home_isolation")
    client = login(world.grid_worker)

    one = cell(client.get(map_url(world.community)).content.decode(), household)
    add_member(world.admin, household, "王五", "home_isolation")
    add_member(world.admin, household, "赵六", "healthy")
    two = cell(client.get(map_url(world.community)).content.decode(), household)

    assert "<i>" not in one
    assert two.endswith("501<i>2</i></a>")
    assert title_of(two) == "501 · 居家隔离 2 · 健康 1"


def test_it_draws_a_household_with_nobody_present_as_an_empty_cell(world: World, login):
    entrance = world.household_a1.entrance
    empty = Household.objects.create(building=world.building_a1, entrance=entrance, room="502", floor=5)

    page = login(world.grid_worker).get(map_url(world.community)).content.decode()

    assert colour_of(cell(page, empty)) == "empty"
    assert title_of(cell(page, empty)) == "502 · 无人在住"
    assert colour_of(cell(page, world.household_a1)) == "green"


def test_it_ignores_residents_who_moved_out(world: World, login):
    household = world.household_a1
    gone = add_member(world.admin, household, "王五", "home_isolation")
    Resident.objects.filter(pk=gone.pk).update(left_at=timezone.now() - timedelta(days=1))
    Resident.objects.filter(pk=world.resident_a1.pk).update(left_at=timezone.now())
    bump_map_version(world.community.id)

    page = login(world.grid_worker).get(map_url(world.community)).content.decode()

    assert colour_of(cell(page, household)) == "empty"
    legend = battle_map(world.grid_worker, world.community).legend
    assert {row.colour: row.residents for row in legend if row.residents is not None} == {
        "red": 0,
        "yellow": 0,
        "blue": 0,
        "green": 0,
    }


def test_it_lays_a_building_out_as_floors_top_first_by_entrances(world: World, login):
    building = world.building_a1
    second = Entrance.objects.create(building=building, number=2)
    top = Household.objects.create(building=building, entrance=second, room="601", floor=6)
    ground = Household.objects.create(building=building, entrance=world.household_a1.entrance, room="101", floor=1)

    page = login(world.grid_worker).get(map_url(world.community)).content.decode()

    table = re.search(r"<h3>1栋</h3><div class=\"scroll\">(<table>.*?</table>)", page)
    assert table
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table.group(1))
    assert rows[0] == "<th></th><th>1单元</th><th>2单元</th>"
    floors = [re.match(r"<th>(\d+)</th>", row).group(1) for row in rows[1:]]  # type: ignore[union-attr]
    assert floors == ["6", "5", "4", "3", "2", "1"]
    assert f"/h/{top.code}/" in rows[1].split("<td>")[2]  # floor 6, entrance 2
    assert f"/h/{world.household_a1.code}/" in rows[2].split("<td>")[1]  # floor 5, entrance 1
    assert f"/h/{ground.code}/" in rows[6].split("<td>")[1]


def test_it_draws_a_village_by_villager_group_one_cell_per_house(world: World, login):
    village = world.village
    chief = make_user("village_admin", "community_admin", village)
    groups = [Grid.objects.create(community=village, name=name) for name in ("第一村民小组", "第二村民小组")]
    houses = {}
    for group, names in zip(groups, (("东头1号", "东头2号"), ("西头1号",)), strict=True):
        for name in names:
            house = Building.objects.create(grid=group, name=name, floors=2)
            houses[name] = Household.objects.create(building=house, room="")
    add_member(chief, houses["东头2号"], "孙八", "out")

    page = login(chief).get(map_url(village)).content.decode()

    sections = dict(re.findall(r'<section class="grid [^"]*"><h2>([^<]+)</h2>(.*?)</section>', page))
    assert list(sections) == ["第一村民小组", "第二村民小组"]
    first = re.findall(r'href="/h/(\w+)/"[^>]*>([^<]+)<', sections["第一村民小组"])
    assert first == [(houses["东头1号"].code, "东头1号"), (houses["东头2号"].code, "东头2号")]
    assert "<table>" not in sections["第一村民小组"]  # houses, not floors
    assert colour_of(cell(page, houses["东头2号"])) == "blue"
    assert colour_of(cell(page, houses["西头1号"])) == "empty"


def test_a_grid_worker_sees_only_her_grids_cells_and_no_other_community(world: World, login):
    client = login(world.grid_worker)

    page = client.get(map_url(world.community)).content.decode()

    assert f"/h/{world.household_a1.code}/" in page
    assert f"/h/{world.household_a2.code}/" not in page and world.grid_a2.name not in page
    assert client.get(map_url(world.village)).status_code == 404

    other = login(world.other_worker).get(map_url(world.community)).content.decode()
    assert f"/h/{world.household_a2.code}/" in other and f"/h/{world.household_a1.code}/" not in other


def test_a_read_only_viewer_sees_the_map(world: World, login):
    response = login(world.viewer).get(map_url(world.community))

    assert response.status_code == 200
    assert f"/h/{world.household_a1.code}/" in response.content.decode()


def test_someone_who_sees_the_community_only_by_name_is_refused(world: World, login):
    guard = make_user("guard", "gate_guard", world.gate)

    response = login(guard).get(map_url(world.community))

    assert response.status_code == 403
    assert world.household_a1.code not in response.content.decode()


def test_it_shows_no_names_on_the_map(world: World, login):
    add_member(world.admin, world.household_a1, "欧阳娜娜", "home_isolation")

    page = login(world.grid_worker).get(map_url(world.community)).content.decode()

    for name in ("欧阳娜娜", world.resident_a1.name, world.resident_a1.code):
        assert name not in page


def test_the_legend_counts_households_and_residents_per_colour(world: World, login):
    add_member(world.admin, world.household_a1, "王五", "home_isolation")
    Household.objects.create(building=world.building_a1, entrance=world.household_a1.entrance, room="502", floor=5)

    the_map = battle_map(world.grid_worker, world.community)

    legend = {row.colour: (row.households, row.residents) for row in the_map.legend}
    assert legend == {"red": (1, 1), "yellow": (0, 0), "blue": (0, 0), "green": (0, 1), "empty": (1, None)}
    assert (the_map.households, the_map.residents) == (2, 2)


def test_the_care_flag_filter_keeps_the_households_with_a_flagged_member(world: World, login):
    flagged = Household.objects.create(
        building=world.building_a1, entrance=world.household_a1.entrance, room="601", floor=6
    )
    add_member(world.admin, flagged, "周九", "home_isolation", lives_alone_elderly=True)
    add_member(world.admin, world.household_a1, "吴十", "observation")

    page = login(world.grid_worker).get(map_url(world.community), {"flag": "lives_alone_elderly"}).content.decode()

    assert colour_of(cell(page, flagged)) == "red"
    assert f"/h/{world.household_a1.code}/" not in page
    the_map = battle_map(world.grid_worker, world.community, flag="lives_alone_elderly")
    assert {row.colour: (row.households, row.residents) for row in the_map.legend} == {
        "red": (1, 1),
        "yellow": (0, 0),
        "blue": (0, 0),
        "green": (0, 0),
    }
    unknown = login(world.grid_worker).get(map_url(world.community), {"flag": "no_such_flag"}).content.decode()
    assert f"/h/{world.household_a1.code}/" in unknown  # an unknown flag filters nothing


def test_the_colour_in_the_address_shows_that_colour_alone_without_javascript(world: World, login):
    client = login(world.grid_worker)

    shown = client.get(map_url(world.community), {"colour": "red"}).content.decode()
    ignored = client.get(map_url(world.community), {"colour": "purple"}).content.decode()

    assert 'id="bmap" class="bmap has-green" data-show="red"' in shown
    assert "data-show" not in ignored


def test_the_map_takes_the_same_few_queries_however_many_households(world: World, login, django_assert_max_num_queries):
    client = login(world.grid_worker)
    client.get(map_url(world.community))  # the session row exists from here on
    with django_assert_max_num_queries(13):  # 13 with the task badge of the navigation
        client.get(map_url(world.community))

    entrance = world.household_a1.entrance
    for floor in range(1, 7):
        for room in range(1, 4):
            household = Household.objects.create(
                building=world.building_a1, entrance=entrance, room=f"{floor}0{room}x", floor=floor
            )
            add_member(world.admin, household, f"住户{floor}{room}", "observation")
    with django_assert_max_num_queries(13):  # 13 with the task badge of the navigation
        page = client.get(map_url(world.community)).content.decode()
    assert page.count('class="yellow" href="/h/') == 18


def test_the_map_pages_speak_chinese(world: World, login):
    client = login(world.grid_worker)
    urls = [
        map_url(world.community),
        reverse("status:map_print", kwargs={"community": world.community.code}),
        reverse("status:street_map", kwargs={"street": world.street.code}),
    ]
    for url in urls:
        page = client.get(url).content.decode()
        assert not latin_words(page), f"{url} shows English: {sorted(latin_words(page))}"
    assert "作战图" in client.get(urls[0]).content.decode()


# --- the printed map


def inflated(pdf: bytes) -> bytes:
    """The PDF with its compressed streams inflated: fonts, metadata and text maps live in them."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            continue
    return b"\n".join(parts)


def shows_character(data: bytes, character: str) -> bool:
    """Whether the PDF's text maps (ToUnicode) hold ``character``: every character drawn is there."""
    return f"> <{ord(character):04x}>".encode() in data


def test_it_prints_the_map_as_a_pdf_with_the_chinese_font_and_no_names(world: World, login):
    add_member(world.admin, world.household_a1, "龚鑫", "home_isolation")
    client = login(world.grid_worker)

    asked = client.post(reverse("status:map_print", kwargs={"community": world.community.code}), {"paper": "A2"})
    page = client.get(asked["Location"])
    code = asked["Location"].rstrip("/").rsplit("/", 1)[1]
    download = reverse("status:map_print_file", kwargs={"community": world.community.code, "code": code})
    response = client.get(download)

    assert asked.status_code == 302 and page.status_code == 200
    assert download in page.content.decode()
    pdf = b"".join(response.streaming_content)
    assert response["Content-Type"] == "application/pdf"
    assert pdf.startswith(b"%PDF-")
    data = inflated(pdf)
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto-Sans-CJK-SC", data), "Noto Sans CJK is not embedded"
    assert ("\ufeff作战图 · " + world.community.name).encode("utf-16-be").hex().encode() in data.lower()
    assert all(shows_character(data, character) for character in "幸福社区第一网格")
    for name in ("龚鑫", world.resident_a1.name):
        assert not any(shows_character(data, character) for character in name), f"{name} is on the map"
    assert re.search(rb"/MediaBox\s*\[\s*0 0 1683\.\d+ 1190\.\d+\s*\]", data), "not A2 landscape"

    event = AuditEvent.objects.get(action="print")
    assert (event.actor, event.role, event.object_type, event.object_code, event.community_id) == (
        world.grid_worker,
        "grid_worker",
        "community",
        world.community.code,
        world.community.id,
    )
    assert event.detail["paper"] == "A2"


def test_a_printed_map_is_for_whoever_asked_for_it(world: World, login):
    client = login(world.grid_worker)
    asked = client.post(reverse("status:map_print", kwargs={"community": world.community.code}))
    code = asked["Location"].rstrip("/").rsplit("/", 1)[1]
    kwargs = {"community": world.community.code, "code": code}
    item = MapPrint.load(code)
    assert item is not None and item.ready and item.paper == "A1" and item.households == 1

    for persona in (world.viewer, world.other_worker):
        other = login(persona)
        assert other.get(reverse("status:map_print_job", kwargs=kwargs)).status_code == 404
        assert other.get(reverse("status:map_print_file", kwargs=kwargs)).status_code == 404
    mine = login(world.grid_worker)
    assert mine.get(reverse("status:map_print_file", kwargs=kwargs)).status_code == 200
    assert mine.get(reverse("status:map_print_file", kwargs={**kwargs, "code": "x-y"})).status_code == 404


def test_the_printed_map_of_a_refused_user_is_not_made(world: World, login):
    client = login(world.grid_worker)
    world.grid_worker.is_active = False  # closed between the request and the job
    world.grid_worker.save()

    from firstline.status.map import make_map_print

    item = MapPrint(
        code="closedaccount01",
        user_id=world.grid_worker.pk,
        community_id=world.community.id,
        paper="A1",
        language="zh-hans",
        requested_at=timezone.now().isoformat(),
    )
    item.save()
    make_map_print(item.code)

    assert MapPrint.load(item.code).failed  # type: ignore[union-attr]
    assert not item.pdf_path.exists()
    assert client.get(reverse("status:map", kwargs={"community": world.community.code})).status_code == 302


# --- the street


def test_the_street_map_counts_each_visible_community_by_colour(world: World, login):
    set_status(world.resident_a1, "home_isolation")
    add_member(world.admin, world.household_a1, "王五", "healthy")
    officer = make_user("officer", "street_officer", world.street)
    url = reverse("status:street_map", kwargs={"street": world.street.code})

    page = login(officer).get(url).content.decode()
    mine = login(world.grid_worker).get(url).content.decode()

    assert world.community.name in page and world.village.name in page
    assert 'aria-label="居家隔离 1 · 医学观察 0 · 外出 0 · 健康 2"' in page  # the community: 张三, 王五, 李四
    assert map_url(world.community) in page
    assert world.village.name not in mine
    assert 'aria-label="居家隔离 1 · 医学观察 0 · 外出 0 · 健康 1"' in mine  # her grid only
    assert 'style="width: 50.00%"' in mine


def test_a_street_without_a_visible_community_is_a_404(world: World, login):
    elsewhere = Street.objects.create(name="别的街道")
    Community.objects.create(street=elsewhere, name="别的社区")

    response = login(world.grid_worker).get(reverse("status:street_map", kwargs={"street": elsewhere.code}))

    assert response.status_code == 404


@pytest.mark.parametrize("paper", ["A0", "A3", "B5"])
def test_the_paper_is_one_of_a0_to_a3(world: World, login, paper):
    client = login(world.grid_worker)
    asked = client.post(reverse("status:map_print", kwargs={"community": world.community.code}), {"paper": paper})
    item = MapPrint.load(asked["Location"].rstrip("/").rsplit("/", 1)[1])
    assert item is not None and item.paper == (paper if paper != "B5" else "A1")


def test_printed_maps_are_kept_a_day(world: World, data_dir):
    from firstline.status.map import do_request_map_print, prints_dir

    old = prints_dir() / "oldprint000000.pdf"
    old.write_bytes(b"%PDF-")
    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))

    item = do_request_map_print(world.grid_worker, world.community, "A1")

    assert not old.exists()
    assert item.pdf_path.exists()


def test_the_print_page_waits_for_the_job_then_reloads_itself(world: World, login):
    item = MapPrint(
        code="waitingprint0001",
        user_id=world.grid_worker.pk,
        community_id=world.community.id,
        paper="A1",
        language="zh-hans",
        requested_at=timezone.now().isoformat(),
    )
    item.save()  # queued, as the consumer has not taken it yet
    client = login(world.grid_worker)
    url = reverse("status:map_print_job", kwargs={"community": world.community.code, "code": item.code})
    download = reverse("status:map_print_file", kwargs={"community": world.community.code, "code": item.code})

    waiting = client.get(url)
    polled = client.get(url, headers={"HX-Request": "true"})
    early = client.get(download)
    item.pdf_path.write_bytes(b"%PDF-1.7 stand-in")
    item.state = "ready"
    item.save()
    done = client.get(url, headers={"HX-Request": "true"})

    assert f'hx-get="{url}"' in waiting.content.decode() and download not in waiting.content.decode()
    assert f'hx-get="{url}"' in polled.content.decode() and "<html" not in polled.content.decode()
    assert early.status_code == 404
    assert done["HX-Refresh"] == "true"
    assert download in client.get(url).content.decode()


def test_a_drawn_map_is_kept_until_something_it_shows_changes(world: World, login, django_assert_max_num_queries):
    """The map is drawn once per change: every writer bumps the community's map version."""
    from firstline.people.actions import do_update_resident
    from firstline.status.actions import do_record_gate_reading

    client = login(world.grid_worker)
    url = map_url(world.community)
    assert 'class="green" href="/h/' + world.household_a1.code in client.get(url).content.decode()
    with django_assert_max_num_queries(9):  # kept: session, user, memberships, community, badge — no drawing
        client.get(url)

    do_record_gate_reading(world.admin, world.resident_a1, "38.4")  # the engine: yellow
    assert 'class="yellow" href="/h/' + world.household_a1.code in client.get(url).content.decode()

    do_update_resident(world.admin, world.resident_a1, {"lives_alone_elderly": True}, reason="核实")  # a save
    assert world.household_a1.code in client.get(url, {"flag": "lives_alone_elderly"}).content.decode()

    household = Household.objects.create(
        building=world.building_a1, entrance=world.household_a1.entrance, room="601", floor=6
    )
    assert f'href="/h/{household.code}/"' in client.get(url).content.decode()

    add_member(world.admin, household, "新住户", "healthy")
    assert f'class="green" href="/h/{household.code}/"' in client.get(url).content.decode()
    household.residents.update(left_at=timezone.now())  # a bulk write: its writer bumps the version itself
    assert f'class="green" href="/h/{household.code}/"' in client.get(url).content.decode()  # kept as drawn
    bump_map_version(world.community.id)
    assert f'class="empty" href="/h/{household.code}/"' in client.get(url).content.decode()
