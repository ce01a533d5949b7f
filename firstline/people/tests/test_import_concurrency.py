"""While a large list is read for its preview, check-ins at the gates still answer within a second.

The real server (gunicorn, as ``firstline serve`` runs it) on a file-based SQLite
database, as in ``status/tests/test_api_checkins_concurrency.py``; in another process
the job runners read a file that unpacks to a million rows (refused at the row limit)
and preview a 100,000-row list whose every row has a problem (100,000 problems written,
1,000 per transaction). Meanwhile a device sends a check-in every 50 ms: all but at
most one answer in under 1 s, and none waits 5 s (the attack measured 10 s).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

from firstline.people.tests.sheets import write_csv
from firstline.people.tests.test_import_limits import crafted_xlsx
from firstline.status.tests.test_api_checkins_concurrency import SETUP, free_port

ROOT = Path(__file__).resolve().parents[3]
ROWS = 100_000
IMPORTS = """
import shutil, sys
from firstline.people.importing.apply import new_job, preview_job, stored_path
from firstline.places.models import Community

community = Community.objects.get()
for path in sys.argv[1:]:
    job = new_job(community, actor=None, filename=path.rsplit("/", 1)[-1])
    shutil.copy(path, stored_path(job))
    job.save()
    preview_job(job)
    print(job.status, job.rows, job.problems.count(), flush=True)
"""


def check_in(url: str, token: str, resident: str) -> tuple[int, float]:
    body = {
        "client_id": str(uuid.uuid4()),
        "resident": resident,
        "temperature": 36.5,
        "symptoms": [],
        "taken_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
    }
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def test_check_ins_answer_within_a_second_while_a_large_list_is_read(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "FIRSTLINE_DATA_DIR": str(data), "FIRSTLINE_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    command = [sys.executable, "-m", "firstline.cli"]
    subprocess.run([*command, "migrate", "--verbosity", "0"], env=env, cwd=ROOT, check=True, capture_output=True)
    setup = subprocess.run([*command, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True)
    world = json.loads(setup.stdout.strip().splitlines()[-1])
    million = crafted_xlsx(tmp_path / "million.xlsx", count=1_000_000)
    header = ["姓名", "身份证号", "楼栋", "单元", "房号"]
    big = write_csv(tmp_path / "big.csv", [header, *([f"居民{i}", "", "99栋", 1, "501"] for i in range(ROWS))])
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "firstline.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--threads", "4", "--worker-class", "gthread"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    importing = None
    answers: list[tuple[int, float]] = []
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
        url = base + "/api/v1/checkins"
        check_in(url, world["token"], world["resident"])  # warm: the first request loads the app
        importing = subprocess.Popen(
            [*command, "shell", "-c", IMPORTS.replace("sys.argv[1:]", repr([str(million), str(big)]))],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        while importing.poll() is None:
            answers.append(check_in(url, world["token"], world["resident"]))
            time.sleep(0.05)
        out, err = importing.communicate(timeout=60)
    finally:
        if importing is not None and importing.poll() is None:
            importing.kill()
        server.terminate()
        server.wait(timeout=15)

    assert importing.returncode == 0, err[-2000:]
    assert out.split()[-6:] == ["failed", "0", "0", "previewed", str(ROWS), str(ROWS)], out
    slowest = max(seconds for _status, seconds in answers)
    print(f"{len(answers)} check-ins during the import, slowest {slowest * 1000:.0f} ms")
    assert len(answers) >= 10
    assert all(status in (200, 201) for status, _seconds in answers), answers
    # On a busy two-core machine one answer can be slow for reasons outside the import; the
    # lock a single 100,000-problem transaction held kept every check-in waiting for seconds.
    within_a_second = sum(seconds < 1.0 for _status, seconds in answers)
    assert within_a_second >= len(answers) - 1, answers
    assert slowest < 5.0  # the attack measured 10 s waits
