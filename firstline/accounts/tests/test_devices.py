"""Device tokens: a scope of use, a devices page and API, revocation by the user, the team's administrator,
a password change or a deactivation.

The attack: a token kept working after logout and after a password change, for up
to 30 days, and a gate phone's token could list every resident its user could.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from firstline.accounts.actions import do_issue_token
from firstline.accounts.models import ApiToken, hash_token
from firstline.audit.models import AuditEvent
from firstline.conftest import PASSWORD, make_user
from firstline.places.models import Community

TOKEN_URL = "/api/v1/auth/token"


def bearer(key: str, language: str = "en") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", "HTTP_ACCEPT_LANGUAGE": language}


def token_of(key: str) -> ApiToken:
    return ApiToken.objects.get(key_hash=hash_token(key))


def works(key: str) -> bool:
    status = Client().get("/api/v1/tasks", **bearer(key)).status_code
    assert status in (200, 401)
    return status == 200


def ask(client: Client, username: str, **extra):
    body = {"username": username, "password": PASSWORD, **extra}
    return client.post(TOKEN_URL, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-hans")


@pytest.fixture
def guard(world):
    return make_user("guard_south", "gate_guard", world.gate, "门卫老王")


# --- scope of use ---------------------------------------------------------------------------------


def test_a_gate_token_reaches_the_gate_and_nothing_else(world, guard, client):
    issued = ask(client, "admin_a", scope="gate", device_name="南门 1 号手机")
    assert issued.status_code == 200 and issued.json()["scope"] == "gate"
    key = issued.json()["token"]
    # The administrator may do everything, but this device is a gate phone.
    for method, url in [
        ("get", "/api/v1/residents"),
        ("get", f"/api/v1/households/{world.household_a1.code}"),
        ("get", f"/api/v1/residents/{world.resident_a1.code}"),
        ("get", "/api/v1/tasks"),
    ]:
        response = getattr(client, method)(url, **bearer(key, "zh-hans"))
        assert response.status_code == 403, url
        assert "门岗" in response.json()["detail"]
    refused = client.post(
        "/api/v1/residents/search", {"q": "张三"}, content_type="application/json", **bearer(key, "zh-hans")
    )
    assert refused.status_code == 403
    assert not AuditEvent.objects.filter(action="list").exists()  # nothing was handed out
    assert client.get(f"/api/v1/gates/{world.gate.code}/sync", **bearer(key)).status_code == 200
    assert client.get(f"/api/v1/gates/{world.gate.code}/scans", **bearer(key)).status_code == 200
    scans = client.post("/api/v1/scans", [], content_type="application/json", **bearer(key))
    assert scans.status_code == 400  # reached the endpoint: an empty batch is refused by it, not by the scope


def test_a_worker_token_reaches_what_the_roles_allow(world, client):
    issued = ask(client, "worker_a1")
    assert issued.json()["scope"] == "worker"
    assert client.get("/api/v1/residents", **bearer(issued.json()["token"])).status_code == 200


def test_an_unknown_scope_is_refused_and_nothing_is_issued(world, client):
    assert ask(client, "worker_a1", scope="root").status_code == 422
    assert not ApiToken.objects.exists()


# --- revocation -----------------------------------------------------------------------------------


def test_logging_a_device_out_ends_its_token_and_only_it(world, client):
    phone, tablet = do_issue_token(world.grid_worker), do_issue_token(world.grid_worker)
    assert client.post("/api/v1/auth/logout", **bearer(phone)).status_code == 204
    assert not works(phone) and works(tablet)
    assert token_of(phone).revoked_why == "logout"
    answer = client.get("/api/v1/tasks", **bearer(phone))
    assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")


def test_a_new_password_ends_every_token_of_the_user(world):
    phone, tablet = do_issue_token(world.grid_worker), do_issue_token(world.grid_worker)
    other = do_issue_token(world.other_worker)
    world.grid_worker.set_password("a new and long passphrase 2026")
    world.grid_worker.save()
    assert not works(phone) and not works(tablet) and works(other)
    assert set(ApiToken.objects.filter(user=world.grid_worker).values_list("revoked_why", flat=True)) == {"password"}
    event = AuditEvent.objects.filter(action="revoke", object_type="apitoken").latest("id")
    assert event.detail == {"why": "password", "user": world.grid_worker.code, "tokens": 2}


def test_a_deactivated_account_ends_every_token_and_reactivating_does_not_bring_them_back(world):
    key = do_issue_token(world.grid_worker)
    world.grid_worker.is_active = False
    world.grid_worker.save()
    assert token_of(key).revoked_why == "deactivated"
    world.grid_worker.is_active = True
    world.grid_worker.save()
    assert not works(key)


def test_a_login_or_a_name_change_revokes_nothing(world, client):
    key = do_issue_token(world.grid_worker)
    client.force_login(world.grid_worker)  # updates last_login
    world.grid_worker.full_name = "网格员甲（新）"
    world.grid_worker.save()
    assert works(key) and token_of(key).revoked_at is None


def test_the_password_page_changes_it_keeps_this_browser_and_logs_the_devices_out(world, client):
    key = do_issue_token(world.grid_worker)
    client.force_login(world.grid_worker)
    new = "another long passphrase 2026"
    response = client.post(
        reverse("accounts:password"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200 and response.request["PATH_INFO"] == reverse("accounts:devices")
    assert not works(key)
    assert client.get(reverse("accounts:devices")).status_code == 200  # still logged in here
    world.grid_worker.refresh_from_db()
    assert world.grid_worker.check_password(new)


def test_a_wrong_old_password_changes_nothing(world, client):
    key = do_issue_token(world.grid_worker)
    client.force_login(world.grid_worker)
    new = "another long passphrase 2026"
    response = client.post(
        reverse("accounts:password"), {"old_password": "wrong", "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200 and response.context["form"].errors
    world.grid_worker.refresh_from_db()
    assert world.grid_worker.check_password(PASSWORD) and works(key)


# --- the devices page and API ---------------------------------------------------------------------


def test_the_devices_page_lists_my_devices_and_revokes_one(world, client):
    ask(client, "worker_a1", device_name="我的手机")
    key = ask(client, "worker_a1", device_name="旧平板").json()["token"]
    client.force_login(world.grid_worker)
    page = client.get(reverse("accounts:devices"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "我的手机" in page.content.decode() and "旧平板" in page.content.decode()
    assert not page.context["team"]
    revoked = client.post(reverse("accounts:device_revoke", kwargs={"code": token_of(key).code}), follow=True)
    assert revoked.status_code == 200 and "旧平板" not in revoked.content.decode()
    assert not works(key)
    event = AuditEvent.objects.filter(action="revoke", object_code=token_of(key).code).get()
    assert event.actor == world.grid_worker and event.detail["why"] == "user"


def test_an_administrator_revokes_a_team_members_device(world, client):
    key = do_issue_token(world.grid_worker, name="网格员甲的手机")
    client.force_login(world.admin)
    page = client.get(reverse("accounts:devices"))
    assert [token.code for token in page.context["team"]] == [token_of(key).code]
    client.post(reverse("accounts:device_revoke", kwargs={"code": token_of(key).code}))
    assert not works(key) and token_of(key).revoked_why == "admin" and token_of(key).revoked_by == world.admin


def test_nobody_else_can_see_or_revoke_a_device_and_the_refusal_changes_nothing(world, client):
    key = do_issue_token(world.grid_worker)
    code = token_of(key).code
    elsewhere = Community.objects.create(street=world.street, name="别的社区", kind="urban")
    stranger = make_user("admin_b", "community_admin", elsewhere)
    colleague = world.other_worker  # the same community, but no right to grant
    for user in (stranger, colleague, world.viewer):
        client.force_login(user)
        assert code not in client.get(reverse("accounts:devices")).content.decode()
        assert client.post(reverse("accounts:device_revoke", kwargs={"code": code})).status_code == 404
        api = Client().post(f"/api/v1/auth/devices/{code}/revoke", **bearer(do_issue_token(user)))
        assert api.status_code == 404
    assert works(key) and token_of(key).revoked_at is None
    assert not AuditEvent.objects.filter(action="revoke").exists()


def test_the_devices_api_lists_mine_with_the_current_one_and_revokes(world, client):
    phone = ask(client, "worker_a1", device_name="我的手机").json()
    tablet = ask(client, "worker_a1", device_name="平板", scope="gate").json()
    listed = client.get("/api/v1/auth/devices", **bearer(phone["token"]))
    assert listed.status_code == 200
    rows = {row["code"]: row for row in listed.json()}
    assert set(rows) == {phone["code"], tablet["code"]}
    assert rows[phone["code"]]["current"] and not rows[tablet["code"]]["current"]
    assert rows[tablet["code"]]["scope"] == "gate" and rows[tablet["code"]]["name"] == "平板"
    assert "token" not in rows[phone["code"]] and "key_hash" not in rows[phone["code"]]
    revoked = client.post(f"/api/v1/auth/devices/{tablet['code']}/revoke", **bearer(phone["token"]))
    assert revoked.status_code == 200 and revoked.json()["revoked_why"] == "user"
    assert client.get("/api/v1/auth/devices", **bearer(tablet["token"])).status_code == 401
    assert [row["code"] for row in client.get("/api/v1/auth/devices", **bearer(phone["token"])).json()] == [
        phone["code"]
    ]


def test_the_token_lookup_stays_one_query(world, client, django_assert_num_queries):
    key = do_issue_token(world.grid_worker)
    client.get("/api/v1/auth/devices", **bearer(key))  # the first use records last_used_at
    # token and user; memberships (the team); the devices
    with django_assert_num_queries(3):
        assert client.get("/api/v1/auth/devices", **bearer(key)).status_code == 200
