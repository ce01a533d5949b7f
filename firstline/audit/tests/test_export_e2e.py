"""Exporting from the resident list in a phone-sized Chromium, in zh-Hans, down to the downloaded file.

The grid worker may export (and reaches the export through the list); the viewer
and the other grid's worker are covered by ``test_export.py`` and the route walk.
"""

import io
from pathlib import Path

import openpyxl
import pytest

from firstline.audit.models import AuditEvent, Export
from firstline.conftest import leaks, log_in
from firstline.people.actions import do_create_resident
from firstline.people.models import Resident

pytestmark = pytest.mark.e2e


def test_a_grid_worker_exports_her_filtered_list_and_downloads_it(world, phone):
    do_create_resident(world.admin, world.household_a1, {"name": "王五", "notes": "=1+1"})
    Resident.objects.filter(name="王五").update(status="observation")
    log_in(phone, "worker_a1")
    phone.wait_for_url("**/tasks/")  # a worker starts on the task inbox

    phone.goto(phone.url_for(f"/c/{world.community.code}/residents/"))
    phone.select_option("select[name=status]", "observation")
    link = phone.locator("#export-link[href*='status=observation']")
    link.wait_for()
    assert link.inner_text() == "导出"
    link.click()
    phone.wait_for_url("**/export/?status=observation")
    assert phone.locator("#export-count").get_attribute("data-count") == "1"
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    phone.check("input[name=format][value=xlsx]")
    phone.click("#export-request")
    phone.wait_for_url("**/x/**")
    export = Export.objects.get()
    assert phone.locator("#export-state").get_attribute("data-state") == "ready"

    with phone.expect_download() as waiting:
        phone.click("#download button")
    download = waiting.value

    assert download.suggested_filename == f"firstline-{export.code}.xlsx"
    data = Path(download.path()).read_bytes()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert export.code in rows[0][0] and "worker_a1" in rows[1][0]
    assert rows[2][0] == "姓名" and [row[0] for row in rows[3:]] == ["王五"]
    assert "'=1+1" in rows[3]
    assert not leaks(" ".join(str(cell) for row in rows for cell in row if cell is not None))
    steps = [event.detail["step"] for event in AuditEvent.objects.filter(action="export").order_by("id")]
    assert steps == ["request", "download"]
