"""``firstline import``: the same engine from the console, with ``--json``, ``--dry-run`` and ``--report``.

Personas: without ``--user`` the operator at the console imports; ``--user`` must
name someone who may edit the whole community's ledger (``world.admin``), so the
grid worker, the viewer and the other grid's worker are refused and nothing changes.
"""

from __future__ import annotations

import json
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.people.models import ImportJob, Movement, Resident, ResidentVersion
from firstline.people.tests.sheets import write_csv, write_xlsx

A1_ID = make_id_number(serial=123)
NEW_ID = make_id_number("420102", date(1988, 5, 4), 35)
BAD_ID = NEW_ID[:17] + ("0" if NEW_ID[17] != "0" else "1")
HEADER = ["姓名", "身份证号", "手机号", "楼栋", "单元", "房号", "来源地", "返回时间", "车次"]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def sheet(tmp_path: Path, *rows: list) -> Path:
    return write_xlsx(tmp_path / "list.xlsx", [HEADER, *rows])


WANG = ["王五", NEW_ID, "13700000001", "1栋", 1, "601", "湖北武汉", date(2020, 1, 23), "G1234"]
ZHANG = ["张三", A1_ID, "13900001111", "1栋", 1, "501", "", "", ""]
BROKEN = ["钱七", BAD_ID, "13700000003", "1栋", 1, "603", "", "", ""]


def run(world, path: Path, *options: str) -> tuple[dict | str, CommandError | None]:
    out = StringIO()
    error = None
    try:
        call_command("import", str(path), "--community", world.community.code, *options, stdout=out)
    except CommandError as raised:
        error = raised
    text = out.getvalue()
    return (json.loads(text) if "--json" in options else text), error


def ledger() -> tuple[int, int, int, int]:
    return (
        Resident.objects.count(),
        ResidentVersion.objects.count(),
        Movement.objects.count(),
        ImportJob.objects.count(),
    )


def test_it_prints_the_json_summary(world, tmp_path):
    summary, error = run(world, sheet(tmp_path, WANG, ZHANG), "--json", "--source", "区指挥部", "--batch", "3")
    assert error is None
    assert summary == {
        "rows": 2,
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "possible_duplicates": 0,
        "errors": [],
    }
    job = ImportJob.objects.get()
    assert (job.status, job.source, job.batch, job.created_by) == ("applied", "区指挥部", "3", None)
    event = AuditEvent.objects.get(object_type="import")
    assert event.actor is None and event.detail["created"] == 1


def test_a_refused_file_lists_its_errors_masked_and_exits_non_zero(world, tmp_path):
    before = ledger()
    summary, error = run(world, sheet(tmp_path, WANG, BROKEN), "--json")
    assert error is not None  # the exit status is not 0
    assert summary["created"] == 0 and summary["rows"] == 2
    assert [(e["row"], e["column"]) for e in summary["errors"]] == [(3, "身份证号")]
    assert set(summary["errors"][0]) == {"row", "column", "problem"} and summary["errors"][0]["problem"]
    assert BAD_ID not in json.dumps(summary)
    assert ledger()[:3] == before[:3]
    assert ImportJob.objects.get().status == "refused"


def test_accept_valid_imports_the_rest(world, tmp_path):
    summary, error = run(world, sheet(tmp_path, WANG, BROKEN), "--json", "--accept-valid")
    assert error is None and summary["created"] == 1 and len(summary["errors"]) == 1
    assert Resident.objects.filter(name="王五").exists() and not Resident.objects.filter(name="钱七").exists()


def test_a_dry_run_counts_and_writes_nothing(world, tmp_path, data_dir):
    before = ledger()
    audited = AuditEvent.objects.count()
    summary, error = run(world, sheet(tmp_path, WANG, ZHANG), "--json", "--dry-run")
    assert error is None and (summary["created"], summary["updated"]) == (1, 1)
    assert ledger() == before and AuditEvent.objects.count() == audited
    assert not list((data_dir / "imports").glob("*")) if (data_dir / "imports").exists() else True


def test_it_writes_the_problem_report(world, tmp_path):
    from openpyxl import load_workbook

    report = tmp_path / "problems.xlsx"
    text, error = run(world, sheet(tmp_path, WANG, BROKEN), "--report", str(report))
    assert error is not None and report.exists()
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    assert rows[2][:3] == (3, "身份证号", "*" * 14 + BAD_ID[-4:])
    assert rows[2][3] and rows[2][4]
    assert BAD_ID not in text


def test_it_reads_a_gbk_csv(world, tmp_path):
    path = write_csv(tmp_path / "list.csv", [HEADER, [str(cell) for cell in WANG]], encoding="gbk")
    summary, error = run(world, path, "--json")
    assert error is None and summary["created"] == 1


def test_it_imports_as_a_community_editor(world, tmp_path):
    _summary, error = run(world, sheet(tmp_path, WANG), "--json", "--user", world.admin.username)
    assert error is None
    assert AuditEvent.objects.get(object_type="import").actor == world.admin


@pytest.mark.parametrize("persona", ["grid_worker", "viewer", "other_worker"])
def test_grid_level_users_may_not_import_and_nothing_changes(world, tmp_path, persona):
    before = ledger()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import",
            str(sheet(tmp_path, WANG)),
            "--community",
            world.community.code,
            "--user",
            getattr(world, persona).username,
            stdout=out,
        )
    assert ledger() == before


def test_an_unreadable_file_is_an_error(world, tmp_path):
    path = tmp_path / "list.xlsx"
    path.write_bytes(b"PK\x03\x04 broken")
    with pytest.raises(CommandError):
        call_command("import", str(path), "--community", world.community.code, stdout=StringIO())
    assert not ImportJob.objects.exists()
