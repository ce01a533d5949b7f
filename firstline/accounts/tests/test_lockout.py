"""Login lockout: per username and address together, a slower limit per address, the address from a trusted proxy.

The attack: the 5th wrong password locked every account from that address (an office,
a carrier's shared address, everyone behind the reverse proxy) and anyone could lock
any username they knew. Now a pair (username, address) locks after
``AXES_FAILURE_LIMIT``; an address alone only after ``LOGIN_IP_FAILURE_LIMIT`` failures
in an hour, counted in the database; the address is REMOTE_ADDR unless that is a
trusted proxy, then the last untrusted one in the proxy's header.
"""

from __future__ import annotations

from django.conf import settings
from django.test import Client, RequestFactory

from firstline.accounts.models import ApiToken
from firstline.audit.log import client_ip
from firstline.conftest import PASSWORD

TOKEN_URL = "/api/v1/auth/token"


def ask(client: Client, username: str, password: str, ip: str, **headers):
    return client.post(
        TOKEN_URL,
        {"username": username, "password": password},
        content_type="application/json",
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
        **headers,
    )


def fail(client: Client, username: str, ip: str, times: int, **headers) -> list[int]:
    return [ask(client, username, "wrong password", ip, **headers).status_code for _ in range(times)]


def test_a_locked_pair_locks_neither_the_user_elsewhere_nor_others_at_that_address(world, client):
    assert fail(client, "worker_a1", "10.0.0.1", settings.AXES_FAILURE_LIMIT)[-1] == 429
    assert ask(client, "worker_a1", PASSWORD, "10.0.0.1").status_code == 429  # the pair is locked

    assert ask(client, "admin_a", PASSWORD, "10.0.0.1").status_code == 200  # a colleague in the same office
    assert ask(client, "worker_a1", PASSWORD, "10.0.0.2").status_code == 200  # the worker on their phone
    assert ApiToken.objects.count() == 2


def test_an_address_trying_many_usernames_is_stopped_by_the_slower_limit(world, client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 12
    statuses = []
    for index in range(14):
        statuses += fail(client, f"guess{index}", "10.0.0.9", 1)
    assert statuses[:12] == [401] * 12 and statuses[12:] == [429, 429]
    refused = ask(client, "admin_a", PASSWORD, "10.0.0.9")
    assert refused.status_code == 429 and "address" in refused.json()["detail"]
    assert not ApiToken.objects.exists()
    assert ask(client, "admin_a", PASSWORD, "10.0.0.10").status_code == 200


def test_the_web_login_follows_the_same_rules(world, client):
    url = "/accounts/login/"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(url, {"username": "worker_a1", "password": "wrong"}, REMOTE_ADDR="10.0.1.1")
    locked = client.post(url, {"username": "worker_a1", "password": PASSWORD}, REMOTE_ADDR="10.0.1.1")
    assert locked.status_code == 429
    other = Client()
    assert other.post(url, {"username": "admin_a", "password": PASSWORD}, REMOTE_ADDR="10.0.1.1").status_code == 302


def test_the_address_comes_from_a_trusted_proxy_only(settings):
    factory = RequestFactory()
    forged = factory.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(forged) == "203.0.113.7"  # no proxy configured: the header is ignored

    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.1.0.0/16"]
    via_proxy = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.20, 10.1.2.3")
    assert client_ip(via_proxy) == "198.51.100.20"  # the client may forge what it sends first, not what nginx adds
    direct = factory.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert client_ip(direct) == "203.0.113.7"  # not from the proxy: the header is ignored
    junk = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="not-an-address")
    assert client_ip(junk) == "127.0.0.1"

    settings.CLIENT_IP_HEADER = "X-Real-IP"
    real = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.30", HTTP_X_FORWARDED_FOR="1.1.1.1")
    assert client_ip(real) == "198.51.100.30"


def test_behind_the_proxy_five_typos_lock_only_their_pair(world, client, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    behind = {"HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert fail(client, "worker_a1", "127.0.0.1", settings.AXES_FAILURE_LIMIT, **behind)[-1] == 429
    colleague = {"HTTP_X_FORWARDED_FOR": "198.51.100.2"}
    assert ask(client, "worker_a1", PASSWORD, "127.0.0.1", **colleague).status_code == 200
