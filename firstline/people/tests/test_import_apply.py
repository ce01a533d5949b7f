"""The import engine (``people.importing.apply``): merge, never duplicate; all or nothing.

Files are built in the test with ``sheets.write_xlsx`` and read by the real parser.
Personas: ``world.admin`` (community administrator) may import; the grid worker,
the viewer and the other grid's worker may not (imports are community-level).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied

from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.people.importing.apply import import_file
from firstline.people.models import ImportJob, Movement, Resident, ResidentVersion
from firstline.people.tests.sheets import write_xlsx
from firstline.places.models import Building, Compound, Entrance, Household

A1_ID = make_id_number(serial=123)  # world.resident_a1 (张三, 1栋 1单元 501)
NEW_ID = make_id_number("420102", date(1988, 5, 4), 35)
NEW_ID_2 = make_id_number("420103", date(1992, 9, 9), 46)
HEADER = ["姓名", "性别", "身份证号", "联系电话", "楼栋", "单元", "房号", "来源地", "返回时间", "车次", "下发批次"]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def xlsx(tmp_path: Path, rows: list[list], name: str = "list.xlsx") -> Path:
    return write_xlsx(tmp_path / name, [HEADER, *rows])


def run(world, path: Path, actor=None, **options):
    options.setdefault("source", "区指挥部")
    options.setdefault("batch", "第3批")
    return import_file(path, world.community, actor=actor or world.admin, **options)


def ledger_counts() -> dict[str, int]:
    return {
        "residents": Resident.objects.count(),
        "versions": ResidentVersion.objects.count(),
        "movements": Movement.objects.count(),
        "households": Household.objects.count(),
        "entrances": Entrance.objects.count(),
    }


def test_it_creates_residents_in_new_households_with_their_arrival(world, tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["王五", "男", NEW_ID, "13700000001", "1栋", 1, "601", "湖北武汉", date(2020, 1, 23), "G1234", "3"],
            ["赵六", "女", NEW_ID_2, "", "1号楼", 2, "201", "", "", "", "3"],
        ],
    )
    before = ledger_counts()
    job, outcome = run(world, path)
    assert outcome.counts() == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "possible_duplicates": 0,
        "errors": 0,
    }
    assert job.status == "applied" and job.created == 2 and job.source == "区指挥部" and job.batch == "第3批"
    after = ledger_counts()
    assert after["residents"] == before["residents"] + 2
    assert after["households"] == before["households"] + 2
    assert after["entrances"] == before["entrances"] + 1  # 1栋 had only entrance 1
    assert after["movements"] == before["movements"] + 1

    wang = Resident.objects.get(name="王五")
    assert wang.id_number_masked == "*" * 14 + NEW_ID[-4:] and wang.phone_masked == "137****0001"
    assert wang.birth_date == date(1988, 5, 4) and wang.sex == "M"
    assert wang.household.building == world.building_a1 and wang.household.room == "601"
    assert wang.household.entrance.number == 1 and wang.household.floor == 6
    assert (wang.grid_id, wang.community_id, wang.street_id) == (
        world.grid_a1.id,
        world.community.id,
        world.street.id,
    )
    assert wang.relation_to_head == "head"
    version = wang.versions.get()
    assert version.version == 1 and version.changes == {"created": True} and version.changed_by == world.admin
    assert "区指挥部" in version.reason and "第3批" in version.reason
    movement = wang.movements.get()
    assert (movement.direction, movement.origin, movement.arrived_on, movement.trip_number, movement.transport) == (
        "arrival",
        "湖北武汉",
        date(2020, 1, 23),
        "G1234",
        "train",
    )
    zhao = Resident.objects.get(name="赵六")
    assert zhao.household.entrance.number == 2 and zhao.household.building == world.building_a1

    rows = {line.row: line for line in job.lines.select_related("resident")}
    assert rows[2].outcome == "created" and rows[2].resident == wang
    assert rows[2].extra == {
        "origin": "湖北武汉",
        "arrived_on": "2020-01-23",
        "trip_number": "G1234",
        "transport": "train",
        "batch": "3",
    }
    assert rows[3].resident == zhao


def test_it_merges_a_row_by_id_number_and_versions_the_change(world, tmp_path):
    path = xlsx(tmp_path, [["张三", "男", A1_ID.lower(), "13900001111", "", "", "", "", "", "", ""]])
    residents = Resident.objects.count()
    job, outcome = run(world, path)
    assert (outcome.updated, outcome.created) == (1, 0)
    assert Resident.objects.count() == residents
    resident = Resident.objects.get(pk=world.resident_a1.pk)
    assert resident.version == 2 and resident.phone_masked == "139****1111"
    assert resident.household == world.household_a1  # an address is not needed to update
    latest = resident.versions.first()
    assert latest.version == 2 and latest.changed_by == world.admin
    assert latest.changes == {"phone": ["138****5678", "139****1111"]}
    assert latest.reason.startswith("Import") or "区指挥部" in latest.reason
    assert job.lines.get().resident == resident and job.lines.get().outcome == "updated"


def test_it_never_clears_a_value_with_an_empty_cell(world, tmp_path):
    path = xlsx(tmp_path, [["张三", "", A1_ID, "", "", "", "", "", "", "", ""]])
    _job, outcome = run(world, path)
    assert outcome.unchanged == 1
    resident = Resident.objects.get(pk=world.resident_a1.pk)
    assert resident.version == 1 and resident.phone_masked == "138****5678"


def test_it_flags_the_same_name_and_phone_without_an_id_number_as_a_possible_duplicate(world, tmp_path):
    from firstline.people.actions import do_create_resident

    known = do_create_resident(world.admin, world.household_a2, {"name": "孙九", "phone": "13700000009"})
    path = xlsx(tmp_path, [["孙九", "", "", "137 0000 0009", "1栋", 1, "601", "", "", "", ""]])
    before = ledger_counts()
    job, outcome = run(world, path)
    assert (outcome.possible_duplicates, outcome.created, outcome.errors) == (1, 0, 0)
    assert ledger_counts() == before
    line = job.lines.get()
    assert line.outcome == "possible_duplicate" and line.resident == known
    assert job.problems.get().code == "possible_duplicate"


def test_reimporting_the_same_file_changes_nothing(world, tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["王五", "男", NEW_ID, "13700000001", "1栋", 1, "601", "湖北武汉", date(2020, 1, 23), "G1234", "3"],
            ["张三", "男", A1_ID, "13900001111", "1栋", 1, "501", "湖北孝感", date(2020, 1, 22), "D3021", "3"],
        ],
    )
    run(world, path)
    after_first = ledger_counts()
    job, outcome = run(world, path)
    assert (outcome.unchanged, outcome.created, outcome.updated) == (2, 0, 0)
    assert ledger_counts() == after_first
    assert job.status == "applied"
    assert sorted(job.lines.values_list("outcome", flat=True)) == ["unchanged", "unchanged"]


def test_a_file_with_a_problem_is_refused_whole_by_default(world, tmp_path):
    bad_id = A1_ID[:17] + ("0" if A1_ID[17] != "0" else "1")
    path = xlsx(
        tmp_path,
        [
            ["王五", "男", NEW_ID, "13700000001", "1栋", 1, "601", "", "", "", ""],
            ["钱七", "男", bad_id, "13700000002", "1栋", 1, "602", "", "", "", ""],
        ],
    )
    before = ledger_counts()
    audited = AuditEvent.objects.count()
    job, outcome = run(world, path)
    assert job.status == "refused" and outcome.errors == 1 and outcome.created == 1  # what would have been
    assert (job.created, job.errors, job.rows) == (0, 1, 2)
    assert ledger_counts() == before
    assert AuditEvent.objects.count() == audited
    problem = job.problems.get()
    assert (problem.row, problem.column, problem.code) == (3, "身份证号", "id_number_invalid")
    assert problem.value == "*" * 14 + bad_id[-4:]
    assert set(problem.messages) == {"en", "zh-hans"}


def test_accept_valid_imports_the_valid_rows_only(world, tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["王五", "男", NEW_ID, "13700000001", "1栋", 1, "601", "", "", "", ""],
            ["钱七", "男", "", "13700000002", "9栋", 1, "602", "", "", "", ""],
        ],
    )
    before = ledger_counts()
    job, _outcome = run(world, path, accept_valid=True)
    assert job.status == "applied" and (job.created, job.errors) == (1, 1)
    assert ledger_counts()["residents"] == before["residents"] + 1
    assert not Resident.objects.filter(name="钱七").exists()
    problem = job.problems.get()
    assert (problem.row, problem.column, problem.code) == (3, "楼栋", "building_not_found")
    assert problem.value == "9栋"  # the place as written, nothing about the person
    error_line = job.lines.get(row=3)
    assert error_line.outcome == "error" and error_line.resident is None


def test_it_finds_buildings_by_number_compound_and_village_house_name(world, tmp_path):
    east = Compound.objects.create(community=world.community, name="阳光花园")
    west = Compound.objects.create(community=world.community, name="幸福家园")
    east_3 = Building.objects.create(grid=world.grid_a1, compound=east, name="3号楼")
    west_3 = Building.objects.create(grid=world.grid_a2, compound=west, name="3栋")
    house = Building.objects.create(grid=world.grid_a2, name="张庄12号")
    Household.objects.create(building=house, room="")
    rows = [
        ["甲", "男", "", "", "3", 1, "101", "", "", "", ""],  # two buildings numbered 3: ambiguous
        ["乙", "男", "", "", "阳光花园3栋", 1, "101", "", "", "", ""],
        ["丙", "女", "", "", "张庄12号", "", "", "", "", "", ""],
    ]
    path = write_xlsx(tmp_path / "places.xlsx", [HEADER, *rows])
    job, outcome = run(world, path, accept_valid=True)
    assert job.problems.get().code == "building_ambiguous"
    assert Resident.objects.get(name="乙").household.building == east_3
    assert Resident.objects.get(name="丙").household.building == house
    assert not Household.objects.filter(building=west_3).exists()
    assert outcome.created == 2


@pytest.mark.parametrize("persona", ["grid_worker", "viewer", "other_worker"])
def test_only_a_community_level_editor_may_import_and_a_refusal_changes_nothing(world, tmp_path, persona):
    path = xlsx(tmp_path, [["王五", "男", NEW_ID, "13700000001", "1栋", 1, "601", "", "", "", ""]])
    before = ledger_counts()
    audited = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        run(world, path, actor=getattr(world, persona))
    assert ledger_counts() == before
    assert not ImportJob.objects.exists() and AuditEvent.objects.count() == audited


def test_an_import_is_audited_once_with_counts_and_nothing_personal(world, tmp_path):
    path = xlsx(
        tmp_path,
        [
            ["王五", "男", NEW_ID, "13700000001", "1栋", 1, "601", "湖北武汉", date(2020, 1, 23), "G1234", "3"],
            ["赵六", "女", NEW_ID_2, "13700000002", "1栋", 1, "602", "湖北武汉", date(2020, 1, 23), "G1234", "3"],
        ],
    )
    audited = AuditEvent.objects.count()
    job, _outcome = run(world, path)
    assert AuditEvent.objects.count() == audited + 1
    event = AuditEvent.objects.latest("id")
    assert (event.action, event.object_type, event.object_code, event.community_id) == (
        "create",
        "import",
        job.code,
        world.community.id,
    )
    assert event.actor == world.admin and event.role == "community_admin"
    assert event.detail["created"] == 2 and event.detail["rows"] == 2
    text = str(event.detail) + event.reason
    assert "王五" not in text and NEW_ID not in text and "13700000001" not in text


def test_a_list_from_above_keeps_its_source_batch_and_travel_fields(world, tmp_path):
    rows = [
        ["江岸区集中隔离酒店转运人员名单"],
        [
            "序号",
            "姓名",
            "身份证号码",
            "联系电话",
            "现住址",
            "隔离地点",
            "入住时间",
            "解除隔离日期",
            "体温",
            "下发批次",
        ],
        [1, "王五", NEW_ID, "13700000001", "1栋1单元601室", "如家酒店", "2020.2.3", "2020年2月17日", "37.5", "5"],
        [2, "张三", A1_ID, "", "1-1-501", "如家酒店", "2020.2.3", "2020年2月17日", 36.6, "5"],
    ]
    path = write_xlsx(tmp_path / "hotel.xlsx", rows)
    job, outcome = run(world, path, source="江岸区指挥部", batch="2020-02-03")
    assert (outcome.created, outcome.unchanged) == (1, 1)
    assert (job.source, job.batch, job.header_row) == ("江岸区指挥部", "2020-02-03", 2)
    lines = {line.row: line for line in job.lines.all()}
    assert lines[3].resident.name == "王五" and lines[4].resident == world.resident_a1
    assert lines[3].extra == {
        "isolation_place": "如家酒店",
        "isolation_start": "2020-02-03",
        "isolation_end": "2020-02-17",
        "temperature": 37.5,
        "batch": "5",
    }
    assert {"header": "隔离地点", "field": "isolation_place"} in job.columns
