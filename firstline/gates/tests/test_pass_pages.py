"""The pass pages: staff list and detail, issue and revoke, residents' requests, the sheet of cards.

Personas: ``world.grid_worker`` may issue and revoke in grid A1; ``world.viewer``
(read-only, A1) sees passes but no QR code and changes nothing; ``world.other_worker``
(grid A2) gets 404 for A1's passes. A household reaches its passes through the code
on its letter.
"""

from __future__ import annotations

import re
import time

import pytest
import segno
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from firstline.accounts.household_codes import do_issue_household_codes
from firstline.accounts.models import HouseholdLogin
from firstline.audit.models import AuditEvent
from firstline.conftest import make_id_number
from firstline.gates import cards
from firstline.gates.actions import (
    do_approve_request,
    do_decline_request,
    do_issue_pass,
    do_request_pass,
    do_revoke_pass,
    token_for,
)
from firstline.gates.models import Pass, PassRequest
from firstline.people.actions import do_create_resident
from firstline.places.models import Entrance, Household
from firstline.status.actions import do_order_isolation
from firstline.status.tests import pdftext


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


@pytest.fixture
def household_login(world) -> HouseholdLogin:
    do_issue_household_codes(world.grid_worker, [world.household_a1])
    return HouseholdLogin.objects.get(household=world.household_a1, revoked_at__isnull=True)


@pytest.fixture
def household_client(client, world):
    code = do_issue_household_codes(world.grid_worker, [world.household_a1])[world.household_a1.pk]
    assert client.post(reverse("public:checkin"), {"code": code}).status_code == 302
    return client


def qr_matrix(svg: str) -> list[list[bool]]:
    """Read back the modules of segno's inline SVG path (``M x y`` start, ``h n`` dark run, ``m dx dy`` move)."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    grid = [[False] * size for _ in range(size)]
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = 0.0
    for op, args in re.findall(r"([MmHhVv])([^MmHhVv]*)", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if op == "M":
            x, y = numbers
        elif op == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif op == "h":
            for column in range(int(x), int(x + numbers[0])):
                grid[int(y)][column] = True
            x += numbers[0]
    return grid


# --- actions: requests ---------------------------------------------------------------------------


def test_it_takes_a_request_and_issues_the_pass_on_approval(world, household_login):
    item = do_request_pass(household_login, world.resident_a1, "outing", reason="买菜")
    assert item.state == PassRequest.State.PENDING and item.grid_id == world.grid_a1.id

    issued, token = do_approve_request(world.grid_worker, item, days=7, gate=world.gate)

    item.refresh_from_db()
    assert item.state == PassRequest.State.APPROVED and item.issued == issued and item.decided_by == world.grid_worker
    assert issued.resident == world.resident_a1 and issued.gate == world.gate and issued.state == Pass.State.ACTIVE
    assert (issued.valid_until - issued.valid_from).days == 7
    assert token == token_for(issued) and "张" not in token
    assert AuditEvent.objects.filter(action="update", object_code=item.code, detail__state="approved").exists()


def test_it_refuses_a_second_pending_request_of_the_same_kind(world, household_login):
    do_request_pass(household_login, world.resident_a1, "outing")
    with pytest.raises(ValidationError) as refused:
        do_request_pass(household_login, world.resident_a1, "outing")
    assert "kind" in refused.value.message_dict
    do_request_pass(household_login, world.resident_a1, "vehicle", plate="浙a12345")  # another kind may wait
    assert PassRequest.objects.filter(resident=world.resident_a1).count() == 2
    assert PassRequest.objects.get(kind="vehicle").plate == "浙A12345"


def test_it_refuses_a_member_of_another_household_and_a_vehicle_without_plate(world, household_login):
    with pytest.raises(PermissionDenied):
        do_request_pass(household_login, world.resident_a2, "outing")
    with pytest.raises(ValidationError):
        do_request_pass(household_login, world.resident_a1, "vehicle")
    assert not PassRequest.objects.exists()


def test_it_accepts_an_isolated_households_outing_request_and_notes_it(world, household_login):
    do_order_isolation(world.admin, world.resident_a1)
    item = do_request_pass(household_login, world.resident_a1, "outing")
    assert AuditEvent.objects.get(action="create", object_code=item.code).detail["isolated"] is True
    issued, _token = do_approve_request(world.grid_worker, item)
    assert issued.state == Pass.State.SUSPENDED


def test_declining_needs_a_note(world, household_login):
    item = do_request_pass(household_login, world.resident_a1, "worker")
    with pytest.raises(ValidationError) as refused:
        do_decline_request(world.grid_worker, item, "  ")
    assert "note" in refused.value.message_dict
    assert PassRequest.objects.get().state == PassRequest.State.PENDING
    do_decline_request(world.grid_worker, item, "请凭单位证明申请")
    item.refresh_from_db()
    assert item.state == PassRequest.State.DECLINED and item.decision_note == "请凭单位证明申请"
    with pytest.raises(ValidationError):
        do_approve_request(world.grid_worker, item)  # decided once
    assert not Pass.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "other_worker"])
def test_those_who_may_not_edit_decide_nothing(world, household_login, persona):
    item = do_request_pass(household_login, world.resident_a1, "outing")
    with pytest.raises(PermissionDenied):
        do_approve_request(getattr(world, persona), item)
    with pytest.raises(PermissionDenied):
        do_decline_request(getattr(world, persona), item, "不行")
    assert PassRequest.objects.get().state == PassRequest.State.PENDING
    assert not Pass.objects.exists()


# --- staff pages --------------------------------------------------------------------------------


def test_the_list_shows_passes_in_scope_with_counts_and_filters(world, login, django_assert_max_num_queries):
    active, _ = do_issue_pass(world.grid_worker, world.resident_a1)
    vehicle, _ = do_issue_pass(world.grid_worker, world.resident_a1, "vehicle", plate="浙A1")
    do_revoke_pass(world.grid_worker, vehicle, "换车")
    theirs, _ = do_issue_pass(world.admin, world.resident_a2)
    client = login(world.grid_worker)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("passes:list")).content.decode()
    assert active.code in page and vehicle.code in page and theirs.code not in page
    assert "张*" in page and "张三" not in page
    assert re.search(r'data-state="revoked"[^>]*>\s*<span class="muted">[^<]+</span><b>1</b>', page)
    only_outing = client.get(reverse("passes:list"), {"kind": "outing", "state": "active"}).content.decode()
    assert active.code in only_outing and vehicle.code not in only_outing
    other = login(world.other_worker).get(reverse("passes:list")).content.decode()
    assert theirs.code in other and active.code not in other


def test_the_list_costs_the_same_queries_for_many_passes(world, login, django_assert_num_queries):
    do_issue_pass(world.grid_worker, world.resident_a1)
    client = login(world.grid_worker)
    client.get(reverse("passes:list"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("passes:list"))
    for _ in range(5):
        do_issue_pass(world.grid_worker, world.resident_a1, "worker")
    with django_assert_num_queries(len(one.captured_queries)):
        client.get(reverse("passes:list"))


def test_the_detail_shows_the_qr_of_the_token_and_the_short_code(world, login):
    item, token = do_issue_pass(world.grid_worker, world.resident_a1)
    response = login(world.grid_worker).get(reverse("passes:detail", kwargs={"code": item.code}))
    page = response.content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    expected = segno.make(token, error="m")
    assert qr_matrix(svg)[2:-2] and [row[2:-2] for row in qr_matrix(svg)[2:-2]] == [
        [bool(module) for module in row] for row in expected.matrix
    ]
    assert f"{item.short_code[:4]} {item.short_code[4:]}" in page
    assert "张*" in page and "张三" not in page
    assert AuditEvent.objects.filter(action="read", object_type="pass", object_code=item.code).exists()


def test_the_viewer_sees_the_pass_but_not_its_qr_and_cannot_revoke(world, login):
    item, _ = do_issue_pass(world.grid_worker, world.resident_a1)
    client = login(world.viewer)
    page = client.get(reverse("passes:detail", kwargs={"code": item.code})).content.decode()
    assert "<svg" not in page and "revoke-form" not in page and "张*" in page
    response = client.post(reverse("passes:revoke", kwargs={"code": item.code}), {"reason": "遗失"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == Pass.State.ACTIVE


def test_another_grids_worker_gets_404(world, login):
    item, _ = do_issue_pass(world.grid_worker, world.resident_a1)
    client = login(world.other_worker)
    assert client.get(reverse("passes:detail", kwargs={"code": item.code})).status_code == 404
    assert client.post(reverse("passes:revoke", kwargs={"code": item.code}), {"reason": "x"}).status_code == 404
    item.refresh_from_db()
    assert item.state == Pass.State.ACTIVE


def test_revoking_needs_a_reason(world, login):
    item, _ = do_issue_pass(world.grid_worker, world.resident_a1)
    client = login(world.grid_worker)
    url = reverse("passes:revoke", kwargs={"code": item.code})
    assert client.post(url, {"reason": ""}).status_code == 400
    item.refresh_from_db()
    assert item.state == Pass.State.ACTIVE
    assert client.post(url, {"reason": "遗失"}).status_code == 302
    item.refresh_from_db()
    assert item.state == Pass.State.REVOKED


def test_a_pass_is_issued_from_the_residents_page(world, login):
    client = login(world.grid_worker)
    page = client.get(reverse("people:resident", kwargs={"code": world.resident_a1.code})).content.decode()
    assert 'id="issue-form"' in page and world.gate.name in page
    response = client.post(
        reverse("passes:issue", kwargs={"code": world.resident_a1.code}),
        {"kind": "vehicle", "days": "10", "gate": world.gate.code, "plate": "浙A88888"},
    )
    item = Pass.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("passes:detail", kwargs={"code": item.code})
    assert item.kind == "vehicle" and item.gate == world.gate and item.plate == "浙A88888"
    refused = client.post(reverse("passes:issue", kwargs={"code": world.resident_a1.code}), {"kind": "vehicle"})
    assert refused.status_code == 400 and Pass.objects.count() == 1
    viewer_page = login(world.viewer).get(reverse("people:resident", kwargs={"code": world.resident_a1.code}))
    assert 'id="issue-form"' not in viewer_page.content.decode() and item.short_code in viewer_page.content.decode()


def test_the_queue_approves_and_declines_with_htmx(world, login, household_login):
    first = do_request_pass(household_login, world.resident_a1, "outing", reason="买药")
    second = do_request_pass(household_login, world.resident_a1, "worker")
    client = login(world.grid_worker)
    page = client.get(reverse("passes:requests")).content.decode()
    assert first.code in page and second.code in page and "买药" in page and "张三" not in page
    other = Client()
    other.force_login(world.other_worker)
    assert other.get(reverse("passes:requests")).content.decode().count("data-request=") == 0

    hx = {"HTTP_HX_REQUEST": "true"}
    url = reverse("passes:request_decide", kwargs={"code": first.code})
    response = client.post(url, {"action": "approve", f"{first.code}-days": "5"}, **hx)
    assert response.status_code == 200 and 'data-state="approved"' in response.content.decode()
    first.refresh_from_db()
    assert first.issued is not None and first.issued.short_code in response.content.decode()

    url = reverse("passes:request_decide", kwargs={"code": second.code})
    refused = client.post(url, {"action": "decline", f"{second.code}-note": ""}, **hx)
    assert refused.status_code == 400 and 'data-state="pending"' in refused.content.decode()
    assert client.post(url, {"action": "decline", f"{second.code}-note": "不需要"}, **hx).status_code == 200
    second.refresh_from_db()
    assert second.state == PassRequest.State.DECLINED


def test_the_viewer_has_no_queue_and_decides_nothing(world, login, household_login):
    item = do_request_pass(household_login, world.resident_a1, "outing")
    client = login(world.viewer)
    assert client.get(reverse("passes:requests")).status_code == 403
    response = client.post(reverse("passes:request_decide", kwargs={"code": item.code}), {"action": "approve"})
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.state == PassRequest.State.PENDING and not Pass.objects.exists()


# --- the household ----------------------------------------------------------------------------------


def test_a_household_asks_and_sees_its_pass_once_approved(world, household_client, login):
    url = reverse("passes:mine")
    response = household_client.post(url, {"member": world.resident_a1.code, "kind": "outing", "reason": "买菜"})
    assert response.status_code == 302
    item = PassRequest.objects.get()
    again = household_client.post(url, {"member": world.resident_a1.code, "kind": "outing"})
    assert again.status_code == 400 and PassRequest.objects.count() == 1
    page = household_client.get(url).content.decode()
    assert f'data-request="{item.code}" data-state="pending"' in page and "张三" not in page

    issued, token = do_approve_request(world.grid_worker, item)
    page = household_client.get(url).content.decode()
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    assert [row[2:-2] for row in qr_matrix(svg)[2:-2]] == [
        [bool(m) for m in row] for row in segno.make(token, error="m").matrix
    ]
    assert cards.format_short_code(issued.short_code) in page


def test_a_household_sees_a_suspended_pass_with_the_reason(world, household_client):
    do_issue_pass(world.grid_worker, world.resident_a1)
    do_order_isolation(world.admin, world.resident_a1)
    page = household_client.get(reverse("passes:mine")).content.decode()
    assert 'data-state="suspended"' in page and "居家隔离" in page


def test_without_a_household_session_the_page_sends_to_the_code(client, world):
    response = client.get(reverse("passes:mine"))
    assert response.status_code == 302 and response["Location"] == reverse("public:checkin")


# --- the sheet of cards -------------------------------------------------------------------------------


@pytest.fixture
def building(world):
    """1栋: 张三 in 501 and 王小明 in 601, each with an outing pass; a third one revoked, a worker pass."""
    entrance = Entrance.objects.get(building=world.building_a1, number=1)
    household = Household.objects.create(building=world.building_a1, entrance=entrance, room="601", floor=6)
    wang = do_create_resident(
        world.admin, household, {"name": "王小明", "id_number": make_id_number("420102", serial=77)}
    )
    do_issue_pass(world.grid_worker, world.resident_a1)
    do_issue_pass(world.grid_worker, wang)
    revoked, _ = do_issue_pass(world.grid_worker, wang)
    do_revoke_pass(world.grid_worker, revoked, "遗失")
    do_issue_pass(world.grid_worker, wang, "worker")
    return world.building_a1


def test_the_sheet_is_a_job_whose_pdf_has_one_card_per_active_pass(world, building, login):
    client = login(world.grid_worker)
    sheet_url = reverse("passes:sheet", kwargs={"code": building.code})
    assert "2" in client.get(sheet_url).content.decode()
    response = client.post(sheet_url, {"kind": "outing"})
    assert response.status_code == 302
    job_page = client.get(response["Location"]).content.decode()
    assert 'data-state="done"' in job_page
    download = re.search(r'id="download" href="([^"]+)"', job_page).group(1)
    pdf = b"".join(client.get(download).streaming_content)
    assert pdf.startswith(b"%PDF")
    assert "Noto-Sans-CJK-SC" in pdftext.fonts(pdf).values()
    assert b"/MediaBox [0 0 595" in pdftext.everything(pdf)  # A4
    text = pdftext.text(pdf)
    active = Pass.objects.filter(building=building, kind="outing", state="active")
    revoked = Pass.objects.get(state="revoked")
    worker = Pass.objects.get(kind="worker")
    for item in active:
        assert cards.format_short_code(item.short_code) in text
    assert cards.format_short_code(revoked.short_code) not in text
    assert cards.format_short_code(worker.short_code) not in text
    assert "张*" in text and "王**" in text and "幸福社区" in text
    assert "张三" not in text and "王小明" not in text and "501" not in text
    assert AuditEvent.objects.filter(action="export", object_type="pass_cards", object_code=building.code).exists()


@pytest.mark.parametrize(("persona", "status"), [("viewer", 403), ("other_worker", 404)])
def test_those_who_may_not_edit_the_building_print_no_cards(world, building, login, persona, status):
    client = login(getattr(world, persona))
    url = reverse("passes:sheet", kwargs={"code": building.code})
    assert client.get(url).status_code == status
    assert client.post(url, {"kind": "outing"}).status_code == status
    assert not list((cards.cards_dir()).glob("*.json"))


def test_a_sheet_job_is_its_requesters_only(world, building, login):
    token = cards.do_print_cards(world.grid_worker, building, "outing")
    other = login(world.admin)
    assert other.get(reverse("passes:sheet_job", kwargs={"code": building.code, "token": token})).status_code == 404


def test_cards_take_milliseconds_each(world, building):
    """The measurement behind making a sheet a job: about 10 ms a card (a 300-pass building: ~3 s)."""
    started = time.monotonic()
    pdf, count, pages = cards.make_cards_pdf(building, "outing")
    assert count == 2 and pages == 1 and pdf.startswith(b"%PDF")
    assert time.monotonic() - started < 10
