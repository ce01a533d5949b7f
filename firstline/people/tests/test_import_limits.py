"""A small upload that unpacks to a million rows is refused while it is read, and leaves nothing behind.

The attacks: an .xlsx of a few kB whose two cells sit at A1 and XFD1048576 (calamine would
allocate every cell between them), one that unpacks to a million rows, a CSV over the row
limit, an upload or a form body over the size limit. Personas: ``world.admin`` uploads.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from firstline.people.importing.apply import purge_stale_uploads
from firstline.people.importing.reader import with_limits
from firstline.people.models import ImportJob, ImportProblem, Resident
from firstline.people.tests.sheets import write_csv

ROOT = Path(__file__).resolve().parents[3]
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
HEADER_ROW = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>身份证号</t></is></c></row>'
)


def crafted_xlsx(path: Path, rows: list[str] | None = None, *, count: int = 0) -> Path:
    """An .xlsx written by hand: the header row, then ``rows`` (sheet XML) or ``count`` rows of one name."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?>')
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            sheet.write(HEADER_ROW.encode())
            for row in rows or ():
                sheet.write(row.encode())
            for start in range(2, count + 2, 10_000):
                chunk = "".join(
                    f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>王五</t></is></c></row>'
                    for n in range(start, min(start + 10_000, count + 2))
                )
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
    return path


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def upload_url(world) -> str:
    return reverse("people:import_upload", kwargs={"community": world.community.code})


def job_url(job: ImportJob) -> str:
    return reverse("people:import_job", kwargs={"community": job.community.code, "code": job.code})


def stored_files(data_dir: Path) -> list[str]:
    folder = data_dir / "imports"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def upload(client, world, path: Path, name: str = "名单.xlsx"):
    return client.post(upload_url(world), {"file": SimpleUploadedFile(name, path.read_bytes())})


def test_it_refuses_an_xlsx_whose_two_cells_span_the_whole_sheet(world, login, tmp_path, data_dir):
    corner = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    path = crafted_xlsx(tmp_path / "corner.xlsx", [corner])
    assert path.stat().st_size < 5000
    residents = Resident.objects.count()
    client = login(world.admin)
    upload(client, world, path)
    job = ImportJob.objects.get()
    assert job.status == "failed" and "200,000" in with_limits(job.failure)
    page = client.get(job_url(job))
    assert "200,000" in page.content.decode()
    assert Resident.objects.count() == residents and not job.problems.exists() and stored_files(data_dir) == []


def test_it_refuses_a_sheet_over_the_column_limit(world, login, tmp_path, settings):
    settings.IMPORT_MAX_COLUMNS = 30
    wide = '<row r="2"><c r="A2" t="inlineStr"><is><t>王五</t></is></c><c r="AF2"><v>1</v></c></row>'
    upload(login(world.admin), world, crafted_xlsx(tmp_path / "wide.xlsx", [wide]))
    job = ImportJob.objects.get()
    assert job.status == "failed" and "30 columns" in with_limits(job.failure)


def test_a_csv_over_the_row_limit_is_refused_and_empty_trailing_rows_do_not_count(world, login, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 20
    header = ["姓名", "身份证号", "楼栋", "单元", "房号"]
    client = login(world.admin)
    fits = write_csv(tmp_path / "fits.csv", [header, *[[f"居民{i}", "", "1栋", 1, "501"] for i in range(19)]], "utf-8")
    fits.write_text(fits.read_text(encoding="utf-8") + ",,,,\n" * 50, encoding="utf-8")
    upload(client, world, fits, "fits.csv")
    over = write_csv(tmp_path / "over.csv", [header, *[[f"居民{i}", "", "1栋", 1, "501"] for i in range(20)]])
    upload(client, world, over, "over.csv")
    first, second = ImportJob.objects.order_by("created_at", "id")
    assert first.status == "previewed" and first.rows == 19
    assert second.status == "failed" and "20 rows" in with_limits(second.failure) and not second.problems.exists()


def test_a_zip_that_unpacks_to_far_more_than_it_weighs_is_refused(world, login, tmp_path, data_dir):
    path = crafted_xlsx(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (60 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    client = login(world.admin)
    upload(client, world, path)
    job = ImportJob.objects.get()
    assert job.status == "failed" and "MB" in with_limits(job.failure) and stored_files(data_dir) == []


READ = """
import django, os, sys
django.setup()
from firstline.people.importing.parse import UnreadableFile, read_sheet
try:
    read_sheet(sys.argv[1])
except UnreadableFile as error:
    print(error.code, error)
# VmHWM belongs to this program's memory alone; ru_maxrss would carry the forking parent's peak over exec
print("peak_kb", [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")][0])
"""


def test_a_small_file_of_a_million_rows_is_refused_within_a_memory_bound(tmp_path):
    path = crafted_xlsx(tmp_path / "million.xlsx", count=1_000_000)
    assert path.stat().st_size < 6_000_000  # about 5 MB, a tenth of the upload limit: it unpacks to 60 MB
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "firstline.settings", "PYTHONPATH": str(ROOT)}
    env["FIRSTLINE_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-c", READ, str(path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    # the reading process reports its own peak: the test worker's size and other children do not count
    peak_mb = int(result.stdout.rsplit("peak_kb", 1)[1]) / 1024
    print(f"peak RSS of the reading process: {peak_mb:.0f} MB")
    assert result.stdout.startswith("too_many_rows") and "200,000" in result.stdout
    assert peak_mb < 300  # measured: about 130 MB; reading a 100-row list takes about 86 MB


def test_an_upload_over_the_size_limit_gets_413_with_the_reason(world, login, tmp_path, settings, caplog):
    settings.IMPORT_MAX_BYTES = 1000
    path = crafted_xlsx(tmp_path / "list.xlsx", count=50_000)
    residents = Resident.objects.count()
    with caplog.at_level(logging.INFO):
        response = upload(login(world.admin), world, path)
    assert response.status_code == 413
    assert "split the list" in response.content.decode().lower() or "分成" in response.content.decode()
    assert not ImportJob.objects.exists() and Resident.objects.count() == residents
    assert not any(record.exc_info for record in caplog.records)


def test_a_form_body_over_the_limit_gets_413_not_400(world, client, settings, caplog):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("accounts:login"), {"username": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    assert 'id="too-large"' in response.content.decode()
    assert not any(record.exc_info for record in caplog.records)


def test_discarding_an_import_deletes_its_problem_rows(world, login, tmp_path, data_dir):
    header = ["姓名", "身份证号", "楼栋", "单元", "房号"]
    path = write_csv(tmp_path / "bad.csv", [header, *[[f"居民{i}", "1234", "99栋", 1, "501"] for i in range(50)]])
    client = login(world.admin)
    upload(client, world, path, "bad.csv")
    job = ImportJob.objects.get()
    assert job.status == "previewed" and job.problems.count() >= 50
    client.post(job_url(job), {"action": "discard"})
    job.refresh_from_db()
    assert job.status == "refused" and job.rows == 50
    assert not ImportProblem.objects.filter(job=job).exists() and stored_files(data_dir) == []


def test_the_purge_deletes_the_rows_of_imports_never_applied(world, login, tmp_path, time_machine):
    header = ["姓名", "身份证号", "楼栋", "单元", "房号"]
    path = write_csv(tmp_path / "bad.csv", [header, *[[f"居民{i}", "1234", "99栋", 1, "501"] for i in range(30)]])
    upload(login(world.admin), world, path, "bad.csv")
    job = ImportJob.objects.get()
    assert job.problems.exists()
    time_machine.move_to(timezone.now() + timedelta(hours=25))
    purge_stale_uploads()
    job.refresh_from_db()
    assert job.status == "failed" and not ImportProblem.objects.filter(job=job).exists()
