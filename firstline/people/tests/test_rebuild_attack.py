"""The attack of the outside test, replayed: rebuild a masked ID number from what a role sees, then confirm it.

Before: the mask showed the first 4 and last 4 digits, pages, API and exports showed the full
birth date and the domicile, and exact search was open to every reader, unthrottled and
unaudited; a viewer rebuilt 5 of 5 ID numbers in 6 queries. Now what a role sees leaves at least
10⁴ candidates, a read-only role cannot search exactly, and a worker's searches stop at the
limit, each of them in the audit log.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from firstline.accounts.actions import do_issue_token
from firstline.accounts.models import RateCount
from firstline.audit.models import AuditEvent, Export
from firstline.conftest import make_id_number
from firstline.people.actions import do_create_resident
from firstline.people.idcard import domicile_shown_masked
from firstline.sealing import blind_index, mask_id_number, mask_phone

BORN = date(1981, 3, 7)
NUMBER = make_id_number(region="420102", born=BORN, serial=517)  # 湖北省武汉市江岸区
PHONE = "17012345678"
DOMICILE = "湖北省武汉市江岸区解放大道100号"


@pytest.fixture
def target(world):
    return do_create_resident(
        world.admin,
        world.household_a1,
        {"name": "吴阳奕", "id_number": NUMBER, "phone": PHONE, "domicile": DOMICILE, "relation_to_head": "spouse"},
    )


def everything_seen(client: Client, world, resident) -> str:
    """The text of every masked view the role reaches: list and detail pages, API list and detail, an export."""
    token = do_issue_token(client.user)  # type: ignore[attr-defined]
    api = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    seen = [
        client.get(reverse("people:residents", kwargs={"community": world.community.code})).content.decode(),
        client.get(reverse("people:resident", kwargs={"code": resident.code})).content.decode(),
        client.get(reverse("people:resident_edit", kwargs={"code": resident.code})).content.decode(),
        client.get("/api/v1/residents", **api).content.decode(),
        client.get(f"/api/v1/residents/{resident.code}", **api).content.decode(),
        client.get(f"/api/v1/households/{world.household_a1.code}", **api).content.decode(),
    ]
    client.post(reverse("audit:export_new", kwargs={"community": world.community.code}), {"format": "csv"})
    export = Export.objects.filter(requested_by=client.user).latest("id")  # type: ignore[attr-defined]
    if export.state == Export.State.READY:
        response = client.post(reverse("audit:export_download", kwargs={"code": export.code}))
        seen.append(b"".join(response.streaming_content).decode("utf-8-sig"))
    return "\n".join(seen)


def candidates(seen: str) -> int:
    """How many ID numbers fit what was seen (the issue's model: digit positions, then the check digit).

    Positions 1-6 are the region: fixed by a domicile down to the county (or the old mask's first 4
    with a city), two of them by a province. 7-14 the birth date: one date if the full date shows,
    otherwise about 730 (the age leaves two birth years). 15-17 the serial, 18 the check digit: known
    when the mask shows the last 4; a known check digit leaves one in 11 of the rest.
    """
    shown_prefix = re.search(r"\b(\d{4})\*{6,}", seen)
    shown_last4 = re.search(r"\*{6,}(\d{3}[\dX])\b", seen)
    if "江岸区" in seen or ("武汉" in seen and shown_prefix):
        region = 1
    elif "武汉" in seen or shown_prefix:
        region = 10**2
    elif "湖北" in seen:
        region = 10**4
    else:
        region = 10**6
    birth = 1 if BORN.isoformat() in seen or BORN.strftime("%Y年%-m月%-d日") in seen else 730
    serial, check = (1, 1 / 11) if shown_last4 else (10**3, 1)
    return int(region * birth * serial * check)


@pytest.mark.parametrize("persona", ["viewer", "grid_worker"])
def test_what_a_role_sees_leaves_at_least_ten_thousand_candidates(world, target, persona):
    client = Client()
    client.user = getattr(world, persona)  # type: ignore[attr-defined]
    client.force_login(client.user)  # type: ignore[attr-defined]

    seen = everything_seen(client, world, target)

    assert mask_id_number(NUMBER) in seen  # the page was really read: the record is there, masked
    assert NUMBER[:4] + "*" not in seen and BORN.isoformat() not in seen and "江岸区" not in seen
    assert candidates(seen) >= 10**4


def test_masks_show_the_last_four_and_the_province():
    assert mask_id_number("420102198103075173") == "**************5173"
    assert mask_phone("17012345678") == "170****5678"
    assert domicile_shown_masked(DOMICILE) == "湖北省…"
    assert domicile_shown_masked("北京市朝阳区") == "北京市…"
    assert domicile_shown_masked("广西壮族自治区南宁市") == "广西壮族自治区…"
    assert domicile_shown_masked("新疆乌鲁木齐") == "新疆…"
    assert domicile_shown_masked("湖北") == "湖北"
    assert domicile_shown_masked("解放大道100号") == "***"
    assert domicile_shown_masked("") == ""


def search_page(client: Client, world, q: str):
    return client.post(reverse("people:residents", kwargs={"community": world.community.code}), {"q": q})


def test_a_viewer_cannot_search_by_id_number_or_phone(world, target, login):
    client = login(world.viewer)
    api = {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(world.viewer)}"}
    before = AuditEvent.objects.count()

    for q in (NUMBER, PHONE):
        html = search_page(client, world, q).content.decode()
        assert "不能按完整的身份证号或手机号查询" in html
        assert target.code not in html
    response = client.post("/api/v1/residents/search", {"q": NUMBER}, content_type="application/json", **api)
    assert response.status_code == 403 and target.code not in response.content.decode()
    assert AuditEvent.objects.filter(action="search").count() == 0
    assert AuditEvent.objects.count() == before  # refused before any lookup: nothing to audit, nothing counted
    assert not RateCount.objects.exists()


@override_settings(EXACT_SEARCH_LIMIT=30, EXACT_SEARCH_WINDOW_SECONDS=600)
def test_a_workers_id_searches_stop_at_the_limit_and_each_is_audited(world, target, login):
    client = login(world.grid_worker)
    guesses = [make_id_number(region="420102", born=date(1981, 1, 1 + day % 28), serial=517) for day in range(35)]
    guesses[10] = NUMBER

    answers = [search_page(client, world, guess).content.decode() for guess in guesses]

    found = [n for n, html in enumerate(answers) if target.code in html]
    assert found == [10]
    limited = [n for n, html in enumerate(answers) if "查询太频繁" in html]
    assert limited == list(range(30, 35))
    events = list(AuditEvent.objects.filter(action="search").order_by("id"))
    assert len(events) == 35 and all(event.actor == world.grid_worker for event in events)
    assert [event.detail.get("matched") for event in events[:30]] == [1 if n == 10 else 0 for n in range(30)]
    assert all(event.detail == {"field": "id_number", "limited": True} for event in events[30:])
    index = blind_index(NUMBER, "id_number")
    for event in events:
        assert NUMBER not in str(event.detail) and index not in str(event.detail) and NUMBER not in event.reason


@override_settings(EXACT_SEARCH_LIMIT=30, EXACT_SEARCH_WINDOW_SECONDS=600)
def test_the_unthrottled_phone_search_attack_is_stopped_and_audited(world, target, client):
    """923 phone searches in 2.6 s, before: now the 31st is refused (429, Retry-After) and all are audited."""
    api = {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(world.grid_worker)}", "HTTP_ACCEPT_LANGUAGE": "en"}
    statuses = []
    for guess in range(60):
        body = {"q": f"170{guess:04d}5678"}
        response = client.post("/api/v1/residents/search", body, content_type="application/json", **api)
        statuses.append(response.status_code)
    assert statuses == [200] * 30 + [429] * 30
    assert "Too many searches" in response.json()["detail"] and int(response["Retry-After"]) > 0
    assert AuditEvent.objects.filter(action="search", detail__field="phone").count() == 60


@override_settings(EXACT_SEARCH_LIMIT=3, EXACT_SEARCH_WINDOW_SECONDS=600)
def test_the_limit_is_kept_in_the_database_not_in_a_process(world, target, login):
    """Another server process shares the count: clearing this process's caches does not reset it."""
    from django.core.cache import caches

    client = login(world.grid_worker)
    for _ in range(3):
        assert target.code in search_page(client, world, NUMBER).content.decode()
    for alias in caches:
        caches[alias].clear()
    other = Client()  # a second session, as a second device or worker process would be
    other.force_login(world.grid_worker)
    assert "查询太频繁" in search_page(other, world, NUMBER).content.decode()
    assert RateCount.objects.get().count == 4
