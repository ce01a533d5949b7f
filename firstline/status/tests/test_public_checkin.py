"""Household codes and the self check-in page (no account).

Personas: ``world.grid_worker`` may issue codes in grid A1; ``world.viewer`` (read-only,
A1) and ``world.other_worker`` (grid A2) may not. Residents reach the page anonymously.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from firstline.accounts.household_codes import (
    ALPHABET,
    do_issue_household_codes,
    do_revoke_household_code,
    find_household_login,
    format_code,
    new_household_code,
    normalise_code,
)
from firstline.accounts.models import HouseholdLogin
from firstline.audit.models import AuditEvent
from firstline.people.models import Status
from firstline.status import public_views
from firstline.status.actions import do_order_isolation
from firstline.status.models import CheckIn, Referral
from firstline.status.public_views import CODE_ATTEMPTS, HOUSEHOLD_SESSION_KEY, masked_name
from firstline.tasks.models import Task

CHECKIN = reverse("public:checkin")
HOUSEHOLD = reverse("public:checkin_household")


@pytest.fixture
def code(world) -> str:
    return do_issue_household_codes(world.grid_worker, [world.household_a1])[world.household_a1.pk]


@pytest.fixture
def isolated(world):
    do_order_isolation(world.admin, world.resident_a1)
    world.resident_a1.refresh_from_db()
    return world.resident_a1


def enter(client, code: str, **extra):
    return client.post(CHECKIN, {"code": code}, **extra)


def form_ids(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(client_\w+)" value="([0-9a-f-]{36})"', page))


# --- codes


def test_it_makes_codes_from_an_alphabet_without_look_alikes():
    assert len(ALPHABET) == 32 and not set("0O1I") & set(ALPHABET)
    codes = {new_household_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(len(code) == 8 and set(code) <= set(ALPHABET) for code in codes)
    assert format_code("K7P3Q9MX") == "K7P3-Q9MX"


def test_it_reads_a_code_however_it_was_typed():
    assert normalise_code("k7p3-q9mx") == "K7P3Q9MX"
    assert normalise_code(" K7P3 Q9MX ") == "K7P3Q9MX"
    assert normalise_code("Ｋ７Ｐ３－Ｑ９ＭＸ") == "K7P3Q9MX"  # full-width, as a Chinese keyboard may type it
    assert normalise_code("K7P3Q9M0") == ""  # 0 is never in a code
    assert normalise_code("K7P3Q9M") == ""


def test_it_stores_a_code_sealed_and_finds_it_by_its_blind_index(world, code):
    login = HouseholdLogin.objects.get(household=world.household_a1)
    assert code.encode() not in bytes(login.code_sealed) and code not in login.code_index
    assert find_household_login(format_code(code).lower()) == login
    event = AuditEvent.objects.filter(object_type="household_login").latest("id")
    assert event.actor == world.grid_worker and event.detail["households"] == 1 and code not in str(event.detail)


def test_a_new_code_revokes_the_old_one(world, code):
    second = do_issue_household_codes(world.grid_worker, [world.household_a1])[world.household_a1.pk]
    assert second != code
    assert find_household_login(code) is None
    assert find_household_login(second).household == world.household_a1
    assert HouseholdLogin.objects.filter(household=world.household_a1, revoked_at__isnull=True).count() == 1


def test_a_withdrawn_code_opens_nothing(world, code):
    do_revoke_household_code(world.grid_worker, world.household_a1)
    assert find_household_login(code) is None


@pytest.mark.parametrize("persona", ["viewer", "other_worker"])
def test_it_refuses_codes_to_those_who_may_not_edit_the_household(world, persona):
    with pytest.raises(PermissionDenied):
        do_issue_household_codes(getattr(world, persona), [world.household_a1])
    assert not HouseholdLogin.objects.exists()
    assert not AuditEvent.objects.filter(object_type="household_login").exists()


# --- entering the code


def test_a_wrong_code_is_refused_with_a_clear_message_and_nothing_is_stored(world, client, code):
    before = (HouseholdLogin.objects.count(), CheckIn.objects.count(), AuditEvent.objects.count())
    response = enter(client, "ABCD-EFGH" if code != "ABCDEFGH" else "HGFE-DCBA")
    assert response.status_code == 200
    assert "登录码不正确" in response.content.decode()
    assert HOUSEHOLD_SESSION_KEY not in client.session
    assert (HouseholdLogin.objects.count(), CheckIn.objects.count(), AuditEvent.objects.count()) == before
    assert client.get(HOUSEHOLD).status_code == 302


def test_it_limits_wrong_codes_per_address_but_lets_a_right_code_in(world, client, code):
    for _attempt in range(CODE_ATTEMPTS):
        assert enter(client, "2222-2222").status_code == 200
    cache.clear()  # the counts are in the database, shared by every process: not in a cache
    refused = enter(client, "3333-3333")
    assert refused.status_code == 429
    assert "错误次数过多" in refused.content.decode()
    assert HOUSEHOLD_SESSION_KEY not in client.session
    # a carrier's shared address: a neighbour's right code still opens
    assert enter(client, code).status_code == 302 and HOUSEHOLD_SESSION_KEY in client.session


def test_guessing_from_addresses_over_their_limit_stops_at_the_shared_budget(world, client, code, monkeypatch):
    monkeypatch.setattr(public_views, "OVERFLOW_CODES", 5)
    for address in ("10.0.0.1", "10.0.0.2"):
        for _attempt in range(CODE_ATTEMPTS):
            assert enter(client, "2222-2222", REMOTE_ADDR=address).status_code == 200
    answers = [enter(client, "4444-4444", REMOTE_ADDR=f"10.0.0.{1 + n % 2}").status_code for n in range(5)]
    assert answers == [429] * 5  # the budget is spent
    held_back = enter(client, code, REMOTE_ADDR="10.0.0.1")
    assert held_back.status_code == 429 and HOUSEHOLD_SESSION_KEY not in client.session  # no more look-ups
    assert enter(client, code, REMOTE_ADDR="10.0.0.9").status_code == 302  # an address under its limit is not held back


def test_the_right_code_opens_a_household_session_holding_only_the_login(world, client, code, isolated):
    response = enter(client, format_code(code).lower())
    assert response.status_code == 302 and response["Location"] == HOUSEHOLD
    held = client.session[HOUSEHOLD_SESSION_KEY]
    assert set(held) == {"id", "at"} and held["id"] == HouseholdLogin.objects.get().pk
    page = client.get(HOUSEHOLD).content.decode()
    assert "张*" in page and "张三" not in page
    assert world.resident_a1.id_number_masked not in page and world.resident_a1.phone_masked not in page
    assert 'inputmode="decimal"' in page
    assert "需打卡" in page  # the isolated member is expected to check in


def test_the_household_session_lapses_after_a_few_hours(world, client, code):
    enter(client, code)
    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        assert client.get(HOUSEHOLD).status_code == 302


def test_a_revoked_code_ends_the_household_session(world, client, code):
    enter(client, code)
    do_issue_household_codes(world.grid_worker, [world.household_a1])
    assert client.get(HOUSEHOLD)["Location"] == CHECKIN


def test_it_shows_only_the_own_household(world, client, code):
    enter(client, code)
    page = client.get(HOUSEHOLD).content.decode()
    assert world.resident_a2.code not in page and "李*" not in page


# --- checking in


def test_sending_the_form_twice_records_one_check_in(world, client, code, isolated):
    enter(client, code)
    ids = form_ids(client.get(HOUSEHOLD).content.decode())
    field = f"client_{isolated.code}"
    assert list(ids) == [field]
    data = {field: ids[field], f"temperature_{isolated.code}": "36.6"}
    first = client.post(HOUSEHOLD, data)
    second = client.post(HOUSEHOLD, data)  # a double tap, or a retry after the connection dropped
    for response in (first, second):
        assert response.status_code == 200
        assert "已打卡，谢谢" in response.content.decode()
    checkin = CheckIn.objects.get(resident=isolated)
    assert checkin.client_id == uuid.UUID(ids[field]) and checkin.source == "self" and checkin.recorded_by is None
    assert str(checkin.temperature) == "36.6"
    assert HouseholdLogin.objects.get().last_used_at is not None


def test_a_fever_from_the_self_check_in_opens_a_referral_and_an_urgent_task(world, client, code):
    enter(client, code)
    ids = form_ids(client.get(HOUSEHOLD).content.decode())
    resident = world.resident_a1
    response = client.post(
        HOUSEHOLD,
        {
            f"client_{resident.code}": ids[f"client_{resident.code}"],
            f"temperature_{resident.code}": "38.2",
            f"symptoms_{resident.code}": ["cough"],
        },
    )
    page = response.content.decode()
    assert "体温偏高：社区工作人员会尽快联系您" in page
    referral = Referral.objects.get(resident=resident)
    assert referral.destination == Referral.Destination.FEVER_CLINIC
    task = Task.objects.get(kind=Task.Kind.FEVER, resident=resident)
    assert task.urgent and task.assignee == world.grid_worker
    resident.refresh_from_db()
    assert resident.status == Status.OBSERVATION


def test_a_wrong_temperature_is_explained_and_nothing_is_stored(world, client, code):
    enter(client, code)
    ids = form_ids(client.get(HOUSEHOLD).content.decode())
    resident = world.resident_a1
    response = client.post(
        HOUSEHOLD, {f"client_{resident.code}": ids[f"client_{resident.code}"], f"temperature_{resident.code}": "3.66"}
    )
    assert response.status_code == 200
    assert "体温应在" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_an_empty_form_asks_for_a_temperature(world, client, code):
    enter(client, code)
    response = client.post(HOUSEHOLD, {})
    assert "请至少填写一位成员的体温" in response.content.decode()
    assert not CheckIn.objects.exists()


def test_it_masks_names():
    assert masked_name("张三") == "张*"
    assert masked_name("欧阳娜娜") == "欧***"
    assert masked_name("李") == "李*"
