"""The buildings pages, walked by the community admin and the three personas of ``conftest.py``."""

from django.urls import reverse

from firstline.audit.models import AuditEvent
from firstline.places.models import Entrance, Household


def buildings_url(community) -> str:
    return reverse("places:community_buildings", kwargs={"community": community.code})


def bulk_url(building) -> str:
    return reverse("places:building_households", kwargs={"code": building.code})


def test_it_lists_the_grids_and_buildings_the_user_sees(world, login):
    response = login(world.grid_worker).get(buildings_url(world.community))
    html = response.content.decode()
    assert response.status_code == 200
    assert [(grid.name, [b.name for b in buildings]) for grid, buildings in response.context["grids"]] == [
        (world.grid_a1.name, [world.building_a1.name])
    ]
    assert world.building_a2.code not in html
    assert f"?building={world.building_a1.code}" in html and f"?grid={world.grid_a1.code}" in html
    assert bulk_url(world.building_a1) not in html  # a grid worker does not build the hierarchy


def test_it_shows_the_admin_every_building_with_household_counts_and_bulk_links(world, login):
    response = login(world.admin).get(buildings_url(world.community))
    html = response.content.decode()
    rows = {b.name: (b.household_count, b.can_manage) for _, buildings in response.context["grids"] for b in buildings}
    assert rows == {world.building_a1.name: (1, True), world.building_a2.name: (1, True)}
    assert bulk_url(world.building_a1) in html and bulk_url(world.building_a2) in html


def test_it_answers_404_to_the_worker_of_another_grid(world, login):
    client = login(world.other_worker)
    before = Household.objects.count()
    assert client.get(bulk_url(world.building_a1)).status_code == 404
    response = client.post(bulk_url(world.building_a1), {"floors": 2, "entrances": 1, "rooms_per_floor": 2})
    assert response.status_code == 404
    assert client.get(buildings_url(world.village)).status_code == 404
    assert Household.objects.count() == before


def test_it_shows_the_current_households_of_a_building(world, login):
    response = login(world.admin).get(bulk_url(world.building_a1))
    assert response.status_code == 200
    assert response.context["household_count"] == 1
    assert response.context["form"].initial == {"floors": 6, "entrances": 1, "rooms_per_floor": 2}


def test_it_bulk_creates_floors_times_entrances_times_rooms_for_the_admin(world, login):
    client = login(world.admin)
    response = client.post(bulk_url(world.building_a1), {"floors": 7, "entrances": 2, "rooms_per_floor": 3})
    assert response.status_code == 302 and response["Location"] == bulk_url(world.building_a1)
    households = Household.objects.filter(building=world.building_a1)
    assert households.count() == 7 * 2 * 3  # 501 in entrance 1 existed and is kept
    assert households.filter(entrance__number=2, room="703", floor=7, grid=world.grid_a1).exists()
    assert Entrance.objects.filter(building=world.building_a1).count() == 2
    world.building_a1.refresh_from_db()
    assert world.building_a1.floors == 7
    event = AuditEvent.objects.get(action="create", object_type="households")
    assert event.actor == world.admin and event.detail == {"households": 41}
    assert client.get(bulk_url(world.building_a1)).context["household_count"] == 42


def test_it_refuses_bulk_creation_to_the_grid_worker_and_creates_nothing(world, login):
    for user in (world.grid_worker, world.viewer):
        client = login(user)
        assert client.get(bulk_url(world.building_a1)).status_code == 403
        response = client.post(bulk_url(world.building_a1), {"floors": 3, "entrances": 1, "rooms_per_floor": 2})
        assert response.status_code == 403
    assert Household.objects.filter(building=world.building_a1).count() == 1
    assert not AuditEvent.objects.filter(object_type="households").exists()


def test_it_shows_bulk_errors_and_creates_nothing(world, login):
    client = login(world.admin)
    response = client.post(bulk_url(world.building_a1), {"floors": 0, "entrances": 1, "rooms_per_floor": 99})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"floors", "rooms_per_floor"}
    assert 'value="99"' in response.content.decode()
    response = client.post(bulk_url(world.building_a1), {"floors": "many", "entrances": 1, "rooms_per_floor": 2})
    assert response.context["form"].errors.keys() == {"floors"}
    assert Household.objects.filter(building=world.building_a1).count() == 1
