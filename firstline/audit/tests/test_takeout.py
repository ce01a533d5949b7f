"""What a user takes out in a day, across API list pages and exports, counts against the approval threshold.

The attack: ``GET /api/v1/residents?page_size=200`` paged a whole grid out with no
audit, and nine exports of under 500 rows each stayed under the approval
threshold. Now every API page of personal records is one ``list`` event with its
count, a page that would take the user over the threshold for the day is refused
with 429 (nothing handed out, nothing counted), and an export that would is
pending approval.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from firstline.accounts.actions import do_issue_token
from firstline.accounts.models import RateCount
from firstline.audit.actions import do_approve_export, do_request_export, taken_out_today
from firstline.audit.models import AuditEvent, Export
from firstline.people.actions import do_create_resident
from firstline.people.queries import ResidentFilter

THRESHOLD = 6


GROUPS = ("甲组", "乙组", "丙组")


@pytest.fixture
def grid(world, settings):
    """Grid A1 holds three groups of three residents more; the threshold is 6 a day."""
    settings.EXPORT_APPROVAL_ROWS = THRESHOLD
    for group in GROUPS:
        for n in range(3):
            do_create_resident(world.admin, world.household_a1, {"name": f"{group}{n}", "relation_to_head": "child"})
    return world


def device(user, language: str = "zh-hans") -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(user)}", "HTTP_ACCEPT_LANGUAGE": language}


def list_events(user) -> list[dict]:
    return [e.detail for e in AuditEvent.objects.filter(action="list", actor=user).order_by("id")]


def test_paging_a_grid_out_through_the_api_stops_at_the_threshold_with_429(grid):
    client, headers = Client(), device(grid.grid_worker)
    first = client.get("/api/v1/residents?page_size=4&page=1", **headers)
    second = client.get("/api/v1/residents?page_size=4&page=2", **headers)
    assert first.status_code == 200 and len(first.json()["items"]) == 4
    assert second.status_code == 429
    assert int(second["Retry-After"]) > 0
    assert "今天" in second.json()["detail"]  # the caller's language, and it says why
    assert "residents" not in second.json() and "items" not in second.json()
    # The refused page counted nothing: a smaller page still fits.
    assert taken_out_today(grid.grid_worker) == 4
    third = client.get("/api/v1/residents?page_size=2&page=3", **headers)
    assert third.status_code == 200 and len(third.json()["items"]) == 2
    assert client.get("/api/v1/residents?page_size=1&page=7", **headers).status_code == 429
    # One event per request, each with its count; refusals are audited too.
    assert [(e["what"], e["rows"], e.get("refused")) for e in list_events(grid.grid_worker)] == [
        ("residents", 4, None),
        ("residents", 0, 4),
        ("residents", 2, None),
        ("residents", 0, 1),
    ]


def test_the_count_holds_across_tokens_and_the_search_endpoint_and_households(grid):
    client = Client()
    phone, tablet = device(grid.grid_worker, "en"), device(grid.grid_worker, "en")
    assert client.get("/api/v1/residents?page_size=3", **phone).status_code == 200
    searched = client.post("/api/v1/residents/search", {"page_size": 3}, content_type="application/json", **tablet)
    assert searched.status_code == 200
    household = client.get(f"/api/v1/households/{grid.household_a1.code}", **phone)
    assert household.status_code == 429
    assert "today" in household.json()["detail"]
    assert taken_out_today(grid.grid_worker) == 6
    # The count is in the database, where every server process sees it.
    assert RateCount.objects.filter(count=6).count() == 1


def test_the_threshold_is_per_user(grid):
    client = Client()
    assert client.get("/api/v1/residents?page_size=6", **device(grid.grid_worker)).status_code == 200
    assert client.get("/api/v1/residents?page_size=6", **device(grid.viewer)).status_code == 200
    assert client.get("/api/v1/residents?page_size=1", **device(grid.grid_worker)).status_code == 429


def test_small_exports_add_up_and_the_one_over_the_threshold_waits_for_approval(grid):
    whole = do_request_export(grid.grid_worker, grid.community, ResidentFilter(grid=grid.grid_a1.code))
    assert whole.state == Export.State.PENDING  # over the threshold alone, as before
    assert taken_out_today(grid.grid_worker) == 0  # a pending export takes nothing out
    exports = [
        do_request_export(grid.grid_worker, grid.community, ResidentFilter(grid=grid.grid_a1.code, q=group))
        for group in GROUPS
    ]
    # Three exports of 3 rows each: two are ready, the third would take the day to 9 of 6.
    assert [e.row_count for e in exports] == [3, 3, 3]
    assert [e.state for e in exports] == [Export.State.READY, Export.State.READY, Export.State.PENDING]
    assert taken_out_today(grid.grid_worker) == 6
    # Approved, it counts too; the API then refuses the user's next page.
    do_approve_export(grid.admin, exports[2])
    assert taken_out_today(grid.grid_worker) == 9
    assert Client().get("/api/v1/residents?page_size=1", **device(grid.grid_worker)).status_code == 429


def test_api_pages_count_before_an_export(grid, login):
    client = Client()
    assert client.get("/api/v1/residents?page_size=5", **device(grid.grid_worker)).status_code == 200
    web = login(grid.grid_worker)
    page = web.get(reverse("audit:export_new", kwargs={"community": grid.community.code}) + "?q=甲组")
    assert page.status_code == 200
    assert page.context["taken_today"] == 5 and page.context["over_daily"]
    assert b'id="over-daily"' in page.content
    exported = do_request_export(grid.grid_worker, grid.community, ResidentFilter(grid=grid.grid_a1.code, q="甲组"))
    assert exported.state == Export.State.PENDING


def test_an_administrator_needs_no_approval_but_is_counted(grid):
    export = do_request_export(grid.admin, grid.community, ResidentFilter(grid=grid.grid_a1.code))
    assert export.state == Export.State.READY and export.decided_by == grid.admin
    assert taken_out_today(grid.admin) >= 10
    assert Client().get("/api/v1/residents?page_size=1", **device(grid.admin)).status_code == 429


def test_the_inbox_is_audited_with_its_count_and_not_counted_as_taken_out(grid):
    client, headers = Client(), device(grid.grid_worker)
    for _round in range(3):
        assert client.get("/api/v1/tasks", **headers).status_code == 200
    assert [e["what"] for e in list_events(grid.grid_worker)] == ["tasks"] * 3
    assert all("rows" in e for e in list_events(grid.grid_worker))
    assert taken_out_today(grid.grid_worker) == 0
