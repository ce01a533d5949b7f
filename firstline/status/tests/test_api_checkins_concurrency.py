"""Ten devices send the same check-in at the same moment: exactly one is recorded, all get the same answer.

The requests must really run in parallel, each on its own database connection:

- on SQLite the test database lives in memory, and Django's live server shares the
  test's one connection between its threads, so the test starts the real server
  (gunicorn, 2 processes × 8 threads, as ``firstline serve`` does) on a file-based
  SQLite database in a temporary ``FIRSTLINE_DATA_DIR``, like ``test_import_kill``;
- on PostgreSQL (``DATABASE_URL``) the live server's threads have their own
  connections to the test database, and the same journey runs against it.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection

from firstline.accounts.actions import do_issue_token

ROOT = Path(__file__).resolve().parents[3]
DEVICES = 10
SETUP = """
import json
from datetime import date
from firstline.accounts.actions import do_issue_token
from firstline.accounts.models import Membership, User
from firstline.people.actions import do_create_resident
from firstline.places.models import Building, Community, Entrance, Grid, Household, Street

street = Street.objects.create(name="测试街道")
community = Community.objects.create(street=street, name="幸福社区")
grid = Grid.objects.create(community=community, name="第一网格")
building = Building.objects.create(grid=grid, name="1栋", floors=6)
entrance = Entrance.objects.create(building=building, number=1)
household = Household.objects.create(building=building, entrance=entrance, room="501", floor=5)
worker = User.objects.create_user("worker_a1", password="x" * 12)
membership = Membership(user=worker, role="grid_worker")
membership.bind(grid)
membership.save()
resident = do_create_resident(worker, household, {"name": "张三"})
print(json.dumps({"token": do_issue_token(worker), "resident": resident.code}))
"""


def send_together(url: str, token: str, body: dict) -> list[tuple[int, dict]]:
    """POST ``body`` from DEVICES threads released at the same instant; (status, json) of each."""
    data = json.dumps(body).encode()
    start = threading.Barrier(DEVICES)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def device() -> None:
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                answer = (response.status, json.loads(response.read()))
        except urllib.error.HTTPError as error:
            answer = (error.code, {"error": error.read().decode(errors="replace")[:300]})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=device) for _ in range(DEVICES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def fever_report(resident: str) -> dict:
    return {
        "client_id": str(uuid.uuid4()),
        "resident": resident,
        "temperature": 38.0,
        "symptoms": [],
        "taken_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }


def assert_one_answer(answers: list[tuple[int, dict]]) -> None:
    assert sorted(status for status, _body in answers) == [200] * (DEVICES - 1) + [201], answers
    assert len({json.dumps(body, sort_keys=True) for _status, body in answers}) == 1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_on_sqlite_the_real_server_records_one_checkin(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "FIRSTLINE_DATA_DIR": str(data), "FIRSTLINE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    command = [sys.executable, "-m", "firstline.cli"]
    subprocess.run([*command, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True, capture_output=True)
    setup = subprocess.run([*command, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True)
    world = json.loads(setup.stdout.strip().splitlines()[-1])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "firstline.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "8", "--worker-class", "gthread"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)

        answers = send_together(base + "/api/v1/checkins", world["token"], fever_report(world["resident"]))
    finally:
        server.terminate()
        server.wait(timeout=15)

    assert_one_answer(answers)
    with sqlite3.connect(data / "firstline.sqlite3") as database:

        def count(table: str) -> int:
            return database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

        assert count("status_checkin") == 1
        assert count("status_checkinconflict") == 0
        assert count("status_referral") == 1
        assert database.execute("SELECT COUNT(*) FROM tasks_task WHERE kind = 'fever'").fetchone()[0] == 1


def test_on_postgresql_the_live_server_records_one_checkin(transactional_db, request):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the live server shares one in-memory SQLite connection between threads: see the test above")
    world = request.getfixturevalue("world")
    live_server = request.getfixturevalue("live_server")
    from firstline.status.models import CheckIn, CheckInConflict, Referral
    from firstline.tasks.models import Task

    answers = send_together(
        live_server.url + "/api/v1/checkins",
        do_issue_token(world.grid_worker),
        fever_report(world.resident_a1.code),
    )

    assert_one_answer(answers)
    assert CheckIn.objects.count() == 1 and not CheckInConflict.objects.exists()
    assert Referral.objects.count() == 1 and Task.objects.filter(kind=Task.Kind.FEVER).count() == 1
