"""Killing an import at any moment leaves the database exactly as before; running it again completes it.

Runs ``firstline import`` in a subprocess against a file-based SQLite database in
a temporary ``FIRSTLINE_DATA_DIR`` (not the test database), waits until the
import's progress file shows it writing inside its transaction, SIGKILLs it, and
compares the tables with ``sqlite3``. Then the same import runs to completion
once, and a third run changes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from firstline.conftest import make_id_number
from firstline.people.tests.sheets import write_xlsx

ROOT = Path(__file__).resolve().parents[3]
ROWS = 20_000
COMMUNITY = "killtest0001"
SETUP = f"""
from firstline.places.models import Building, Community, Grid, Street
street = Street.objects.create(name="测试街道")
community = Community.objects.create(street=street, name="幸福社区", code="{COMMUNITY}")
grid = Grid.objects.create(community=community, name="第一网格")
for number in range(1, 41):
    Building.objects.create(grid=grid, name=f"{{number}}栋", floors=18)
"""
TABLES = (
    "people_resident",
    "people_residentversion",
    "people_movement",
    "places_household",
    "places_entrance",
    "people_importjob",
    "people_importrow",
    "audit_auditevent",
)


def rows(count: int):
    yield ["姓名", "性别", "身份证号", "联系电话", "楼栋", "单元", "房号", "来源地", "返回时间", "车次"]
    for i in range(count):
        born = date(1950, 1, 1) + timedelta(days=37 * (i // 1000))
        yield [
            f"居民{i}",
            "男" if i % 2 else "女",
            make_id_number("420102", born, i % 1000),
            f"170{i:08d}",
            f"{1 + i % 40}栋",
            1 + i % 4,
            f"{100 * (1 + i % 18) + 1 + (i // 720) % 4}",
            "湖北武汉",
            date(2020, 1, 1 + i % 31),
            f"G{1000 + i % 500}",
        ]


def counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return {table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}


def test_a_killed_import_changes_nothing_and_a_rerun_completes_it(tmp_path):
    data = tmp_path / "data"
    env = {**os.environ, "FIRSTLINE_DATA_DIR": str(data), "FIRSTLINE_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    env["DJANGO_SETTINGS_MODULE"] = "firstline.settings"
    command = [sys.executable, "-m", "firstline.cli"]

    def firstline(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*command, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=check)

    firstline("migrate", "--verbosity", "0")
    firstline("shell", "-c", SETUP)
    database = data / "firstline.sqlite3"
    path = write_xlsx(tmp_path / "returnees.xlsx", rows(ROWS), constant_memory=True)
    before = counts(database)

    importing = [*command, "import", str(path), "--community", COMMUNITY, "--source", "区指挥部", "--json"]
    process = subprocess.Popen(importing, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen: dict = {}
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        for progress_file in (data / "imports").glob("*.progress.json") if (data / "imports").exists() else ():
            try:
                seen = json.loads(progress_file.read_text())
            except (OSError, ValueError):
                continue
        if seen.get("phase") == "writing" and 0 < seen["done"] < 0.9 * seen["total"]:
            break
        time.sleep(0.002)
    assert process.poll() is None, "the import ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert seen["done"] > 0 and seen["phase"] == "writing"  # killed inside the transaction, mid-write
    assert counts(database) == before

    finished = firstline(*importing[3:])
    summary = json.loads(finished.stdout)
    assert (summary["rows"], summary["created"], summary["errors"]) == (ROWS, ROWS, [])
    after = counts(database)
    assert after["people_resident"] == before["people_resident"] + ROWS
    assert after["people_residentversion"] == before["people_residentversion"] + ROWS
    assert after["people_movement"] == before["people_movement"] + ROWS
    assert after["people_importjob"] == before["people_importjob"] + 1
    assert after["audit_auditevent"] == before["audit_auditevent"] + 1

    again = json.loads(firstline(*importing[3:]).stdout)
    assert (again["unchanged"], again["created"], again["updated"]) == (ROWS, 0, 0)
    final = counts(database)
    assert final["audit_auditevent"] == after["audit_auditevent"] + 1
    assert final["people_importjob"] == after["people_importjob"] + 1
    ledger = ("people_resident", "people_residentversion", "people_movement", "places_household", "places_entrance")
    assert {table: final[table] for table in ledger} == {table: after[table] for table in ledger}
    verify = firstline("audit", "verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
