"""An enterprise's list of returning staff goes through the arrival rule as it is imported.

Five staff come back; two from 武汉 (a risk area of the street): only those two are
isolated. The import stays all or nothing, screening included.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from firstline.conftest import make_id_number
from firstline.people.importing import apply
from firstline.people.importing.apply import import_file
from firstline.people.models import Movement, Resident, Status
from firstline.people.tests.sheets import write_xlsx
from firstline.status.models import IsolationOrder, RiskArea, StatusChange

HEADER = ["姓名", "身份证号", "联系电话", "楼栋", "单元", "房号", "来源地", "返回时间", "车次", "工作单位"]
STAFF = [
    ("钱一", "湖北省武汉市洪山区", 11),
    ("孙二", "广东省深圳市", 13),
    ("周三", "武汉", 15),
    ("吴四", "湖南省长沙市", 17),
    ("郑五", "", 19),
]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


@pytest.fixture
def wuhan(world):
    return RiskArea.objects.create(
        street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1)
    )


def staff_list(tmp_path: Path, extra: list | None = None) -> Path:
    arrived = timezone.localdate() - timedelta(days=3)
    rows = [
        [
            name,
            make_id_number("330106", date(1990, 1, 1), serial),
            f"137000000{serial:02d}",
            "1栋",
            1,
            f"{600 + serial}",
            origin,
            arrived if origin else "",
            "G1" if origin else "",
            "幸福电子厂",
        ]
        for name, origin, serial in STAFF
    ]
    return write_xlsx(tmp_path / "返岗员工.xlsx", [HEADER, *rows, *(extra or [])])


def test_only_the_staff_from_the_risk_area_are_isolated(world, tmp_path, wuhan):
    job, outcome = import_file(staff_list(tmp_path), world.community, actor=world.admin, source="幸福电子厂")
    assert job.status == "applied" and outcome.created == 5
    isolated = set(IsolationOrder.objects.values_list("resident__name", flat=True))
    assert isolated == {"钱一", "周三"}
    statuses = dict(Resident.objects.filter(name__in=[s[0] for s in STAFF]).values_list("name", "status"))
    assert statuses == {
        "钱一": Status.HOME_ISOLATION,
        "孙二": Status.HEALTHY,
        "周三": Status.HOME_ISOLATION,
        "吴四": Status.HEALTHY,
        "郑五": Status.HEALTHY,
    }
    order = IsolationOrder.objects.get(resident__name="钱一")
    movement = Movement.objects.get(resident__name="钱一")
    assert order.source == f"movement:{movement.code}" and order.ordered_by == world.admin
    assert order.planned_end == movement.arrived_on + timedelta(days=14)
    assert StatusChange.objects.filter(to_status=Status.HOME_ISOLATION).count() == 2
    assert job_audit_detail(job)["isolated"] == 2


def job_audit_detail(job):
    from firstline.audit.models import AuditEvent

    return AuditEvent.objects.get(object_type="import", object_code=job.code).detail


def test_an_arrival_older_than_the_isolation_period_is_not_isolated(world, tmp_path, wuhan):
    path = write_xlsx(
        tmp_path / "old.xlsx",
        [
            HEADER,
            [
                "钱一",
                make_id_number("330106", date(1990, 1, 1), 11),
                "",
                "1栋",
                1,
                "611",
                "武汉",
                date(2020, 1, 20),
                "",
                "",
            ],
        ],
    )
    import_file(path, world.community, actor=world.admin)
    assert not IsolationOrder.objects.exists()


def test_a_refused_list_isolates_nobody(world, tmp_path, wuhan):
    bad = ["错行", "110101199003071230", "", "1栋", 1, "699", "武汉", timezone.localdate(), "", ""]  # wrong check digit
    job, _outcome = import_file(staff_list(tmp_path, [bad]), world.community, actor=world.admin)
    assert job.status == "refused"
    assert not IsolationOrder.objects.exists() and Resident.objects.count() == 2


def test_a_failure_while_screening_leaves_nothing_behind(world, tmp_path, wuhan, monkeypatch):
    real = apply.screen_arrival
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the machine stopped")
        return real(*args, **kwargs)

    monkeypatch.setattr(apply, "screen_arrival", failing)
    with pytest.raises(RuntimeError):
        import_file(staff_list(tmp_path), world.community, actor=world.admin)
    assert Resident.objects.count() == 2 and not IsolationOrder.objects.exists() and not Movement.objects.exists()


def test_without_risk_areas_nothing_is_screened(world, tmp_path, monkeypatch):
    monkeypatch.setattr(apply, "screen_arrival", lambda *a, **k: pytest.fail("screened without a risk area"))
    job, _outcome = import_file(staff_list(tmp_path), world.community, actor=world.admin)
    assert job.status == "applied" and not IsolationOrder.objects.exists()


def test_a_resident_who_was_away_and_is_listed_back_turns_green(world, tmp_path):
    from firstline.status.actions import do_record_departure

    zhang = world.resident_a1
    do_record_departure(world.admin, zhang, {"destination": "河北省保定市"})
    zhang.refresh_from_db()
    assert zhang.status == Status.OUT
    number = make_id_number(serial=123)  # 张三's ID number in the world fixture
    arrived = timezone.localdate() - timedelta(days=1)
    sheet = write_xlsx(
        tmp_path / "返回.xlsx",
        [HEADER, ["张三", number, "13812345678", "1栋", 1, "501", "河北省保定市", arrived, "G2", ""]],
    )
    job, _outcome = import_file(sheet, world.community, actor=world.admin)
    assert job.status == "applied"
    zhang.refresh_from_db()
    assert zhang.status == Status.HEALTHY
    assert StatusChange.objects.filter(resident=zhang).latest("id").reason == "returned"
