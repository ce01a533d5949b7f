"""The ledger web UI, walked by the three personas of ``conftest.py``.

Assertions look at data, codes, URLs and markup, never at English wording: the UI
is translated, and zh-Hans is the default language.
"""

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from firstline.audit.models import AuditEvent
from firstline.conftest import UNMASKED_HEADER, log_in, make_id_number
from firstline.people.actions import do_create_resident
from firstline.people.models import Movement, Resident, ResidentVersion
from firstline.places.models import Household

A1_ID = make_id_number(serial=123)
A1_PHONE = "13812345678"


def add_residents(household: Household, count: int, **fields) -> list[Resident]:
    """Residents straight into the ledger (no audit, no versions): volume for list and query-count tests."""
    return Resident.objects.bulk_create(
        Resident(
            household=household,
            street_id=household.street_id,
            community_id=household.community_id,
            grid_id=household.grid_id,
            building_id=household.building_id,
            name=f"居民{n:03d}",
            birth_date=date(1950 + n % 50, 1, 1),
            **fields,
        )
        for n in range(count)
    )


def residents_url(world) -> str:
    return reverse("people:residents", kwargs={"community": world.community.code})


def listed(response) -> list[str]:
    return [resident.name for resident in response.context["page"].object_list]


def resident_form_data(resident: Resident, **changes) -> dict:
    data = {
        "name": resident.name,
        "sex": resident.sex,
        "birth_date": resident.birth_date.isoformat() if resident.birth_date else "",
        "id_type": resident.id_type,
        "id_number": "",
        "phone": "",
        "relation_to_head": resident.relation_to_head,
        "person_type": resident.person_type,
        "domicile": resident.domicile,
        "workplace": resident.workplace,
        "notes": resident.notes,
        "reason": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not False}


def snapshot():
    """Everything a refused write could have touched."""
    return (
        list(Resident.objects.order_by("id").values_list("id", "name", "version", "phone_index", "id_number_index")),
        ResidentVersion.objects.count(),
        Movement.objects.count(),
        Household.objects.count(),
    )


# --- pages and language


def test_it_serves_pages_in_zh_hans_by_default(world, login):
    client = login(world.grid_worker)
    response = client.get(reverse("people:overview", kwargs={"community": world.community.code}))
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in response.content.decode()


def test_it_requires_login_everywhere(world, client):
    urls = [
        reverse("people:overview", kwargs={"community": world.community.code}),
        residents_url(world),
        reverse("people:household", kwargs={"code": world.household_a1.code}),
        reverse("people:resident", kwargs={"code": world.resident_a1.code}),
        reverse("people:resident_edit", kwargs={"code": world.resident_a1.code}),
        reverse("people:resident_new", kwargs={"code": world.household_a1.code}),
        reverse("people:movement_new", kwargs={"code": world.resident_a1.code}),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    assert not AuditEvent.objects.filter(action="read").exists()


# --- overview


def test_it_counts_only_what_the_user_may_see_on_the_overview(world, login):
    add_residents(world.household_a1, 3, status="home_isolation", lives_alone_elderly=True)
    add_residents(world.household_a2, 5, status="observation", person_type="migrant")
    url = reverse("people:overview", kwargs={"community": world.community.code})

    counts = login(world.grid_worker).get(url).context["counts"]
    assert counts.residents == 4 and counts.households == 1
    assert [(t.label, t.count) for t in counts.by_grid] == [(world.grid_a1.name, 4)]
    assert {t.value: t.count for t in counts.by_status} == {
        "home_isolation": 3,
        "observation": 0,
        "out": 0,
        "healthy": 1,
    }
    assert {t.value: t.colour for t in counts.by_status} == {
        "home_isolation": "red",
        "observation": "yellow",
        "out": "blue",
        "healthy": "green",
    }
    assert {t.value: t.count for t in counts.by_flag}["lives_alone_elderly"] == 3
    assert {t.value: t.count for t in counts.by_person_type} == {"registered": 4, "migrant": 0, "overseas": 0}

    response = login(world.admin).get(url)
    counts = response.context["counts"]
    assert counts.residents == 10 and counts.households == 2
    assert {t.label: t.count for t in counts.by_grid} == {world.grid_a1.name: 4, world.grid_a2.name: 6}
    html = response.content.decode()
    assert f"{residents_url(world)}?grid={world.grid_a2.code}" in html
    assert f"{residents_url(world)}?status=home_isolation" in html
    assert 'class="dot red"' in html and "width: 30%" in html


def test_it_counts_the_overview_in_a_constant_number_of_queries(world, login, django_assert_num_queries):
    client = login(world.admin)
    url = reverse("people:overview", kwargs={"community": world.community.code})
    client.get(url)  # warm up: session and translations
    # session, user, memberships, community, 4 counts, the task badge, session save (3 with its savepoint)
    with django_assert_num_queries(12):
        client.get(url)
    add_residents(world.household_a1, 30, hardship=True)
    add_residents(world.household_a2, 30, status="out")
    with django_assert_num_queries(12):
        assert client.get(url).context["counts"].residents == 62


# --- resident list


def test_it_lists_only_residents_in_scope(world, login):
    assert listed(login(world.grid_worker).get(residents_url(world))) == ["张三"]
    assert listed(login(world.other_worker).get(residents_url(world))) == ["李四"]
    assert listed(login(world.admin).get(residents_url(world))) == ["张三", "李四"]


def test_it_shows_list_rows_masked_with_status_address_and_flags(world, login):
    Resident.objects.filter(pk=world.resident_a1.pk).update(status="home_isolation", hardship=True)
    html = login(world.grid_worker).get(residents_url(world)).content.decode()
    assert world.resident_a1.id_number_masked in html and world.resident_a1.phone_masked in html
    assert 'class="dot red"' in html
    assert world.household_a1.address in html
    assert reverse("people:resident", kwargs={"code": world.resident_a1.code}) in html
    assert reverse("people:household", kwargs={"code": world.household_a1.code}) in html
    assert '<span class="tag">' in html


def test_it_filters_the_list_by_grid_building_flag_person_type_and_status(world, login):
    add_residents(world.household_a1, 2, status="observation", unattended_child=True)
    add_residents(world.household_a2, 3, person_type="migrant", status="out")
    client = login(world.admin)

    def names(**params):
        return listed(client.get(residents_url(world), params))

    assert names(grid=world.grid_a2.code) == ["李四", "居民000", "居民001", "居民002"]
    assert names(building=world.building_a1.code) == ["张三", "居民000", "居民001"]
    assert names(flag="unattended_child") == ["居民000", "居民001"]
    assert names(person_type="migrant", grid=world.grid_a2.code) == ["居民000", "居民001", "居民002"]
    assert names(status="out", building=world.building_a1.code) == []
    assert names(status="observation") == ["居民000", "居民001"]
    assert names(flag="not_a_flag") == []


def test_it_offers_only_filters_the_user_can_see(world, login):
    response = login(world.grid_worker).get(residents_url(world))
    html = response.content.decode()
    assert world.grid_a1.code in html and world.building_a1.code in html
    assert world.grid_a2.code not in html and world.building_a2.code not in html


def test_it_searches_by_name_and_by_exact_id_number_and_phone(world, login):
    client = login(world.admin)
    url = residents_url(world)
    assert listed(client.post(url, {"q": "张"})) == ["张三"]
    assert listed(client.post(url, {"q": A1_ID})) == ["张三"]
    assert listed(client.post(url, {"q": A1_ID.lower()[:-1] + A1_ID[-1].lower()})) == ["张三"]
    assert listed(client.post(url, {"q": A1_PHONE})) == ["张三"]
    assert listed(client.post(url, {"q": "138 1234 5678"})) == ["张三"]
    assert listed(client.post(url, {"q": "13812345670"})) == []
    # Scope still applies to an exact search.
    assert listed(login(world.other_worker).post(url, {"q": A1_ID})) == []


def test_it_drops_an_id_number_or_phone_put_in_the_address(world, login):
    client = login(world.admin)
    for q in (A1_ID, A1_PHONE):
        response = client.get(residents_url(world), {"q": q, "status": "healthy"})
        assert response.status_code == 302 and response["Location"] == f"{residents_url(world)}?status=healthy"
    assert listed(client.get(residents_url(world), {"q": "李"})) == ["李四"]


def test_it_never_echoes_an_exact_search_back_into_the_page(world, login):
    client = login(world.admin)
    response = client.post(residents_url(world), {"q": A1_ID})
    assert A1_ID not in response.content.decode()  # the guard also checks this
    response = client.post(residents_url(world), {"q": "张"})
    assert 'value="张"' in response.content.decode()


def test_it_serves_the_results_fragment_to_htmx_and_pushes_only_safe_filters(world, login):
    client = login(world.admin)
    url = residents_url(world)
    response = client.post(url, {"q": A1_PHONE, "status": "healthy"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="filters"' not in html
    assert "张三" in html and "李四" not in html
    assert "HX-Request" in response["Vary"]
    pushed = urlsplit(response["HX-Push-Url"])
    assert pushed.path == url and parse_qs(pushed.query) == {"status": ["healthy"]}

    response = client.post(url, {"q": "李", "grid": world.grid_a2.code}, headers={"HX-Request": "true"})
    assert parse_qs(urlsplit(response["HX-Push-Url"]).query) == {"q": ["李"], "grid": [world.grid_a2.code]}


def test_it_serves_the_full_page_when_htmx_restores_history(world, login):
    response = login(world.admin).get(
        residents_url(world), headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert 'id="filters"' in response.content.decode()


def test_it_pages_the_list_with_the_search_form(world, login, settings):
    settings.LEDGER_PAGE_SIZE = 2
    add_residents(world.household_a1, 3)
    client = login(world.grid_worker)
    url = residents_url(world)
    first = client.get(url)
    assert listed(first) == ["张三", "居民000"]
    assert 'form="filters" name="page" value="2"' in first.content.decode()
    assert listed(client.post(url, {"page": "2"})) == ["居民001", "居民002"]
    fragment = client.post(url, {"page": "2", "q": "居民"}, headers={"HX-Request": "true"})
    assert listed(fragment) == ["居民002"]
    assert parse_qs(urlsplit(fragment["HX-Push-Url"]).query) == {"q": ["居民"], "page": ["2"]}
    assert listed(client.get(url, {"page": "99"})) == ["居民001", "居民002"]


def test_it_lists_residents_in_a_constant_number_of_queries(world, login, django_assert_num_queries):
    add_residents(world.household_a1, 3, hardship=True)
    client = login(world.grid_worker)
    url = residents_url(world)
    client.get(url)  # warm up: session and translations

    # session, user, memberships, community, count, page, [grid and building options, task badge,] session save (3)
    def measure():
        with django_assert_num_queries(12):
            page = client.get(url)
        with django_assert_num_queries(9):
            fragment = client.post(url, {"q": "居民"}, headers={"HX-Request": "true"})
        return len(page.context["page"].object_list), len(fragment.context["page"].object_list)

    assert measure() == (4, 3)
    add_residents(world.household_a1, 30, chronic_illness=True)
    assert measure() == (34, 33)


# --- household


def test_it_shows_a_household_with_its_members_masked(world, login):
    url = reverse("people:household", kwargs={"code": world.household_a1.code})
    new_url = reverse("people:resident_new", kwargs={"code": world.household_a1.code})
    response = login(world.grid_worker).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert world.household_a1.address in html and world.grid_a1.name in html
    assert "张三" in html and world.resident_a1.id_number_masked in html
    assert new_url in html
    assert new_url not in login(world.viewer).get(url).content.decode()


def test_it_shows_a_household_in_a_constant_number_of_queries(world, login, django_assert_num_queries):
    client = login(world.grid_worker)
    url = reverse("people:household", kwargs={"code": world.household_a1.code})
    client.get(url)
    # session, user, memberships, household, members, task badge, the passes at the gates, session save (3)
    with django_assert_num_queries(10):
        assert len(client.get(url).context["members"]) == 1
    add_residents(world.household_a1, 30, pregnant=True)
    with django_assert_num_queries(10):
        assert len(client.get(url).context["members"]) == 31


# --- scope: out of scope is 404 on every page


def test_it_answers_404_to_the_worker_of_another_grid_on_every_page(world, login):
    client = login(world.other_worker)
    resident, household = world.resident_a1.code, world.household_a1.code
    before = snapshot()
    gets = [
        reverse("people:household", kwargs={"code": household}),
        reverse("people:resident_new", kwargs={"code": household}),
        reverse("people:resident", kwargs={"code": resident}),
        reverse("people:resident_edit", kwargs={"code": resident}),
        reverse("people:movement_new", kwargs={"code": resident}),
        reverse("people:overview", kwargs={"community": world.village.code}),
        reverse("people:residents", kwargs={"community": world.village.code}),
        reverse("people:resident", kwargs={"code": "nonexistent"}),
    ]
    posts = [
        (reverse("people:resident_unmask", kwargs={"code": resident}), {"field": "id_number", "reason": "check"}),
        (reverse("people:resident_edit", kwargs={"code": resident}), resident_form_data(world.resident_a1, name="X")),
        (reverse("people:resident_new", kwargs={"code": household}), {"name": "王五"}),
        (reverse("people:movement_new", kwargs={"code": resident}), {"direction": "departure", "destination": "X"}),
        (reverse("people:residents", kwargs={"community": world.village.code}), {"q": "张"}),
    ]
    responses = [(url, client.get(url)) for url in gets] + [(url, client.post(url, data)) for url, data in posts]
    for url, response in responses:
        body = response.content.decode()
        assert response.status_code == 404, url
        assert "张三" not in body and world.resident_a1.id_number_masked not in body, url
    assert snapshot() == before
    assert not AuditEvent.objects.filter(object_code=resident, action__in=["read", "unmask", "update"]).exists()


# --- resident page, audit and unmask


def test_it_shows_the_resident_masked_and_audits_the_opening(world, login):
    Movement.objects.create(
        resident=world.resident_a1,
        street_id=world.resident_a1.street_id,
        community_id=world.resident_a1.community_id,
        grid_id=world.resident_a1.grid_id,
        building_id=world.resident_a1.building_id,
        direction="arrival",
        origin="武汉",
        trip_number="G1234",
    )
    url = reverse("people:resident", kwargs={"code": world.resident_a1.code})
    response = login(world.grid_worker).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert world.resident_a1.id_number_masked in html and world.resident_a1.phone_masked in html
    assert "武汉" in html and "G1234" in html
    assert "v1" in html and world.admin.full_name in html
    assert "no-store" in response["Cache-Control"]
    read = AuditEvent.objects.get(action="read", object_code=world.resident_a1.code)
    assert read.actor == world.grid_worker and read.role == "grid_worker"


def test_it_offers_unmask_and_edit_only_to_those_who_may(world, login):
    url = reverse("people:resident", kwargs={"code": world.resident_a1.code})
    unmask = reverse("people:resident_unmask", kwargs={"code": world.resident_a1.code})
    edit = reverse("people:resident_edit", kwargs={"code": world.resident_a1.code})
    worker_html = login(world.grid_worker).get(url).content.decode()
    # ID number, phone and the birth date behind the age (no domicile recorded): each revealed for a reason
    assert worker_html.count(f'action="{unmask}"') == 3 and edit in worker_html
    viewer_response = login(world.viewer).get(url)
    viewer_html = viewer_response.content.decode()
    assert viewer_response.status_code == 200 and "张三" in viewer_html
    assert unmask not in viewer_html and edit not in viewer_html


def test_it_unmasks_for_the_grid_worker_and_audits_it(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_unmask", kwargs={"code": world.resident_a1.code})
    response = client.post(url, {"field": "id_number", "reason": "核对身份"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response[UNMASKED_HEADER] == "1" and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert A1_ID in html and "<html" not in html and 'id="sealed-id_number"' in html
    event = AuditEvent.objects.get(action="unmask", object_code=world.resident_a1.code)
    assert (event.actor, event.reason, event.detail) == (world.grid_worker, "核对身份", {"field": "id_number"})

    response = client.post(url, {"field": "phone", "reason": "联系本人"})  # without JS: a whole page
    assert response[UNMASKED_HEADER] == "1" and A1_PHONE in response.content.decode()
    assert "<html" in response.content.decode()
    assert AuditEvent.objects.filter(action="unmask").count() == 2


def test_it_refuses_unmask_without_a_reason(world, login):
    url = reverse("people:resident_unmask", kwargs={"code": world.resident_a1.code})
    response = login(world.grid_worker).post(url, {"field": "phone", "reason": "  "}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200 and not response.has_header(UNMASKED_HEADER)
    assert response["Cache-Control"] == "no-store"
    assert 'class="errorlist"' in html and world.resident_a1.phone_masked in html and A1_PHONE not in html
    assert not AuditEvent.objects.filter(action="unmask").exists()


def test_it_refuses_unmask_to_the_viewer(world, login):
    url = reverse("people:resident_unmask", kwargs={"code": world.resident_a1.code})
    response = login(world.viewer).post(url, {"field": "id_number", "reason": "curious"})
    assert response.status_code == 403 and not response.has_header(UNMASKED_HEADER)
    assert A1_ID not in response.content.decode()
    assert not AuditEvent.objects.filter(action="unmask").exists()


def test_it_refuses_unmask_by_get(world, login):
    url = reverse("people:resident_unmask", kwargs={"code": world.resident_a1.code})
    assert login(world.grid_worker).get(url).status_code == 405
    assert not AuditEvent.objects.filter(action="unmask").exists()


# --- corrections


def test_it_shows_the_correction_form_without_full_values(world, login):
    url = reverse("people:resident_edit", kwargs={"code": world.resident_a1.code})
    response = login(world.grid_worker).get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert f'placeholder="{world.resident_a1.id_number_masked}"' in html
    assert f'placeholder="{world.resident_a1.phone_masked}"' in html
    assert 'value="张三"' in html
    form = response.context["form"]
    assert form["id_number"].value() is None and form["phone"].value() is None


def test_it_corrects_a_resident_and_writes_a_version(world, login):
    client = login(world.grid_worker)
    resident = world.resident_a1
    url = reverse("people:resident_edit", kwargs={"code": resident.code})
    data = resident_form_data(resident, name="张叁", hardship="on", reason="户口本核对")
    response = client.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("people:resident", kwargs={"code": resident.code})
    resident.refresh_from_db()
    assert resident.name == "张叁" and resident.hardship and resident.version == 2
    assert resident.phone_masked == "138****5678" and resident.id_number_index == world.resident_a1.id_number_index
    version = resident.versions.get(version=2)
    assert version.changed_by == world.grid_worker and version.reason == "户口本核对"
    assert version.changes == {"name": ["张三", "张叁"], "hardship": [False, True]}
    assert AuditEvent.objects.filter(action="update", object_code=resident.code).exists()
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "v2" in html and "户口本核对" in html and "<del>张三</del>" in html and "<ins>张叁</ins>" in html
    latest = page.context["versions"][0]
    assert latest["version"].version == 2 and len(latest["changes"]) == 2
    assert page.context["versions"][1]["created"] is True


def test_it_corrects_a_phone_and_records_it_masked(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_edit", kwargs={"code": world.resident_a1.code})
    response = client.post(url, resident_form_data(world.resident_a1, phone="13900001111", reason="换号"))
    assert response.status_code == 302
    resident = Resident.objects.get(pk=world.resident_a1.pk)
    assert resident.phone_masked == "139****1111"
    assert resident.versions.get(version=2).changes == {"phone": ["138****5678", "139****1111"]}


def test_it_shows_correction_errors_keeps_input_and_saves_nothing(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_edit", kwargs={"code": world.resident_a1.code})
    before = snapshot()

    response = client.post(url, resident_form_data(world.resident_a1, name="张叁", reason=""))
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"reason"}
    assert 'value="张叁"' in response.content.decode()

    response = client.post(url, resident_form_data(world.resident_a1, phone="12345", reason="换号"))
    html = response.content.decode()
    assert response.context["form"].errors.keys() == {"phone"}
    assert 'class="errorlist"' in html and 'value="12345"' not in html

    taken = make_id_number(serial=125)  # same birth date and sex as 张三's, in use in the other grid
    do_create_resident(world.admin, world.household_a2, {"name": "王五", "id_number": taken})
    before = snapshot()
    response = client.post(url, resident_form_data(world.resident_a1, id_number=taken, reason="核对"))
    assert response.context["form"].errors.keys() == {"id_number"}
    assert snapshot() == before
    assert Resident.objects.get(pk=world.resident_a1.pk).name == "张三"


# --- additions


def test_it_adds_a_resident_to_a_household(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_new", kwargs={"code": world.household_a1.code})
    assert client.get(url).status_code == 200
    new_id = make_id_number(born=date(2015, 9, 1), serial=46)
    response = client.post(
        url,
        {
            "name": "张小三",
            "id_type": "resident_id",
            "id_number": new_id,
            "relation_to_head": "child",
            "person_type": "registered",
            "unattended_child": "on",
        },
    )
    assert response.status_code == 302
    resident = Resident.objects.get(name="张小三")
    assert response["Location"] == reverse("people:resident", kwargs={"code": resident.code})
    assert resident.household == world.household_a1 and resident.grid == world.grid_a1
    assert resident.birth_date == date(2015, 9, 1) and resident.sex == "F" and resident.unattended_child
    assert resident.id_number_masked == "*" * 14 + new_id[-4:]
    assert resident.versions.get().changed_by == world.grid_worker


def test_it_shows_addition_errors_keeps_input_and_saves_nothing(world, login):
    client = login(world.grid_worker)
    url = reverse("people:resident_new", kwargs={"code": world.household_a1.code})
    before = snapshot()
    bad_id = A1_ID[:-1] + ("0" if A1_ID[-1] != "0" else "1")
    response = client.post(
        url,
        {
            "name": "王五",
            "id_type": "resident_id",
            "id_number": bad_id,
            "relation_to_head": "tenant",
            "person_type": "migrant",
            "domicile": "河南省",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200 and response.context["form"].errors.keys() == {"id_number"}
    assert 'value="王五"' in html and 'value="河南省"' in html and bad_id not in html
    assert snapshot() == before

    response = client.post(url, {"name": "", "id_type": "resident_id", "relation_to_head": "head"})
    assert response.status_code == 200 and "name" in response.context["form"].errors
    assert snapshot() == before


# --- movements


def test_it_records_an_arrival_and_a_departure(world, login):
    client = login(world.grid_worker)
    url = reverse("people:movement_new", kwargs={"code": world.resident_a1.code})
    assert client.get(url, {"direction": "arrival"}).context["form"].initial == {"direction": "arrival"}
    response = client.post(
        url,
        {
            "direction": "arrival",
            "origin": "湖北省武汉市",
            "departed_on": "2020-01-20",
            "arrived_on": "2020-01-21",
            "transport": "train",
            "trip_number": "G1234",
        },
    )
    assert response.status_code == 302
    response = client.post(url, {"direction": "departure", "destination": "北京", "transport": "car"})
    assert response.status_code == 302
    movements = Movement.objects.filter(resident=world.resident_a1).order_by("id")
    assert [(m.direction, m.origin, m.destination, m.recorded_by) for m in movements] == [
        ("arrival", "湖北省武汉市", "", world.grid_worker),
        ("departure", "", "北京", world.grid_worker),
    ]
    assert movements[0].arrived_on == date(2020, 1, 21) and movements[0].trip_number == "G1234"


def test_it_shows_movement_errors_and_saves_nothing(world, login):
    client = login(world.grid_worker)
    url = reverse("people:movement_new", kwargs={"code": world.resident_a1.code})
    response = client.post(url, {"direction": "arrival", "origin": "", "trip_number": "K99"})
    assert response.status_code == 200 and response.context["form"].errors.keys() == {"origin"}
    assert 'value="K99"' in response.content.decode()
    response = client.post(
        url, {"direction": "arrival", "origin": "上海", "departed_on": "2020-02-02", "arrived_on": "2020-02-01"}
    )
    assert response.context["form"].errors.keys() == {"arrived_on"}
    assert not Movement.objects.exists()


# --- the read-only viewer


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_refuses_every_write_to_the_viewer_and_changes_nothing(world, login, method):
    client = login(world.viewer)
    resident, household = world.resident_a1, world.household_a1
    writes = [
        (reverse("people:resident_edit", kwargs={"code": resident.code}), resident_form_data(resident, name="改名")),
        (reverse("people:resident_new", kwargs={"code": household.code}), {"name": "王五", "relation_to_head": "head"}),
        (reverse("people:movement_new", kwargs={"code": resident.code}), {"direction": "arrival", "origin": "上海"}),
    ]
    before = snapshot()
    for url, data in writes:
        response = client.get(url) if method == "get" else client.post(url, data)
        assert response.status_code == 403, url
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action__in=["create", "update"], actor=world.viewer).exists()


# --- in a phone-sized browser


@pytest.mark.e2e
def test_it_works_on_a_phone_with_htmx_and_keeps_exact_searches_out_of_the_address(world, phone):
    add_residents(world.household_a1, 3, status="observation")
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")

    def fits() -> bool:
        return phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    list_url = phone.url_for(residents_url(world))
    phone.goto(list_url)
    assert fits() and phone.locator("#results tbody tr").count() == 4
    phone.fill("#q", A1_PHONE)
    with phone.expect_response(lambda response: response.request.method == "POST"):
        phone.click("#filters button[type=submit]")
    expect(phone.locator("#results tbody tr")).to_have_count(1)  # waits for htmx to swap the results
    assert A1_PHONE not in phone.url
    phone.fill("#q", "")
    with phone.expect_response(lambda response: response.request.method == "POST"):
        phone.select_option("select[name=status]", "observation")
    phone.wait_for_url("**status=observation")
    expect(phone.locator("#results tbody tr")).to_have_count(3)

    phone.goto(phone.url_for(reverse("people:resident", kwargs={"code": world.resident_a1.code})))
    assert fits()
    phone.click("#sealed-id_number summary")
    phone.fill("#reason-id_number", "核对身份")
    phone.click("#sealed-id_number button")
    phone.locator("#sealed-id_number .revealed").wait_for()
    assert phone.locator("#sealed-id_number .revealed").inner_text() == A1_ID
    assert AuditEvent.objects.filter(action="unmask", actor=world.grid_worker).count() == 1

    for url in (
        reverse("people:overview", kwargs={"community": world.community.code}),
        reverse("people:resident_edit", kwargs={"code": world.resident_a1.code}),
        reverse("people:household", kwargs={"code": world.household_a1.code}),
        reverse("places:community_buildings", kwargs={"community": world.community.code}),
    ):
        phone.goto(phone.url_for(url))
        assert fits(), url
