"""Shared test world: one street, an urban community with two grids, a village; three personas.

- ``grid_worker``: grid worker of grid A1 (may read, write and unmask there)
- ``viewer``: read-only viewer bound to the same grid A1
- ``other_worker``: grid worker of grid A2 in the same community (A1 is out of scope)

Every test also runs under two guards: no response body may contain a full
18-digit ID number or 11-digit mobile number unless the view marked it as an
authorised unmask, and no log line may contain one at all.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from firstline.accounts.models import Membership, User
from firstline.people.actions import do_create_resident
from firstline.people.idcard import check_char
from firstline.people.models import Resident
from firstline.places.models import Building, Community, Entrance, Gate, Grid, Household, Street

FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
FULL_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
UNMASKED_HEADER = "X-FirstLine-Unmasked"
PASSWORD = "correct horse battery"


def make_id_number(region: str = "110101", born: date = date(1990, 3, 7), serial: int = 123) -> str:
    """A synthetic ID number with a valid check digit (odd serial → male)."""
    body = f"{region}{born:%Y%m%d}{serial:03d}"
    return body + check_char(body)


def leaks(text: str) -> list[str]:
    return FULL_ID.findall(text) + FULL_PHONE.findall(text)


def pytest_configure(config) -> None:
    from django.conf import settings

    # Tests serve static files through the finders; the hashed manifest exists only after collectstatic.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Argon2 is deliberately slow; the shipped setting is checked in accounts/tests/test_settings.py.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    compile_catalogue_if_stale(Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES")
    from firstline.jobs import huey

    huey.immediate = True  # jobs run in-process, at once, against the test database


def compile_catalogue_if_stale(folder: Path) -> None:
    """Compile the zh-Hans catalogue when the .mo is missing or older than the .po, so plain ``pytest`` works."""
    import fcntl
    import tempfile
    from contextlib import chdir

    from django.core.management import call_command

    po_file, mo_file = folder / "django.po", folder / "django.mo"
    with open(Path(tempfile.gettempdir()) / "firstline-compilemessages.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers must not write the .mo at the same time
        if not mo_file.exists() or mo_file.stat().st_mtime < po_file.stat().st_mtime:
            # compilemessages walks the current directory for locale folders: start it in an empty one.
            with tempfile.TemporaryDirectory() as empty, chdir(empty):
                call_command("compilemessages", locale=["zh_Hans"], verbosity=0)


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:
            self.lines.append(str(record.msg))


@pytest.fixture(autouse=True)
def no_personal_values_in_logs():
    collector = _LogCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    yield collector
    root.removeHandler(collector)
    leaked = [line for line in collector.lines if leaks(line)]
    assert not leaked, f"{len(leaked)} log line(s) contain a full ID number or phone"


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counters kept in the cache (attempts per client address) and drawn maps start afresh in every test."""
    from django.core.cache import caches

    for alias in ("default", "maps"):
        caches[alias].clear()
    yield
    for alias in ("default", "maps"):
        caches[alias].clear()


_original_request = Client.request


def _guarded_request(self, **request):
    response = _original_request(self, **request)
    if response.has_header(UNMASKED_HEADER) or getattr(response, "streaming", False):
        return response
    body = response.content.decode("utf-8", errors="replace")
    found = leaks(body)
    assert not found, f"{request.get('PATH_INFO')} returned a full ID number or phone without unmask"
    return response


@pytest.fixture(autouse=True)
def no_personal_values_in_responses(monkeypatch):
    monkeypatch.setattr(Client, "request", _guarded_request)


@dataclass
class World:
    street: Street
    community: Community
    village: Community
    grid_a1: Grid
    grid_a2: Grid
    building_a1: Building
    building_a2: Building
    household_a1: Household
    household_a2: Household
    resident_a1: Resident
    resident_a2: Resident
    gate: Gate
    admin: User
    grid_worker: User
    viewer: User
    other_worker: User


def make_user(username: str, role: str, place, full_name: str = "") -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, full_name=full_name or username)
    membership = Membership(user=user, role=role)
    membership.bind(place)
    membership.save()
    return user


@pytest.fixture
def world(db) -> World:
    street = Street.objects.create(name="测试街道")
    community = Community.objects.create(street=street, name="幸福社区", kind="urban")
    village = Community.objects.create(street=street, name="东庄村", kind="village")
    grid_a1 = Grid.objects.create(community=community, name="第一网格")
    grid_a2 = Grid.objects.create(community=community, name="第二网格")
    building_a1 = Building.objects.create(grid=grid_a1, name="1栋", floors=6)
    building_a2 = Building.objects.create(grid=grid_a2, name="2栋", floors=6)
    entrance_a1 = Entrance.objects.create(building=building_a1, number=1)
    entrance_a2 = Entrance.objects.create(building=building_a2, number=1)
    household_a1 = Household.objects.create(building=building_a1, entrance=entrance_a1, room="501", floor=5)
    household_a2 = Household.objects.create(building=building_a2, entrance=entrance_a2, room="302", floor=3)
    gate = Gate.objects.create(community=community, name="南门")
    admin = make_user("admin_a", "community_admin", community, "社区管理员")
    grid_worker = make_user("worker_a1", "grid_worker", grid_a1, "网格员甲")
    viewer = make_user("viewer_a1", "viewer", grid_a1, "只读人员")
    other_worker = make_user("worker_a2", "grid_worker", grid_a2, "网格员乙")
    resident_a1 = do_create_resident(
        admin,
        household_a1,
        {"name": "张三", "id_number": make_id_number(serial=123), "phone": "13812345678", "relation_to_head": "head"},
    )
    resident_a2 = do_create_resident(
        admin,
        household_a2,
        {"name": "李四", "id_number": make_id_number(born=date(1985, 6, 1), serial=224), "phone": "13987654321"},
    )
    return World(
        street,
        community,
        village,
        grid_a1,
        grid_a2,
        building_a1,
        building_a2,
        household_a1,
        household_a2,
        resident_a1,
        resident_a2,
        gate,
        admin,
        grid_worker,
        viewer,
        other_worker,
    )


@pytest.fixture
def login(client):
    """Log a persona in: ``login(world.grid_worker)`` returns the client."""

    def _login(user: User) -> Client:
        client.force_login(user)
        return client

    return _login


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (browser downloads are not used)."""
    import os

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the
    # test itself (fixtures, assertions) are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser, live_server):
    """A zh-Hans phone-sized page (390×844) pointed at the live server: ``phone.goto(phone.url("/"))``."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.url_for = lambda path: live_server.url + path  # type: ignore[attr-defined]
    # Every browser test also checks that no page breaks the Content-Security-Policy
    # (an inline script or handler would be blocked in the field, silently).
    refused: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    yield page
    context.close()
    assert not refused, refused


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto(page.url_for("/accounts/login/"))
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
