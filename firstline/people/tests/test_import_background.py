"""The sheet read in a child process (``people.importing.background``) while the import plans it.

The child must change nothing but the time: a file read in the background is planned
exactly as one read in process, chunk after chunk; an error in the child is raised
in the parent; and the child never outlives its use — not when the parent leaves
early, not when the parent is killed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from firstline.conftest import make_id_number
from firstline.people.importing import background
from firstline.people.importing.apply import import_file, plan_sheet
from firstline.people.importing.parse import UnreadableFile, read_sheet
from firstline.people.models import Resident
from firstline.people.tests.sheets import write_xlsx

ROOT = Path(__file__).resolve().parents[3]
HEADER = ["姓名", "性别", "身份证号", "联系电话", "楼栋", "单元", "房号", "来源地", "返回时间", "车次"]
TODAY = date(2020, 2, 1)
A1_ID = make_id_number(serial=123)  # world.resident_a1


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def people(count: int) -> list[list]:
    """``count`` distinct people (more than one chunk), and rows that agree or disagree across chunks."""
    rows = []
    for i in range(count):
        number = make_id_number("420102", date(1950, 1, 1) + timedelta(days=i), i % 1000)
        room = f"{100 * (1 + i % 6) + 1 + i % 3}"
        trip = f"G{1000 + i % 50}"
        rows.append(
            [
                f"居民{i}",
                "男" if i % 2 else "女",
                number,
                f"170{i:08d}",
                "1栋",
                1,
                room,
                "湖北武汉",
                date(2020, 1, 1 + i % 28),
                trip,
            ]
        )
    if count <= 4300:
        return rows
    rows[20][3] = ""  # no phone yet…
    rows[3000] = ["张三", "男", A1_ID, "13900001111", "1栋", 1, "501", "湖北孝感", date(2020, 1, 22), "D3021"]
    rows[4100] = list(rows[10])  # the same person again, two chunks later: unchanged
    rows[4200] = [*rows[20][:3], "13600000020", *rows[20][4:]]  # …the phone, two chunks later
    bad = rows[30][2][:17] + ("0" if rows[30][2][17] != "0" else "1")
    rows[4300] = [*rows[30][:2], bad, *rows[30][3:]]  # a wrong check digit
    return rows


def summary(planner) -> tuple:
    return (
        [(plan.row, plan.outcome, plan.extra, plan.movement) for plan in planner.plans],
        [(p.row, p.column, p.value, p.code) for p in planner.problems],
        [(p.row, p.code) for p in planner.duplicates],
        [
            (t.values.get("name"), t.values.get("phone_masked"), t.values.get("id_number_masked"), t.street_id)
            for t in planner.new_residents
        ],
        sorted((t.id, tuple(sorted(t.changes))) for t in planner.targets.values()),
    )


def test_a_sheet_read_in_the_background_is_planned_exactly_as_one_read_here(world, tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(4500)])
    here = read_sheet(path, today=TODAY)
    with background.reading(path, today=TODAY) as sheet:
        assert (sheet.header_row, sheet.columns) == (here.header_row, here.columns)
        assert sheet.expected == 4500
        planned = plan_sheet(sheet, world.community)
    assert [(r.row, r.fields, r.problems) for r in sheet.rows] == [(r.row, r.fields, r.problems) for r in here.rows]
    assert all(row.raw == {} for row in sheet.rows)  # the cell text only when asked for (the preview)
    expected = plan_sheet(here, world.community)
    assert summary(planned) == summary(expected)
    outcomes = {plan.row: plan.outcome for plan in planned.plans}
    assert [outcomes[row] for row in (3002, 4102, 4202, 4302)] == ["updated", "unchanged", "updated", "error"]
    assert not multiprocessing.active_children()


def test_an_import_read_in_the_background_writes_what_it_planned(world, tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(4500)])
    before = Resident.objects.count()
    job, outcome = import_file(path, world.community, actor=world.admin, accept_valid=True)
    assert (outcome.rows, outcome.created, outcome.updated, outcome.unchanged, outcome.errors) == (4500, 4496, 2, 1, 1)
    assert Resident.objects.count() == before + 4496
    assert job.lines.count() == 4500
    assert Resident.objects.get(name="居民20").phone_masked == "136****0020"  # given two chunks after its creation
    assert Resident.objects.get(pk=world.resident_a1.pk).phone_masked == "139****1111"
    assert not multiprocessing.active_children()


def test_the_preview_gets_the_cell_text(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(5)])
    with background.reading(path, today=TODAY, raw=True) as sheet:
        rows = [row for chunk in sheet.chunks() for row in chunk]
    assert rows[0].raw["name"] == "居民0" and rows[0].raw["room"] == "101"


def test_where_no_child_can_be_forked_the_sheet_is_read_here(world, tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(4500)])
    monkeypatch.setattr(background, "can_fork", lambda: False)
    with background.reading(path, today=TODAY) as sheet:
        assert not multiprocessing.active_children() and len(sheet.rows) == sheet.expected == 4500
        planned = plan_sheet(sheet, world.community)
    assert summary(planned) == summary(plan_sheet(read_sheet(path, today=TODAY), world.community))


def test_a_file_that_cannot_be_read_is_refused_as_in_process(tmp_path):
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFile) as refused, background.reading(empty):
        pass
    assert refused.value.code == "empty"
    with pytest.raises(FileNotFoundError), background.reading(tmp_path / "gone.xlsx"):
        pass
    assert not multiprocessing.active_children()


def test_an_error_in_the_child_is_raised_here_without_its_text(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(5)])

    def broken(*args, **kwargs):
        raise ValueError(f"a cell quoted: {A1_ID}")

    monkeypatch.setattr(background, "open_sheet", broken)  # the child is forked: it sees the patch
    with pytest.raises(background.ReaderFailed) as failed, background.reading(path):
        pass
    assert "ValueError" in str(failed.value) and A1_ID not in str(failed.value)
    assert not multiprocessing.active_children()


def test_a_child_that_dies_is_noticed(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(5)])
    monkeypatch.setattr(background, "open_sheet", lambda *args, **kwargs: os._exit(3))
    with pytest.raises(background.ReaderFailed, match="stopped"), background.reading(path):
        pass


def test_leaving_early_stops_the_child(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(4500)])
    with background.reading(path) as sheet:
        next(iter(sheet.chunks()))
        (child,) = multiprocessing.active_children()
        pid = child.pid
    assert not multiprocessing.active_children() and not running(pid)


ORPHAN = """
import os, sys, time
import django
django.setup()
from firstline.people.importing import background
with background.reading(sys.argv[1]) as sheet:
    print(os.getpid(), [p.pid for p in __import__("multiprocessing").active_children()][0], flush=True)
    time.sleep(600)  # never reads: the child fills the pipe and waits
"""


def test_the_child_ends_when_its_parent_is_killed(tmp_path):
    path = write_xlsx(tmp_path / "list.xlsx", [HEADER, *people(20_000)], constant_memory=True)
    env = {**os.environ, "FIRSTLINE_DATA_DIR": str(tmp_path / "data"), "DJANGO_SETTINGS_MODULE": "firstline.settings"}
    env.pop("DATABASE_URL", None)
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHAN, str(path)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        _parent, child_pid = map(int, parent.stdout.readline().split())
        time.sleep(0.5)  # the child is parsing, or blocked on a full pipe
        assert running(child_pid)
    finally:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 20
    while running(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(child_pid), "the reading child outlived its killed parent"


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by whoever adopts it, or stays a zombie)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
