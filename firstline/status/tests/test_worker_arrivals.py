"""Arrivals on the phone form and through the ledger's movement form: the screening rules follow."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from firstline.conftest import make_id_number
from firstline.people.models import Movement, Resident, Status
from firstline.status.actions import do_order_isolation
from firstline.status.models import IsolationOrder, RiskArea

NEW_ID = make_id_number("420102", date(1991, 4, 2), 37)


@pytest.fixture
def wuhan(world):
    return RiskArea.objects.create(
        street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1)
    )


def arrival_url(world) -> str:
    return reverse("screening:arrival_new", kwargs={"community": world.community.code})


def test_an_existing_resident_from_a_risk_area_is_isolated_and_the_page_says_so(world, login, wuhan):
    client = login(world.grid_worker)
    today = timezone.localdate()

    response = client.post(
        arrival_url(world),
        {"resident": world.resident_a1.code, "origin": "武汉市江汉区", "arrival_date": today, "transport": "train",
         "trip_no": "G1234", "temperature": "36.7"},
        follow=True,
    )  # fmt: skip

    movement = Movement.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "screening:arrival", kwargs={"community": world.community.code, "code": movement.code}
    )
    html = response.content.decode()
    planned = today + timedelta(days=14)
    assert f"来自疫区 湖北省武汉市：已居家隔离至 {planned.month:02d}月{planned.day}日，每天2次健康打卡。" in html
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.status == Status.HOME_ISOLATION
    assert (movement.origin, movement.trip_number, movement.recorded_by) == ("武汉市江汉区", "G1234", world.grid_worker)
    assert IsolationOrder.objects.get().planned_end == planned


def test_a_new_person_is_added_to_the_household_and_not_isolated(world, login, wuhan):
    client = login(world.grid_worker)

    response = client.post(
        arrival_url(world),
        {"name": "王五", "id_number": NEW_ID, "phone": "13700001111", "household": world.household_a1.code,
         "origin": "上海市浦东新区", "transport": "car"},
        follow=True,
    )  # fmt: skip

    assert "不是来自疫区：已登记。" in response.content.decode()
    newcomer = Resident.objects.get(name="王五")
    assert newcomer.household == world.household_a1 and newcomer.birth_date == date(1991, 4, 2)
    assert newcomer.status == Status.HEALTHY and newcomer.movements.get().origin == "上海市浦东新区"


def test_it_finds_residents_by_name_in_scope_only(world, login):
    url = arrival_url(world)

    def lookup(user, q: str, **headers) -> str:
        response = login(user).post(url, {"lookup": "residents", "q": q}, headers=headers)
        assert response.status_code == 200
        return response.content.decode()

    mine = lookup(world.grid_worker, "张", **{"HX-Request": "true"})
    theirs = lookup(world.other_worker, "张", **{"HX-Request": "true"})
    by_id = lookup(world.grid_worker, make_id_number(serial=123), **{"HX-Request": "true"})
    without_htmx = lookup(world.grid_worker, "张")

    assert f'value="{world.resident_a1.code}"' in mine and world.household_a1.address in mine
    assert "<!doctype" not in mine  # the fragment only
    assert world.resident_a1.code not in theirs and "张三" not in theirs
    assert f'value="{world.resident_a1.code}"' in by_id  # an exact ID number, POSTed
    assert "<!doctype" in without_htmx and f'value="{world.resident_a1.code}"' in without_htmx
    assert not Movement.objects.exists()  # a look-up registers nothing


def test_it_offers_the_households_of_a_building_in_scope(world, login):
    url = arrival_url(world)

    mine = login(world.grid_worker).get(url, {"building": world.building_a1.code}, headers={"HX-Request": "true"})
    theirs = login(world.grid_worker).get(url, {"building": world.building_a2.code}, headers={"HX-Request": "true"})

    assert f'value="{world.household_a1.code}"' in mine.content.decode()
    assert world.household_a2.code not in theirs.content.decode()


def test_it_asks_for_a_resident_or_a_household_and_keeps_what_was_typed(world, login):
    response = login(world.grid_worker).post(arrival_url(world), {"name": "王五", "origin": "上海"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "请选择一位居民，或选择住户并填写新人员的信息。" in html and 'value="王五"' in html
    assert not Movement.objects.exists() and not Resident.objects.filter(name="王五").exists()


def test_a_future_arrival_is_refused_next_to_its_box(world, login):
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = login(world.grid_worker).post(
        arrival_url(world), {"resident": world.resident_a1.code, "origin": "上海", "arrival_date": tomorrow}
    )

    assert response.context["form"].errors["arrival_date"] == ["到达日期晚于今天，请核对。"]
    assert not Movement.objects.exists()


def test_the_other_grid_worker_cannot_register_for_grid_a1(world, login):
    client = login(world.other_worker)

    assert client.post(arrival_url(world), {"resident": world.resident_a1.code, "origin": "上海"}).status_code == 404
    new_person = {"name": "王五", "household": world.household_a1.code, "origin": "上海"}
    assert client.post(arrival_url(world), new_person).status_code == 404
    assert not Movement.objects.exists() and not Resident.objects.filter(name="王五").exists()


def test_the_viewer_may_not_open_the_form(world, login):
    assert login(world.viewer).get(arrival_url(world)).status_code == 403


def test_the_ledgers_movement_form_applies_the_rules(world, login, wuhan):
    client = login(world.grid_worker)
    url = reverse("people:movement_new", kwargs={"code": world.resident_a1.code})

    response = client.post(url, {"direction": "arrival", "origin": "湖北武汉", "transport": "flight"})

    movement = Movement.objects.get()
    assert response.url == reverse(
        "screening:arrival", kwargs={"community": world.community.code, "code": movement.code}
    )
    world.resident_a1.refresh_from_db()
    assert world.resident_a1.status == Status.HOME_ISOLATION


def test_a_departure_turns_the_resident_blue_and_is_refused_under_home_isolation(world, login):
    client = login(world.grid_worker)
    url = reverse("people:movement_new", kwargs={"code": world.resident_a1.code})
    departure = {"direction": "departure", "destination": "北京市", "departed_on": timezone.localdate()}

    assert client.post(url, departure).status_code == 302
    world.resident_a2.refresh_from_db()
    zhang = Resident.objects.get(pk=world.resident_a1.pk)
    assert zhang.status == Status.OUT

    li_url = reverse("people:movement_new", kwargs={"code": world.resident_a2.code})
    do_order_isolation(world.admin, world.resident_a2)
    refused = login(world.other_worker).post(li_url, departure)
    assert refused.status_code == 200 and "居家隔离中的居民不能外出。" in refused.content.decode()
    assert not Movement.objects.filter(resident=world.resident_a2).exists()
