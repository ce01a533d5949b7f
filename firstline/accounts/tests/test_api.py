"""API authentication: device tokens, the browser session, lockout, docs."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from firstline.accounts.actions import do_issue_token
from firstline.accounts.models import ApiToken, hash_token
from firstline.audit.models import AuditEvent
from firstline.conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token"
RESIDENTS_URL = "/api/v1/residents"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def ask_token(client: Client, username: str, password: str):
    return client.post(TOKEN_URL, {"username": username, "password": password}, content_type="application/json", **EN)


def bearer(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}", **EN}


def test_it_issues_a_token_for_good_credentials_and_keeps_only_its_hash(world, client):
    response = ask_token(client, "worker_a1", PASSWORD)

    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("flt_")
    token = ApiToken.objects.get(user=world.grid_worker)
    assert token.key_hash == hash_token(body["token"])
    assert body["token"] not in token.key_hash
    expected = timezone.now() + timedelta(days=settings.API_TOKEN_DAYS)
    assert abs(token.expires_at - expected) < timedelta(minutes=1)
    assert abs(datetime.fromisoformat(body["expires_at"]) - token.expires_at) < timedelta(milliseconds=1)
    event = AuditEvent.objects.filter(action="token").latest("id")
    assert event.actor == world.grid_worker and body["token"] not in str(event.detail)


def test_it_refuses_a_wrong_password_with_401_and_issues_nothing(world, client):
    response = ask_token(client, "worker_a1", "not the password")

    assert response.status_code == 401
    assert response.json() == {"detail": "The username or password is not correct."}
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action="login_failed", detail__username="worker_a1").exists()


def test_it_refuses_an_inactive_user(world, client):
    world.grid_worker.is_active = False
    world.grid_worker.save()

    response = ask_token(client, "worker_a1", PASSWORD)

    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_it_locks_out_after_repeated_failures_with_a_json_answer(world, client):
    statuses = [
        ask_token(client, "worker_a1", "wrong password").status_code for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[0] == 401 and statuses[-1] == 429

    response = ask_token(client, "worker_a1", PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "locked" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_it_accepts_a_token_in_the_bearer_header(world, client):
    key = ask_token(client, "worker_a1", PASSWORD).json()["token"]

    response = client.get(RESIDENTS_URL, **bearer(key))

    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == [world.resident_a1.code]
    assert ApiToken.objects.get(user=world.grid_worker).last_used_at is not None


def test_it_records_token_use_at_most_once_a_minute(world, client):
    key = do_issue_token(world.grid_worker)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(RESIDENTS_URL, **bearer(key))
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get(RESIDENTS_URL, **bearer(key))
    assert ApiToken.objects.get(key_hash=hash_token(key)).last_used_at == start
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(RESIDENTS_URL, **bearer(key))
    assert ApiToken.objects.get(key_hash=hash_token(key)).last_used_at == start + timedelta(seconds=61)


def test_it_rejects_an_expired_token_with_401(world, client):
    key = do_issue_token(world.grid_worker)
    token = ApiToken.objects.get(key_hash=hash_token(key))

    with time_machine.travel(token.expires_at + timedelta(seconds=1)):
        response = client.get(RESIDENTS_URL, **bearer(key))

    assert response.status_code == 401
    assert "expired" in response.json()["detail"]
    assert world.resident_a1.name not in response.content.decode()


def test_it_rejects_the_token_of_a_deactivated_user(world, client):
    key = do_issue_token(world.grid_worker)
    world.grid_worker.is_active = False
    world.grid_worker.save()

    response = client.get(RESIDENTS_URL, **bearer(key))

    assert response.status_code == 401


@pytest.mark.parametrize("header", [None, "Bearer flt_made_up", "Bearer ", "Basic d29ya2VyX2ExOnB3", "flt_bare"])
def test_it_rejects_requests_without_valid_authentication(world, client, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}

    response = client.get(RESIDENTS_URL, HTTP_ACCEPT_LANGUAGE="en", **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert set(response.json()) == {"detail"}
    assert world.resident_a1.name not in response.content.decode()


def test_it_accepts_the_browser_session_and_needs_csrf_for_post(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.grid_worker)
    secret = "a" * 32
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    search = f"{RESIDENTS_URL}/search"

    listed = browser.get(RESIDENTS_URL, **EN)
    refused = browser.post(search, {"q": "张"}, content_type="application/json", **EN)
    allowed = browser.post(search, {"q": "张"}, content_type="application/json", HTTP_X_CSRFTOKEN=secret, **EN)

    assert [item["code"] for item in listed.json()["items"]] == [world.resident_a1.code]
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert allowed.status_code == 200 and allowed.json()["count"] == 1


def test_a_token_needs_no_csrf_even_with_a_session_cookie(world):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(world.other_worker)
    key = do_issue_token(world.grid_worker)

    response = browser.post(f"{RESIDENTS_URL}/search", {}, content_type="application/json", **bearer(key))

    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == [world.resident_a1.code]


def test_the_openapi_schema_and_docs_are_for_logged_in_staff_only(world, client):
    for url in ("/api/v1/openapi.json", "/api/v1/docs"):
        assert client.get(url).status_code == 404  # anonymous
        client.force_login(world.admin)  # a community administrator, not staff
        assert client.get(url).status_code == 404
        client.logout()
    world.admin.is_staff = True
    world.admin.save()
    client.force_login(world.admin)

    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/residents/search" in schema["paths"]
    assert set(schema["components"]["securitySchemes"]) == {"BearerToken", "BrowserSession"}


def test_its_docs_load_nothing_from_a_cdn(world, client):
    world.admin.is_staff = True
    world.admin.save()
    client.force_login(world.admin)
    response = client.get("/api/v1/docs")

    if "ninja" in settings.INSTALLED_APPS:
        assert response.status_code == 200
        assert "cdn" not in response.content.decode() and "https://" not in response.content.decode()
    else:  # django-ninja would render the docs from a CDN: they are switched off
        assert response.status_code == 404
