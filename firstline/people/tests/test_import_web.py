"""Importing from the web: upload → preview → confirm → progress → result (jobs run at once in tests).

Personas: ``world.admin`` (community administrator) imports; the grid worker, the
viewer and the other grid's worker are refused (403: importing is community-level)
and nothing changes. Assertions look at data, codes and markup, not at wording.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.people.importing.apply import progress_path, purge_stale_uploads, stored_path, write_progress
from firstline.people.models import ImportJob, Movement, Resident, ResidentVersion
from firstline.people.tests.sheets import write_xlsx
from firstline.places.models import Household

A1_ID = make_id_number(serial=123)
NEW_ID = make_id_number("420102", date(1988, 5, 4), 35)
NEW_ID_2 = make_id_number("420103", date(1992, 9, 9), 46)
BAD_ID = NEW_ID_2[:17] + ("0" if NEW_ID_2[17] != "0" else "1")
HEADER = ["序号", "姓名", "身份证号", "联系电话", "楼栋", "单元", "房号", "从何地返回", "返回时间", "车次", "备注栏"]


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def returnee_list(tmp_path: Path, *, with_error: bool = False) -> SimpleUploadedFile:
    rows = [
        ["幸福社区返乡人员名单（第3批）"],
        HEADER,
        [1, "王五", NEW_ID, "13700000001", "1栋", 1, "601", "湖北武汉", date(2020, 1, 23), "G1234", "x"],
        [2, "张三", A1_ID, "13900001111", "1栋", 1, "501", "湖北孝感", date(2020, 1, 22), "D3021", ""],
        [3, "赵六", BAD_ID if with_error else NEW_ID_2, "13700000002", "1栋", 1, "602", "", "", "", ""],
    ]
    path = write_xlsx(tmp_path / "returnees.xlsx", rows)
    return SimpleUploadedFile("返乡人员名单.xlsx", path.read_bytes())


def upload_url(world) -> str:
    return reverse("people:import_upload", kwargs={"community": world.community.code})


def job_url(job: ImportJob) -> str:
    return reverse("people:import_job", kwargs={"community": job.community.code, "code": job.code})


def report_url(job: ImportJob) -> str:
    return reverse("people:import_report", kwargs={"community": job.community.code, "code": job.code})


def snapshot() -> tuple:
    return (
        list(Resident.objects.order_by("id").values_list("id", "name", "version", "phone_index")),
        ResidentVersion.objects.count(),
        Movement.objects.count(),
        Household.objects.count(),
        ImportJob.objects.count(),
    )


def stored_files(data_dir: Path) -> list[str]:
    folder = data_dir / "imports"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_it_shows_the_import_link_to_community_editors_only(world, login):
    overview = reverse("people:overview", kwargs={"community": world.community.code})
    assert upload_url(world) in login(world.admin).get(overview).content.decode()
    for persona in ("grid_worker", "viewer", "other_worker"):
        assert upload_url(world) not in login(getattr(world, persona)).get(overview).content.decode()


def test_it_previews_an_upload_then_imports_it_all(world, login, tmp_path, data_dir):
    client = login(world.admin)
    assert client.get(upload_url(world)).status_code == 200
    response = client.post(upload_url(world), {"file": returnee_list(tmp_path), "source": "区指挥部", "batch": "3"})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job_url(job)
    assert job.status == "previewed" and job.filename == "返乡人员名单.xlsx" and job.created_by == world.admin
    assert stored_files(data_dir) == [f"{job.code}.xlsx"]
    assert os.stat(stored_path(job)).st_mode & 0o777 == 0o600
    assert (job.rows, job.errors, job.created, job.updated) == (3, 0, 2, 1)

    page = client.get(job_url(job))
    html = page.content.decode()
    assert page.context["unmapped"] == ["序号", "备注栏"]
    assert {c["header"]: c["field"] for c in page.context["mapped"]}["从何地返回"] == "origin"
    preview = page.context["preview_rows"]
    assert [row["row"] for row in preview] == [3, 4, 5]
    assert "*" * 14 + NEW_ID[-4:] in html and "137****0001" in html
    assert NEW_ID not in html and "13700000001" not in html
    assert 'value="apply_all"' in html and 'value="apply_valid"' not in html
    assert Resident.objects.filter(name="王五").count() == 0  # nothing before the confirmation

    response = client.post(job_url(job), {"action": "apply_all"})
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "applied" and (job.created, job.updated) == (2, 1)
    assert stored_files(data_dir) == []  # the upload is deleted once applied
    wang = Resident.objects.get(name="王五")
    result = client.get(job_url(job))
    html = result.content.decode()
    assert reverse("people:resident", kwargs={"code": wang.code}) in html
    assert reverse("people:resident", kwargs={"code": world.resident_a1.code}) in html
    assert [line.resident for line in result.context["updated_lines"]] == [world.resident_a1]
    assert AuditEvent.objects.filter(object_type="import", object_code=job.code, action="create").count() == 1


def test_a_file_with_problems_offers_the_valid_rows_only(world, login, tmp_path, data_dir):
    client = login(world.admin)
    client.post(upload_url(world), {"file": returnee_list(tmp_path, with_error=True)})
    job = ImportJob.objects.get()
    assert (job.status, job.rows, job.errors) == ("previewed", 3, 1)
    page = client.get(job_url(job))
    html = page.content.decode()
    assert [(p.row, p.column, p.code) for p in page.context["problems"]] == [(5, "身份证号", "id_number_invalid")]
    assert "*" * 14 + BAD_ID[-4:] in html and BAD_ID not in html
    assert 'value="apply_valid"' in html and 'value="apply_all"' not in html
    assert report_url(job) in html

    before = snapshot()
    client.post(job_url(job), {"action": "apply_all"})  # refused: rows have problems
    job.refresh_from_db()
    assert job.status == "previewed" and snapshot() == before

    client.post(job_url(job), {"action": "apply_valid"})
    job.refresh_from_db()
    assert job.status == "applied" and job.accept_valid and (job.created, job.updated, job.errors) == (1, 1, 1)
    assert not Resident.objects.filter(name="赵六").exists()
    assert [p.code for p in client.get(job_url(job)).context["problems"]] == ["id_number_invalid"]


def test_the_report_is_masked_and_in_both_languages(world, login, tmp_path):
    from openpyxl import load_workbook

    client = login(world.admin)
    client.post(upload_url(world), {"file": returnee_list(tmp_path, with_error=True)})
    job = ImportJob.objects.get()
    response = client.get(report_url(job))
    assert response.status_code == 200 and response["Content-Disposition"].endswith('-problems.xlsx"')
    assert "no-store" in response["Cache-Control"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        unpacked = b"".join(archive.read(name) for name in archive.namelist()).decode("utf-8", errors="replace")
    assert BAD_ID not in unpacked and NEW_ID not in unpacked and "13700000002" not in unpacked
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[1]
    assert len(header) == 5
    problem = rows[2]
    assert problem[:3] == (5, "身份证号", "*" * 14 + BAD_ID[-4:])
    from firstline.people.models import ImportProblem

    stored = ImportProblem.objects.get(job=job)
    assert problem[3] == stored.messages["zh-hans"] and problem[4] == stored.messages["en"]
    assert "ID number" in problem[4]
    assert AuditEvent.objects.filter(action="read", object_type="import_report", object_code=job.code).exists()


def test_discarding_a_preview_deletes_the_upload_and_imports_nothing(world, login, tmp_path, data_dir):
    client = login(world.admin)
    client.post(upload_url(world), {"file": returnee_list(tmp_path)})
    job = ImportJob.objects.get()
    before = snapshot()
    client.post(job_url(job), {"action": "discard"})
    job.refresh_from_db()
    assert job.status == "refused" and stored_files(data_dir) == [] and snapshot() == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("photo.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256))),
        ("notes.txt", "姓名,电话\n".encode()),
        ("empty.csv", b""),
    ],
)
def test_a_bad_upload_is_refused_and_nothing_is_saved(world, login, data_dir, name, content):
    before = snapshot()
    response = login(world.admin).post(upload_url(world), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200 and response.context["form"].errors
    assert snapshot() == before and stored_files(data_dir) == []


def test_a_file_over_the_size_limit_is_refused(world, login, tmp_path, data_dir, settings):
    settings.IMPORT_MAX_BYTES = 1000
    before = snapshot()
    response = login(world.admin).post(upload_url(world), {"file": returnee_list(tmp_path)})
    assert response.status_code == 200 and (
        response.context["form"].errors or response.context["form"].non_field_errors()
    )
    assert snapshot() == before and stored_files(data_dir) == []


def test_an_unreadable_spreadsheet_fails_with_the_reason_and_is_deleted(world, login, data_dir):
    client = login(world.admin)
    client.post(upload_url(world), {"file": SimpleUploadedFile("list.xlsx", b"PK\x03\x04 not really a workbook")})
    job = ImportJob.objects.get()
    assert job.status == "failed" and job.failure and stored_files(data_dir) == []
    assert client.get(job_url(job)).context["failure"]


@pytest.mark.parametrize("persona", ["grid_worker", "viewer", "other_worker"])
def test_grid_level_personas_cannot_import_and_nothing_changes(world, login, tmp_path, data_dir, persona):
    admin = login(world.admin)
    admin.post(upload_url(world), {"file": returnee_list(tmp_path)})
    job = ImportJob.objects.get()
    client = login(getattr(world, persona))
    before = snapshot()
    assert client.get(upload_url(world)).status_code == 403
    assert client.post(upload_url(world), {"file": returnee_list(tmp_path)}).status_code == 403
    assert client.get(job_url(job)).status_code == 403
    assert client.post(job_url(job), {"action": "apply_all"}).status_code == 403
    assert client.get(report_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == "previewed" and snapshot() == before
    assert stored_files(data_dir) == [f"{job.code}.xlsx"]


def test_an_import_of_another_community_is_not_found(world, login):
    job = ImportJob.objects.create(community=world.village, street=world.street, filename="x.xlsx", extension="xlsx")
    url = reverse("people:import_job", kwargs={"community": world.community.code, "code": job.code})
    assert login(world.admin).get(url).status_code == 404


def test_the_progress_fragment_polls_while_applying_and_reloads_when_done(world, login):
    job = ImportJob.objects.create(
        community=world.community, street=world.street, filename="x.xlsx", extension="xlsx", status="applying"
    )
    write_progress(job.code, "writing", 150, 200)
    client = login(world.admin)
    fragment = client.get(job_url(job), headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="75"' in html and "<html" not in html
    ImportJob.objects.filter(pk=job.pk).update(status="applied")
    done = client.get(job_url(job), headers={"HX-Request": "true"})
    assert done["HX-Refresh"] == "true"


def test_a_stopped_import_can_be_started_again(world, login, tmp_path, data_dir):
    client = login(world.admin)
    client.post(upload_url(world), {"file": returnee_list(tmp_path)})
    job = ImportJob.objects.get()
    ImportJob.objects.filter(pk=job.pk).update(status="applying")  # as if its process had been killed
    progress_path(job.code).unlink(missing_ok=True)
    page = client.get(job_url(job))
    assert page.context["stalled"] and 'value="resume"' in page.content.decode()
    client.post(job_url(job), {"action": "resume"})
    job.refresh_from_db()
    assert job.status == "applied" and job.created == 2


def test_uploads_are_deleted_after_a_day(world, login, tmp_path, data_dir):
    login(world.admin).post(upload_url(world), {"file": returnee_list(tmp_path)})
    job = ImportJob.objects.get()
    assert purge_stale_uploads() == 0 and stored_files(data_dir)
    assert purge_stale_uploads(now=timezone.now() + timedelta(hours=25)) == 1
    job.refresh_from_db()
    assert job.status == "failed" and stored_files(data_dir) == []
