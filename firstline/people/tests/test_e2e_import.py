"""Importing a list with errors on a phone (390 px, zh-Hans): upload, preview, problems, import the valid rows."""

from __future__ import annotations

import re
from datetime import date

import pytest

from firstline.conftest import log_in, make_id_number
from firstline.people.models import ImportJob, Resident
from firstline.people.tests.sheets import write_xlsx

pytestmark = pytest.mark.e2e

NEW_ID = make_id_number("420102", date(1988, 5, 4), 35)
OTHER_ID = make_id_number("420103", date(1992, 9, 9), 46)
BAD_ID = OTHER_ID[:17] + ("0" if OTHER_ID[17] != "0" else "1")


def test_a_community_admin_imports_the_valid_rows_of_a_list_with_errors(world, phone, settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    path = write_xlsx(
        tmp_path / "返乡人员.xlsx",
        [
            ["幸福社区返乡人员名单"],
            ["姓名", "身份证号", "联系电话", "楼栋", "单元", "房号", "从何地返回", "返回时间", "车次"],
            ["王五", NEW_ID, "13700000001", "1栋", 1, "601", "湖北武汉", date(2020, 1, 23), "G1234"],
            ["赵六", BAD_ID, "13700000002", "1栋", 1, "602", "湖北孝感", date(2020, 1, 22), "D3021"],
            ["钱七", "", "13700000003", "9栋", 1, "101", "", "", ""],
        ],
    )
    log_in(phone, "admin_a")
    phone.wait_for_url("**/tasks/")  # a worker starts on the task inbox
    phone.click(f"a[href='/c/{world.community.code}/import/']")  # the Import link of the navigation
    phone.wait_for_url("**/import/")
    assert phone.locator("html").get_attribute("lang") == "zh-hans"

    phone.set_input_files("#id_file", str(path))
    phone.fill("#id_source", "区指挥部")
    phone.click("#upload button[type=submit]")
    phone.wait_for_selector("#preview")
    job = ImportJob.objects.get()
    assert phone.url.endswith(f"/import/{job.code}/")
    assert phone.locator("#preview > li").count() == 3
    assert phone.locator("#counts [data-count=valid]").inner_text() == "1"
    assert phone.locator("#counts [data-count=errors]").inner_text() == "2"
    codes = phone.locator("#problems tbody tr").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert codes == ["id_number_invalid", "building_not_found"]
    problems = phone.locator("#problems").inner_text()
    assert "身份证号码" in problems and "楼栋" in problems  # the problem list speaks Chinese
    assert not re.search(r"[A-Za-z]{3,}", problems), problems
    assert phone.locator("#columns [data-field=origin]").count() == 1
    assert phone.locator("#report").count() == 1
    assert phone.locator("button[value=apply_all]").count() == 0
    content = phone.content()
    assert NEW_ID not in content and BAD_ID not in content and "13700000001" not in content
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    phone.click("button[value=apply_valid]")
    phone.wait_for_selector("#created")
    assert phone.locator("#status").get_attribute("data-status") == "applied"
    assert phone.locator("#counts [data-count=created]").inner_text() == "1"
    wang = Resident.objects.get(name="王五")
    assert phone.locator(f"#created a[href='/r/{wang.code}/']").count() == 1
    assert not Resident.objects.filter(name__in=["赵六", "钱七"]).exists()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
