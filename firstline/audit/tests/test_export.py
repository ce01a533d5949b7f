"""Ledger exports, walked by the three personas of ``conftest.py`` and the community administrator.

- ``grid_worker`` (grid A1) exports her grid, masked; unmasked only with a reason and approval;
- ``viewer`` (read-only, grid A1) exports masked, never unmasked;
- ``other_worker`` (grid A2) never sees or downloads grid A1's exports;
- ``world.admin`` (community administrator) approves, and needs no approval himself.

Files are read back with openpyxl and the csv module; assertions look at data and
codes, never at English wording.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from datetime import date, timedelta

import openpyxl
import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.audit.actions import do_approve_export, do_request_export
from firstline.audit.exports import FORMULA_START, escape
from firstline.audit.models import AuditEvent, Export
from firstline.conftest import UNMASKED_HEADER, leaks, make_id_number
from firstline.people.actions import do_create_resident
from firstline.people.models import Resident
from firstline.people.queries import ResidentFilter
from firstline.scoping import forget_memberships

A1_ID = make_id_number(serial=123)
A1_PHONE = "13812345678"
A2_ID = make_id_number(born=date(1985, 6, 1), serial=224)
INJECTIONS = ["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)"]


def export_url(world, **params) -> str:
    url = reverse("audit:export_new", kwargs={"community": world.community.code})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def request_export(client, world, **data):
    return client.post(export_url(world), {"format": "xlsx", **data})


def last_export() -> Export:
    return Export.objects.select_related("community", "requested_by").latest("id")


def download(client, export: Export):
    """POST the download; returns (response, file bytes or None)."""
    response = client.post(reverse("audit:export_download", kwargs={"code": export.code}))
    if getattr(response, "streaming", False):
        return response, b"".join(response.streaming_content)
    return response, None


def sheet_values(data: bytes) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    return [[cell.value for cell in row] for row in workbook.active.iter_rows()]


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def export_events(step: str | None = None):
    events = AuditEvent.objects.filter(action="export").order_by("id")
    return [e for e in events if step is None or e.detail.get("step") == step]


def state():
    """Everything a refused export could have touched."""
    return (
        list(Export.objects.order_by("id").values_list("id", "state", "downloads", "decided_by")),
        list(AuditEvent.objects.filter(action="export").values_list("id", flat=True)),
    )


# --- masked by default, in scope only


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_it_exports_the_grid_of_a_grid_worker_masked_by_default(world, login, fmt):
    client = login(world.grid_worker)

    response = request_export(client, world, format=fmt)

    export = last_export()
    assert response.status_code == 302 and response["Location"] == reverse("audit:export", args=[export.code])
    assert (export.state, export.row_count, export.unmasked, export.format) == ("ready", 1, False, fmt)
    response, data = download(client, export)
    assert response.status_code == 200
    assert not response.has_header(UNMASKED_HEADER)
    assert export.code in response["Content-Disposition"]
    rows = sheet_values(data) if fmt == "xlsx" else csv_rows(data)
    text = "\n".join("\t".join("" if cell is None else str(cell) for cell in row) for row in rows)
    assert "张三" in text and "李四" not in text
    assert world.resident_a1.id_number_masked in text and world.resident_a1.phone_masked in text
    assert not leaks(text) and A1_ID.encode() not in data and A1_PHONE.encode() not in data
    header = rows[2] if fmt == "xlsx" else rows[1]
    assert header[:3] == ["姓名", "性别", "出生日期"] and "证件号码" in header and header[-1] == "网格"
    data_row = rows[3] if fmt == "xlsx" else rows[2]
    assert data_row[0] == "张三" and data_row[-1] == world.grid_a1.name
    assert data_row[12] == world.building_a1.name and data_row[14] == world.household_a1.room


def test_it_exports_only_what_each_persona_sees(world, login):
    for user, expected in (
        (world.viewer, {"张三"}),
        (world.other_worker, {"李四"}),
        (world.admin, {"张三", "李四"}),
    ):
        client = login(user)
        request_export(client, world, format="csv")
        _response, data = download(client, last_export())
        names = {row[0] for row in csv_rows(data)[2:]}
        assert names == expected, user.username


def test_it_exports_exactly_the_filtered_list(world, login):
    for name, status in (("王五", "observation"), ("赵六", "observation"), ("孙七", "out")):
        do_create_resident(world.admin, world.household_a1, {"name": name})
        Resident.objects.filter(name=name).update(status=status)
    client = login(world.grid_worker)

    page = client.get(export_url(world, status="observation"))
    assert page.status_code == 200 and page.context["count"] == 2
    request_export(client, world, format="csv", status="observation")

    export = last_export()
    assert export.filters == {"status": "observation"} and export.row_count == 2
    Resident.objects.filter(name="王五").update(lives_alone_elderly=True, hardship=True)
    _response, data = download(client, export)
    rows = csv_rows(data)[2:]
    assert [row[0] for row in rows] == ["王五", "赵六"]
    assert rows[0][9:11] == ["独居老人、困难家庭", "医学观察"] and rows[1][9] == ""
    assert rows[0][4] == "居民身份证" and rows[0][7] == "户主" and rows[0][8] == "户籍人口"


def test_the_resident_list_links_to_the_export_with_its_filters(world, login):
    client = login(world.grid_worker)
    residents = reverse("people:residents", kwargs={"community": world.community.code})

    html = client.get(residents, {"status": "healthy", "grid": world.grid_a1.code}).content.decode()
    assert f'href="{export_url(world)}?grid={world.grid_a1.code}&amp;status=healthy"' in html
    fragment = client.post(residents, {"status": "healthy"}, HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{export_url(world)}?status=healthy"' in fragment
    by_id = client.post(residents, {"q": A1_ID}).content.decode()
    assert 'id="export-link"' not in by_id  # an ID number never goes into a URL
    assert 'id="export-link"' not in client.get(residents, {"status": "out"}).content.decode()  # nothing to export


def test_an_export_is_never_narrowed_by_an_id_number_or_phone(world, login):
    client = login(world.grid_worker)
    before = state()

    residents = reverse("people:residents", args=[world.community.code])
    assert client.get(export_url(world, q=A1_ID))["Location"] == residents
    assert request_export(client, world, q=A1_PHONE)["Location"] == residents
    with pytest.raises(ValidationError):
        do_request_export(world.grid_worker, world.community, ResidentFilter(q=A1_ID))
    assert state() == before


# --- unmasking


def test_a_viewer_may_not_unmask_and_nothing_is_created(world, login):
    client = login(world.viewer)
    assert not client.get(export_url(world)).context["may_unmask"]
    before = state()

    response = request_export(client, world, unmasked="on", reason="核酸排查")

    assert response.status_code == 403
    assert state() == before and not Export.objects.exists()
    with pytest.raises(PermissionDenied):
        do_request_export(world.viewer, world.community, ResidentFilter(), unmasked=True, reason="核酸排查")
    assert state() == before


def test_unmasking_needs_a_reason(world, login):
    client = login(world.grid_worker)
    assert client.get(export_url(world)).context["may_unmask"]
    before = state()

    response = request_export(client, world, unmasked="on", reason=" ")

    assert response.status_code == 200 and "reason" in response.context["form"].errors
    assert state() == before


def test_an_unmasked_export_waits_for_approval_then_holds_full_numbers(world, login, client):
    worker = login(world.grid_worker)
    request_export(worker, world, format="csv", unmasked="on", reason="核酸排查通知")
    export = last_export()
    assert (export.state, export.unmasked, export.expires_at) == ("pending", True, None)
    response, data = download(worker, export)
    assert response.status_code == 302 and data is None
    assert Export.objects.get(pk=export.pk).downloads == 0 and not export_events("download")

    do_approve_export(world.admin, export, "同意")
    response, data = download(login(world.grid_worker), export)

    assert response.status_code == 200 and response[UNMASKED_HEADER] == "1"
    assert response["Cache-Control"] == "no-store"
    rows = csv_rows(data)
    assert rows[2][5] == A1_ID and rows[2][6] == A1_PHONE
    assert A2_ID not in data.decode("utf-8-sig")
    assert export.code in rows[0][0]
    download_event = export_events("download")[-1]
    assert download_event.detail["masked"] is False and download_event.reason == "核酸排查通知"
    assert not leaks(str(download_event.detail) + download_event.reason)


def test_a_community_admin_unmasks_without_a_second_approval(world, login):
    client = login(world.admin)

    request_export(client, world, unmasked="on", reason="上报疾控")

    export = last_export()
    assert (export.state, export.unmasked, export.decided_by) == ("ready", True, world.admin)
    assert export_events("request")[-1].detail["own_approval"] is True
    response, data = download(client, export)
    values = sheet_values(data)
    assert {A1_ID, A2_ID} <= {row[5] for row in values[3:]}
    assert response[UNMASKED_HEADER] == "1"


def test_a_download_rechecks_the_unmask_capability(world, login):
    request_export(login(world.admin), world, unmasked="on", reason="上报疾控")
    export = last_export()
    Membership.objects.filter(user=world.admin).update(role="street_officer", level="community")
    forget_memberships(world.admin)  # a street officer may approve, not unmask
    before = state()

    response, _data = download(login(world.admin), export)

    assert response.status_code == 403 and state() == before


# --- who may see and download


def test_nobody_else_sees_or_downloads_an_export(world, login):
    request_export(login(world.grid_worker), world)
    export = last_export()
    before = state()

    for user in (world.other_worker, world.viewer, world.admin):
        client = login(user)
        assert client.get(reverse("audit:export", args=[export.code])).status_code == 404
        response, data = download(client, export)
        assert response.status_code == 404 and data is None
        assert export.code not in client.get(reverse("audit:exports", args=[world.community.code])).content.decode()

    assert state() == before


def test_a_download_uses_the_scope_of_the_moment(world, login):
    request_export(login(world.grid_worker), world)
    export = last_export()
    Resident.objects.filter(pk=world.resident_a2.pk).update(
        grid=world.grid_a1, building=world.building_a1, household=world.household_a1
    )

    response, data = download(login(world.grid_worker), export)
    assert response.status_code == 302 and data is None  # the list grew: a new request is needed

    Membership.objects.filter(user=world.grid_worker).update(revoked_at=timezone.now())
    forget_memberships(world.grid_worker)
    response, data = download(login(world.grid_worker), export)
    assert response.status_code == 403 and data is None
    assert Export.objects.get(pk=export.pk).downloads == 0


def test_an_export_expires_after_a_day(world, login):
    client = login(world.grid_worker)
    request_export(client, world)
    export = last_export()

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        response, data = download(client, export)

    assert response.status_code == 302 and data is None
    assert Export.objects.get(pk=export.pk).downloads == 0


# --- cells are data, the file says where it comes from


def test_it_escapes_every_cell_a_spreadsheet_would_evaluate(world, login):
    for n, text in enumerate(INJECTIONS):
        do_create_resident(
            world.admin,
            world.household_a1,
            {"name": text, "notes": INJECTIONS[(n + 1) % 4], "workplace": "\tTAB" if n % 2 else "\rCR"},
        )
    client = login(world.grid_worker)

    request_export(client, world, format="xlsx")
    _response, xlsx = download(client, last_export())
    request_export(client, world, format="csv")
    _response, csv_data = download(client, last_export())

    workbook = openpyxl.load_workbook(io.BytesIO(xlsx))
    cells = [cell for row in workbook.active.iter_rows() for cell in row if cell.value is not None]
    assert cells and not [cell.coordinate for cell in cells if cell.data_type == "f"]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]
    assert not [text for text in texts if text.startswith(FORMULA_START)]
    assert {"'" + text for text in INJECTIONS} <= set(texts)
    # XlsxWriter stores a CR as the escape _x000D_ (which Excel decodes); the quote still comes first.
    assert "'\tTAB" in texts and ("'\rCR" in texts or "'_x000D_CR" in texts)
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml")

    rows = csv_rows(csv_data)
    fields = [field for row in rows for field in row]
    assert not [field for field in fields if field.startswith(FORMULA_START)]
    names = [row[0] for row in rows[2:]]
    assert {"'" + text for text in INJECTIONS} <= set(names)


def test_escape_covers_each_dangerous_start():
    for start in ("=", "+", "-", "@", "\t", "\r", "\0"):
        assert escape(f"{start}x") == f"'{start}x"
    assert escape("张三") == "张三" and escape("") == "" and escape("a=1") == "a=1"


def test_the_watermark_is_in_the_sheet_and_the_file_properties(world, login):
    client = login(world.grid_worker)
    request_export(client, world, format="xlsx")
    export = last_export()

    _response, data = download(client, export)

    export.refresh_from_db()
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    first, second = workbook.active["A1"].value, workbook.active["A2"].value
    local = timezone.localtime(export.last_downloaded_at)
    assert export.code in first
    assert world.grid_worker.display_name() in second and world.grid_worker.username in second
    assert f"{local:%Y-%m-%d}" in second and world.community.name in second
    props = workbook.properties
    assert export.code in props.title and export.code in props.keywords and export.code in props.description
    assert world.grid_worker.username in props.creator and world.grid_worker.username in props.description
    custom = {prop.name: prop.value for prop in workbook.custom_doc_props.props}
    assert custom["FirstLine export ID"] == export.code and custom["FirstLine unmasked"] is False
    assert workbook.active.freeze_panes == "B4"
    assert export.code in workbook.active.oddHeader.right.text


def test_the_csv_starts_with_its_watermark_and_a_byte_order_mark(world, login):
    client = login(world.other_worker)
    request_export(client, world, format="csv")
    export = last_export()

    _response, data = download(client, export)

    assert data.startswith(codecs.BOM_UTF8)
    watermark = csv_rows(data)[0]
    assert len(watermark) == 1
    assert export.code in watermark[0] and world.other_worker.username in watermark[0]
    assert world.other_worker.display_name() in watermark[0]


# --- approval over the threshold


def test_a_large_export_waits_for_approval_by_a_community_admin(world, login, settings):
    settings.EXPORT_APPROVAL_ROWS = 2
    for n in range(2):
        do_create_resident(world.admin, world.household_a1, {"name": f"居民{n}"})
    worker = login(world.grid_worker)

    response = request_export(worker, world, format="csv")
    export = last_export()
    assert response.status_code == 302 and (export.state, export.row_count) == ("pending", 3)
    assert download(worker, export)[0].status_code == 302

    # Approvers only: the grid worker, the viewer and the other grid's worker cannot decide.
    decide = reverse("audit:export_decide", args=[export.code])
    before = state()
    for user in (world.grid_worker, world.viewer, world.other_worker):
        assert login(user).post(decide, {"decision": "approve"}).status_code == 404
    assert state() == before

    admin = login(world.admin)
    page = admin.get(reverse("audit:exports", args=[world.community.code]))
    assert [item.code for item in page.context["pending"]] == [export.code]
    assert admin.post(decide, {"decision": "refuse", "reason": ""}).status_code == 302
    assert Export.objects.get(pk=export.pk).state == "pending"  # a refusal says why
    admin.post(decide, {"decision": "approve", "reason": "防控排查"})
    export.refresh_from_db()
    assert (export.state, export.decided_by, export.decision_reason) == ("ready", world.admin, "防控排查")
    assert export.expires_at > timezone.now()
    assert not admin.get(reverse("audit:exports", args=[world.community.code])).context["pending"]

    response, data = download(login(world.grid_worker), export)
    assert response.status_code == 200 and len(csv_rows(data)) == 2 + 3
    assert [e.detail["step"] for e in export_events()] == ["request", "approve", "download"]
    assert {e.detail["rows"] for e in export_events()} == {3}
    assert [e.actor for e in export_events()] == [world.grid_worker, world.admin, world.grid_worker]


def test_a_refused_export_is_never_downloaded(world, login, settings):
    settings.EXPORT_APPROVAL_ROWS = 0
    worker = login(world.grid_worker)
    request_export(worker, world)
    export = last_export()

    login(world.admin).post(
        reverse("audit:export_decide", args=[export.code]), {"decision": "refuse", "reason": "无需导出"}
    )

    export.refresh_from_db()
    assert (export.state, export.decision_reason) == ("refused", "无需导出")
    assert download(login(world.grid_worker), export)[0].status_code == 302
    assert [e.detail["step"] for e in export_events()] == ["request", "refuse"]


def test_a_community_admin_exports_a_large_list_without_waiting(world, login, settings):
    settings.EXPORT_APPROVAL_ROWS = 1
    request_export(login(world.admin), world)
    assert last_export().state == "ready"


# --- audit


def test_every_step_is_audited_without_personal_values(world, login):
    client = login(world.grid_worker)
    request_export(client, world, format="csv", status="healthy")
    download(client, last_export())

    events = export_events()
    assert [e.detail["step"] for e in events] == ["request", "download"]
    for event in events:
        assert event.actor == world.grid_worker and event.role == "grid_worker"
        assert event.object_type == "export" and event.object_code == last_export().code
        assert event.community_id == world.community.id
        assert event.detail["rows"] == 1 and event.detail["masked"] is True
        assert event.detail["filters"] == {"status": "healthy"}
        assert world.resident_a1.name not in str(event.detail) and not leaks(str(event.detail))


# --- the command line


def test_the_command_exports_as_the_user_within_their_scope(world, tmp_path, capsys):
    out = tmp_path / "ledger.csv"

    call_command("export", "--community", world.community.code, "--user", "worker_a2", "--format", "csv", "--out", out)

    export = last_export()
    printed = capsys.readouterr().out
    assert export.code in printed and str(out) in printed
    assert export.requested_by == world.other_worker and export_events("download")
    names = [row[0] for row in csv_rows(out.read_bytes())[2:]]
    assert names == ["李四"]
    assert out.stat().st_mode & 0o777 == 0o600


def test_the_command_refuses_what_the_user_may_not_do(world, tmp_path, settings):
    with pytest.raises(CommandError, match="may not"):
        call_command(
            "export", "--community", world.community.code, "--user", "viewer_a1", "--unmask", "--reason", "核查"
        )
    with pytest.raises(CommandError):
        call_command("export", "--community", world.village.code, "--user", "nobody")
    assert not Export.objects.exists()

    settings.EXPORT_APPROVAL_ROWS = 0
    out = tmp_path / "a1.xlsx"
    with pytest.raises(CommandError, match="approval") as waiting:
        call_command("export", "--community", world.community.code, "--user", "worker_a1", "--out", out)
    export = last_export()
    assert export.code in str(waiting.value) and export.state == "pending" and not out.exists()

    do_approve_export(world.admin, export, "同意")
    call_command("export", "--user", "worker_a1", "--export", export.code, "--out", out)
    values = sheet_values(out.read_bytes())
    assert [row[0] for row in values[3:]] == ["张三"] and export.code in values[0][0]
    with pytest.raises(CommandError):
        call_command("export", "--user", "worker_a2", "--export", export.code, "--out", tmp_path / "x.xlsx")
