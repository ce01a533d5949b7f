"""Limits counted in the database hold across processes and windows."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from firstline.accounts import limits
from firstline.accounts.models import RateCount

pytestmark = pytest.mark.django_db(transaction=True)


def test_take_counts_and_refuses_over_the_limit():
    now = 1_700_000_000.0
    results = [limits.take("t:a", limit=3, window=600, now=now).allowed for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert limits.peek("t:a", limit=3, window=600, now=now).count == 5
    # Another key is counted apart; the next window starts again.
    assert limits.take("t:b", limit=3, window=600, now=now).count == 1
    assert limits.take("t:a", limit=3, window=600, now=now + 600).count == 1


def test_amounts_add_up_and_the_key_is_not_stored_in_clear():
    now = 1_700_000_000.0
    assert limits.take("rows:user:7", limit=500, window=limits.DAY, amount=200, now=now).allowed
    allowance = limits.take("rows:user:7", limit=500, window=limits.DAY, amount=400, now=now)
    assert (allowance.allowed, allowance.count) == (False, 600)
    assert not RateCount.objects.filter(key_hash__contains="user").exists()


def test_forget_and_purge():
    now = 1_700_000_000.0
    limits.take("t:c", limit=1, window=60, now=now)
    limits.forget("t:c", window=60, now=now)
    assert limits.peek("t:c", limit=1, window=60, now=now).count == 0
    limits.take("t:d", limit=1, window=60, now=now)
    assert limits.purge(now=now + 61) == 1
    assert not RateCount.objects.exists()


def test_concurrent_takes_lose_no_count():
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("threads share one in-memory connection")

    def hit(_: int) -> bool:
        try:
            return limits.take("t:race", limit=20, window=600, now=1_700_000_000.0).allowed
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        allowed = list(pool.map(hit, range(40)))
    assert allowed.count(True) == 20
    assert limits.peek("t:race", limit=20, window=600, now=1_700_000_000.0).count == 40


def test_counts_are_shared_between_processes(tmp_path):
    """Processes taking from one key see one count: the limit holds with several server workers."""
    env = {**os.environ, "FIRSTLINE_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "firstline.settings"}
    env["FIRSTLINE_LOG_LEVEL"] = "WARNING"
    settings = connection.settings_dict
    if connection.vendor == "postgresql":  # the test database itself
        env["DATABASE_URL"] = (
            f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
        )
    else:  # the in-memory test database is not visible to another process: a file of its own
        env.pop("DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "firstline.cli", "migrate", "-v", "0"], env=env, check=True)
    code = (
        "import django; django.setup(); from firstline.accounts import limits; "
        "print(limits.take('t:proc', limit=3, window=600, now=1_700_000_000.0).count)"
    )

    def take_elsewhere() -> int:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return int(out.stdout.strip().splitlines()[-1])

    with ThreadPoolExecutor(4) as pool:
        counts = sorted(pool.map(lambda _: take_elsewhere(), range(4)))
    assert counts == [1, 2, 3, 4]
