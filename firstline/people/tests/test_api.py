"""Ledger API: scoped by persona, masked, paginated; exact search only in a body; reads audited."""

from datetime import date

import pytest
from django.test import Client
from django.utils import translation

from firstline.accounts.actions import do_issue_token
from firstline.accounts.models import User
from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number, make_user
from firstline.people.actions import do_create_resident, do_record_movement
from firstline.people.models import Resident

RESIDENTS_URL = "/api/v1/residents"
SEARCH_URL = "/api/v1/residents/search"
ITEM_FIELDS = {
    "code",
    "name",
    "sex",
    "age",
    "id_type",
    "id_number",
    "phone",
    "relation_to_head",
    "person_type",
    "flags",
    "status",
    "household",
    "address",
    "grid",
    "building",
    "community",
    "version",
}


def as_user(user: User) -> dict[str, str]:
    """Request headers of a device holding a token of ``user`` (answers in English)."""
    return {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(user)}", "HTTP_ACCEPT_LANGUAGE": "en"}


def codes(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["code"] for item in response.json()["items"]]


def search(client: Client, headers: dict[str, str], **body):
    return client.post(SEARCH_URL, body, content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("grid_worker", ["resident_a1"]),
        ("viewer", ["resident_a1"]),
        ("other_worker", ["resident_a2"]),
        ("admin", ["resident_a1", "resident_a2"]),
    ],
)
def test_it_lists_only_the_residents_in_scope(world, client, persona, expected):
    response = client.get(RESIDENTS_URL, **as_user(getattr(world, persona)))

    assert codes(response) == [getattr(world, name).code for name in expected]
    assert response.json()["count"] == len(expected)


def test_it_serves_the_same_scoped_list_to_a_logged_in_browser(world, login):
    response = login(world.other_worker).get(RESIDENTS_URL)

    assert codes(response) == [world.resident_a2.code]


def test_it_lists_nothing_for_a_gate_guard_or_a_user_without_membership(world, client):
    guard = make_user("guard", "gate_guard", world.gate)
    nobody = User.objects.create_user("nobody", password="x" * 12)

    for user in (guard, nobody):
        response = client.get(RESIDENTS_URL, **as_user(user))
        assert response.json() == {"count": 0, "page": 1, "pages": 0, "items": []}


def test_it_shows_items_masked_with_public_codes_only(world, client):
    response = client.get(RESIDENTS_URL, **as_user(world.grid_worker))

    [item] = response.json()["items"]
    assert set(item) == ITEM_FIELDS
    number = make_id_number(serial=123)
    assert item["id_number"] == "*" * 14 + number[-4:]
    assert item["phone"] == "138****5678"
    assert item["name"] == "张三" and item["sex"] == "M" and "birth_date" not in item and item["age"] is not None
    assert item["household"] == world.household_a1.code
    with translation.override("en"):
        assert item["address"] == world.household_a1.address
    assert (item["grid"], item["building"], item["community"]) == (
        world.grid_a1.code,
        world.building_a1.code,
        world.community.code,
    )
    assert item["flags"] == [] and item["status"] == "healthy" and item["version"] == 1


def test_it_filters_by_place_flag_person_type_status_and_name(world, client):
    Resident.objects.filter(pk=world.resident_a1.pk).update(lives_alone_elderly=True, status="observation")
    Resident.objects.filter(pk=world.resident_a2.pk).update(person_type="migrant")
    headers = as_user(world.admin)
    a1, a2 = world.resident_a1.code, world.resident_a2.code

    def listed(**params):
        return codes(client.get(RESIDENTS_URL, params, **headers))

    assert listed(community=world.community.code) == [a1, a2]
    assert listed(community=world.village.code) == []
    assert listed(grid=world.grid_a2.code) == [a2]
    assert listed(building=world.building_a1.code) == [a1]
    assert listed(flag="lives_alone_elderly") == [a1]
    assert listed(flag="not_a_flag") == []
    assert listed(person_type="migrant") == [a2]
    assert listed(status="observation") == [a1]
    assert listed(q="李") == [a2]
    assert listed(grid=world.grid_a2.code, q="张") == []


def test_it_paginates(world, client):
    for n in range(4):
        do_create_resident(world.admin, world.household_a1, {"name": f"家人{n}", "relation_to_head": "child"})
    headers = as_user(world.grid_worker)

    first = client.get(RESIDENTS_URL, {"page_size": 2}, **headers).json()
    last = client.get(RESIDENTS_URL, {"page_size": 2, "page": 3}, **headers).json()
    beyond = client.get(RESIDENTS_URL, {"page_size": 2, "page": 4}, **headers).json()

    assert (first["count"], first["page"], first["pages"], len(first["items"])) == (5, 1, 3, 2)
    assert (last["page"], len(last["items"])) == (3, 1)
    assert beyond["items"] == [] and beyond["count"] == 5
    assert client.get(RESIDENTS_URL, {"page_size": 201}, **headers).status_code == 422
    assert client.get(RESIDENTS_URL, {"page": 0}, **headers).status_code == 422


def test_it_uses_the_ledger_page_size_by_default(world, client, settings):
    settings.LEDGER_PAGE_SIZE = 1

    page = client.get(RESIDENTS_URL, **as_user(world.admin)).json()

    assert (page["count"], page["pages"], len(page["items"])) == (2, 2, 1)


@pytest.mark.parametrize("q", [make_id_number(serial=123), make_id_number(serial=123).lower(), "13812345678"])
def test_it_finds_a_resident_by_exact_id_or_phone_in_the_body_within_scope(world, client, q):
    assert codes(search(client, as_user(world.grid_worker), q=q)) == [world.resident_a1.code]
    assert codes(search(client, as_user(world.other_worker), q=q)) == []


def test_its_search_takes_the_same_filters_and_pages(world, client):
    headers = as_user(world.admin)

    page = search(client, headers, q="13987654321", grid=world.grid_a2.code, page_size=1).json()

    assert page["count"] == 1 and page["pages"] == 1
    assert [item["code"] for item in page["items"]] == [world.resident_a2.code]
    assert codes(search(client, headers, q="13987654321", grid=world.grid_a1.code)) == []


@pytest.mark.parametrize("q", [make_id_number(serial=123), "13812345678", "138 1234 5678"])
def test_it_refuses_an_id_number_or_phone_in_the_query_string(world, client, q):
    response = client.get(RESIDENTS_URL, {"q": q}, **as_user(world.grid_worker))

    assert response.status_code == 400
    assert "POST /api/v1/residents/search" in response.json()["detail"]
    assert world.resident_a1.name not in response.content.decode()


def test_it_shows_the_full_record_with_movements_and_audits_the_read(world, client):
    do_record_movement(world.grid_worker, world.resident_a1, {"direction": "arrival", "origin": "武汉"})
    Resident.objects.filter(pk=world.resident_a1.pk).update(workplace="第一中学")

    response = client.get(f"{RESIDENTS_URL}/{world.resident_a1.code}", **as_user(world.viewer))

    assert response.status_code == 200
    record = response.json()
    assert set(record) >= ITEM_FIELDS
    assert record["code"] == world.resident_a1.code and record["household"] == world.household_a1.code
    assert record["phone"] == "138****5678" and record["workplace"] == "第一中学"
    assert [(m["direction"], m["origin"]) for m in record["movements"]] == [("arrival", "武汉")]
    event = AuditEvent.objects.filter(action="read").latest("id")
    assert event.actor == world.viewer and event.object_code == world.resident_a1.code and event.role == "viewer"


def test_it_answers_404_alike_for_an_out_of_scope_or_missing_resident_and_audits_nothing(world, client):
    headers = as_user(world.other_worker)
    reads = AuditEvent.objects.filter(action="read").count()

    out_of_scope = client.get(f"{RESIDENTS_URL}/{world.resident_a1.code}", **headers)
    missing = client.get(f"{RESIDENTS_URL}/nosuchcode00", **headers)

    assert out_of_scope.status_code == missing.status_code == 404
    assert out_of_scope.json() == missing.json() == {"detail": "Not found"}
    assert AuditEvent.objects.filter(action="read").count() == reads


def test_a_gate_guard_cannot_open_a_record(world, client):
    guard = make_user("guard", "gate_guard", world.gate)

    response = client.get(f"{RESIDENTS_URL}/{world.resident_a1.code}", **as_user(guard))

    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="read", actor=guard).exists()


def test_it_shows_a_household_with_its_masked_members(world, client):
    do_create_resident(
        world.admin,
        world.household_a1,
        {"name": "张小三", "relation_to_head": "child", "birth_date": date(2015, 1, 2), "phone": "13700001111"},
    )

    response = client.get(f"/api/v1/households/{world.household_a1.code}", **as_user(world.grid_worker))

    assert response.status_code == 200
    household = response.json()
    assert household["code"] == world.household_a1.code and household["room"] == "501"
    assert (household["building"], household["grid"], household["community"]) == (
        world.building_a1.code,
        world.grid_a1.code,
        world.community.code,
    )
    assert household["entrance"] == 1
    with translation.override("en"):
        assert household["address"] == world.household_a1.address
    assert [member["name"] for member in household["members"]] == ["张三", "张小三"]
    assert [member["phone"] for member in household["members"]] == ["138****5678", "137****1111"]


def test_it_hides_a_household_out_of_scope(world, client):
    response = client.get(f"/api/v1/households/{world.household_a1.code}", **as_user(world.other_worker))

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


def test_its_list_query_count_does_not_grow_with_rows(world, client, django_assert_num_queries):
    headers = as_user(world.grid_worker)
    client.get(RESIDENTS_URL, **headers)  # the first use of the token records last_used_at

    # token and user, memberships, count, page; the day's take-out; the audit head, the list event, the head
    with django_assert_num_queries(8):
        assert len(codes(client.get(RESIDENTS_URL, **headers))) == 1
    for n in range(20):
        do_create_resident(world.admin, world.household_a1, {"name": f"家人{n}", "relation_to_head": "child"})
    with django_assert_num_queries(8):
        assert len(codes(client.get(RESIDENTS_URL, **headers))) == 21
    with django_assert_num_queries(8):
        assert len(codes(search(client, headers, q="家人"))) == 20


def test_its_household_query_count_does_not_grow_with_members(world, client, django_assert_num_queries):
    headers = as_user(world.grid_worker)
    url = f"/api/v1/households/{world.household_a1.code}"
    client.get(url, **headers)  # the first use of the token records last_used_at

    # token and user, memberships, household, members; the day's take-out; the audit head, the list event, the head
    with django_assert_num_queries(8):
        assert len(client.get(url, **headers).json()["members"]) == 1
    for n in range(10):
        do_create_resident(world.admin, world.household_a1, {"name": f"家人{n}", "relation_to_head": "child"})
    with django_assert_num_queries(8):
        assert len(client.get(url, **headers).json()["members"]) == 11
