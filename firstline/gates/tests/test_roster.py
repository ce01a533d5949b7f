"""The duty roster: shifts set by the community administrator, rotations, handovers, and the duty pages."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone, translation

from firstline.audit.models import AuditEvent
from firstline.conftest import make_user
from firstline.gates.actions import do_issue_pass
from firstline.gates.duty import on_duty, on_duty_now
from firstline.gates.models import Outing, Scan, Shift, Visit
from firstline.gates.roster import (
    day_start,
    do_add_shift,
    do_fill_rotation,
    do_hand_over,
    do_remove_shift,
    last_handover,
    roster_rotation,
)
from firstline.places.models import Gate

# Memberships start when they are made: the clock moves forward, to noon the day after tomorrow.
NOON = timezone.make_aware(datetime.combine(timezone.localdate() + timedelta(days=2), time(12)))


@pytest.fixture
def guards(world):
    """Three gate guards of the south gate."""
    return [make_user(f"guard{n}", "gate_guard", world.gate, f"门卫{n}") for n in (1, 2, 3)]


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def test_it_puts_a_guard_on_duty_for_a_shift(world, guards, clock):
    shift = do_add_shift(world.admin, world.gate, guards[0], NOON + hours(1), NOON + hours(9))
    assert (shift.street_id, shift.community_id, shift.created_by) == (world.street.id, world.community.id, world.admin)
    assert on_duty(guards[0], world.gate, NOON + hours(2)) == (True, shift)
    assert on_duty(guards[0], world.gate, NOON + hours(10)) == (False, None)
    assert AuditEvent.objects.filter(action="create", object_code=shift.code).exists()


@pytest.mark.parametrize(
    ("start", "end", "english", "chinese"),
    [
        (2, 1, "A shift ends after it starts.", "下班时间须晚于上班时间。"),
        (1, 26, "A shift lasts at most 24 hours.", "一个班次最长 24 小时。"),
        (-9, -1, "This shift is over", "该班次已结束"),
    ],
)
def test_it_refuses_a_shift_that_cannot_be_in_chinese_and_english(world, guards, clock, start, end, english, chinese):
    for language, words in (("zh-hans", chinese), ("en", english)):
        with translation.override(language), pytest.raises(ValidationError) as refused:
            do_add_shift(world.admin, world.gate, guards[0], NOON + hours(start), NOON + hours(end))
        assert words in refused.value.message_dict["ends_at"][0]
    assert not Shift.objects.exists()


def test_it_refuses_an_overlapping_shift_of_the_same_guard_even_at_another_gate(world, guards, clock):
    north = Gate.objects.create(community=world.community, name="北门")
    other = make_user("worker_c", "community_worker", world.community)
    do_add_shift(world.admin, world.gate, other, NOON, NOON + hours(8))
    with pytest.raises(ValidationError) as refused:
        do_add_shift(world.admin, north, other, NOON + hours(7), NOON + hours(12))
    assert "starts_at" in refused.value.message_dict
    do_add_shift(world.admin, north, other, NOON + hours(8), NOON + hours(12))  # back to back is fine
    do_add_shift(world.admin, world.gate, guards[0], NOON + hours(1), NOON + hours(3))  # two guards at one gate
    assert Shift.objects.count() == 3


def test_it_refuses_someone_who_may_not_guard_the_gate_and_changes_nothing(world, guards, clock):
    village_gate = Gate.objects.create(community=world.village, name="村口")
    for someone, gate in ((world.grid_worker, world.gate), (world.viewer, world.gate), (guards[0], village_gate)):
        audited = AuditEvent.objects.count()
        with pytest.raises((ValidationError, PermissionDenied)):
            do_add_shift(world.admin, gate, someone, NOON + hours(1), NOON + hours(2))
        assert not Shift.objects.exists() and AuditEvent.objects.count() == audited


@pytest.mark.parametrize("persona", ["grid_worker", "viewer", "other_worker"])
def test_only_who_builds_the_community_sets_the_roster(world, guards, clock, persona):
    actor = getattr(world, persona)
    with pytest.raises(PermissionDenied):
        do_add_shift(actor, world.gate, guards[0], NOON + hours(1), NOON + hours(2))
    with pytest.raises(PermissionDenied):
        do_add_shift(guards[1], world.gate, guards[0], NOON + hours(1), NOON + hours(2))  # a guard does not
    with pytest.raises(PermissionDenied):
        do_fill_rotation(actor, world.gate, guards, timezone.localdate(), 7, 8)
    assert not Shift.objects.exists()


def test_it_removes_a_shift_only_before_it_starts(world, guards, clock):
    later = do_add_shift(world.admin, world.gate, guards[0], NOON + hours(2), NOON + hours(4))
    now = do_add_shift(world.admin, world.gate, guards[1], NOON - hours(1), NOON + hours(4))
    with pytest.raises(PermissionDenied):
        do_remove_shift(world.grid_worker, later)
    with pytest.raises(ValidationError):
        do_remove_shift(world.admin, now)
    do_remove_shift(world.admin, later)
    assert list(Shift.objects.all()) == [now]
    assert AuditEvent.objects.filter(action="delete", object_code=later.code).exists()


def test_a_handover_note_is_seen_by_the_next_shift(world, guards, clock):
    first = do_add_shift(world.admin, world.gate, guards[0], NOON - hours(4), NOON + hours(4))
    second = do_add_shift(world.admin, world.gate, guards[1], NOON + hours(4), NOON + hours(12))
    with pytest.raises(PermissionDenied):
        do_hand_over(guards[1], first, "不是我的班")
    with pytest.raises(ValidationError):
        do_hand_over(guards[1], second, "还没开始")
    assert last_handover(world.gate, NOON + hours(5)) is None

    clock.move_to(NOON + hours(4) - timedelta(minutes=5))
    do_hand_over(guards[0], first, "  体温枪电量低，已充电。3栋有一位外出未归。  ")
    clock.move_to(NOON + hours(5))
    seen = last_handover(world.gate, timezone.now())
    assert seen == first and seen.handover_note == "体温枪电量低，已充电。3栋有一位外出未归。"
    assert seen.handed_over_at == NOON + hours(4) - timedelta(minutes=5)
    assert [s.guard for s in on_duty_now(world.gate, timezone.now())] == [guards[1]]

    clock.move_to(NOON + hours(4) + hours(7))  # too long after the end
    with pytest.raises(ValidationError):
        do_hand_over(guards[0], first, "补写")
    first.refresh_from_db()
    assert first.handover_note.startswith("体温枪")


def test_a_rotation_covers_the_clock_without_gaps_or_overlaps(world, guards):
    day = timezone.localdate()
    slots = roster_rotation(world.gate, guards, day, 7, 8)
    assert len(slots) == 21
    assert slots[0].starts_at == day_start(day) and slots[-1].ends_at == day_start(day + timedelta(days=7))
    for before, after in pairwise(slots):
        assert before.ends_at == after.starts_at
    assert [slot.guard for slot in slots[:4]] == [*guards, guards[0]]
    with pytest.raises(ValidationError):
        roster_rotation(world.gate, guards, day, 7, 5)


def test_filling_the_week_leaves_what_is_there_and_covers_the_rest(world, guards, clock):
    today = timezone.localdate()
    kept = do_add_shift(world.admin, world.gate, guards[2], NOON + hours(28), NOON + hours(36))  # tomorrow 16–24
    added, left_out = do_fill_rotation(world.admin, world.gate, guards, today, 7, 8)
    # Today 00–08 is over; tomorrow 16–24 was covered already.
    assert left_out == 2 and len(added) == 19
    shifts = list(Shift.objects.filter(gate=world.gate).order_by("starts_at"))
    assert kept in shifts
    assert shifts[0].starts_at == day_start(today) + hours(8)
    assert shifts[-1].ends_at == day_start(today + timedelta(days=7))
    for before, after in pairwise(shifts):
        assert before.ends_at == after.starts_at
    assert [s.guard for s in on_duty_now(world.gate, NOON)] == [guards[1]]
    again, skipped = do_fill_rotation(world.admin, world.gate, guards, today, 7, 8)
    assert again == [] and skipped == 21


# --- the pages --------------------------------------------------------------------------------------


def gate_url(gate) -> str:
    return reverse("duty:gate", kwargs={"code": gate.code})


def record_scan(world, item, gate, at, direction="out", verdict="passed", flags=(), temperature="36.5", **extra):
    return Scan.objects.create(
        client_id=uuid.uuid4(),
        payload_hash="x",
        pass_obj=item,
        serial=item.serial if item else None,
        gate=gate,
        street=gate.street,
        community=gate.community,
        household_id=item.household_id if item else None,
        direction=direction,
        temperature=Decimal(temperature) if temperature else None,
        scanned_at=at,
        verdict=verdict,
        flags=list(flags),
        recorded_by=world.admin,
        **extra,
    )


def test_the_list_shows_who_is_on_duty_and_which_gate_has_nobody(
    world, guards, login, clock, django_assert_num_queries
):
    north = Gate.objects.create(community=world.community, name="北门")
    Gate.objects.create(community=world.village, name="村口")  # the village is not the admin's
    do_add_shift(world.admin, world.gate, guards[0], NOON - hours(2), NOON + hours(6))
    client = login(world.admin)
    client.get(reverse("duty:gates"))
    with django_assert_num_queries(9):
        response = client.get(reverse("duty:gates"))
    html = response.content.decode()
    rows = {row["gate"].name: [s.guard.username for s in row["shifts"]] for row in response.context["rows"]}
    assert rows == {"南门": ["guard1"], "北门": []}
    assert response.context["unguarded"] == 1 and "门卫1" in html and "村口" not in html
    assert f'id="gate-{north.code}" class="unguarded"' in html


def test_a_guard_sees_their_own_gate_only_and_is_sent_there_from_home(world, guards, login):
    north = Gate.objects.create(community=world.community, name="北门")
    client = login(guards[0])
    assert client.get(reverse("home")).url == reverse("duty:gates")
    response = client.get(reverse("duty:gates"))
    assert [row["gate"] for row in response.context["rows"]] == [world.gate]
    assert client.get(gate_url(north)).status_code == 404
    page = client.get(gate_url(world.gate))
    assert page.status_code == 200 and b'id="fill-week"' not in page.content  # a guard does not set the roster


@pytest.mark.parametrize("persona", ["grid_worker", "viewer", "other_worker"])
def test_a_grid_level_persona_reaches_no_gate(world, guards, login, persona, clock):
    shift = do_add_shift(world.admin, world.gate, guards[0], NOON + hours(1), NOON + hours(3))
    client = login(getattr(world, persona))
    assert client.get(reverse("duty:gates")).status_code == 403
    assert client.get(gate_url(world.gate)).status_code == 404
    assert client.post(reverse("duty:shift_remove", kwargs={"code": shift.code})).status_code == 404
    assert Shift.objects.count() == 1
    assert b"nav-gates" not in client.get(reverse("people:household", kwargs={"code": world.household_a1.code})).content


def test_the_gate_page_shows_the_roster_gaps_and_the_history_filtered(world, guards, login, clock):
    item, _ = do_issue_pass(world.admin, world.resident_a1)
    shift = do_add_shift(world.admin, world.gate, guards[0], NOON - hours(4), NOON + hours(4))
    record_scan(world, item, world.gate, NOON - hours(1), shift=shift)
    record_scan(world, item, world.gate, NOON - hours(2), direction="in", flags=["fever"], temperature="38.1")
    record_scan(world, item, world.gate, NOON - hours(3), verdict="refused", reason="suspended")
    record_scan(world, item, world.gate, NOON - hours(30), direction="in")  # yesterday
    Visit.objects.create(
        client_id=uuid.uuid4(),
        payload_hash="y",
        kind="visitor",
        gate=world.gate,
        street=world.street,
        community=world.community,
        name="王小明",
        origin="杭州",
        at=NOON - hours(1),
        recorded_by=guards[0],
        shift=shift,
    )
    client = login(world.admin)
    response = client.get(gate_url(world.gate), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert [s.guard for s in response.context["on_now"]] == [guards[0]]
    today = response.context["days"][0]
    assert len(response.context["days"]) == 8
    assert today.gaps == [(day_start(today.day), NOON - hours(4)), (NOON + hours(4), day_start(today.day) + hours(24))]
    assert all(day.gaps for day in response.context["days"][1:])
    assert len(response.context["scans"]) == 4
    assert "张*" in html and "张三" not in html and item.short_code in html
    assert "王*" in html and "王小明" not in html
    counts = {bar["key"]: bar["count"] for bar in response.context["counts"]}
    assert counts == {"in": 2, "out": 1, "refused": 1, "fever": 1}  # the visitor came in
    refused = [row for row in response.context["scans"] if row["verdict_key"] == "refused"]
    assert refused[0]["why"] == "suspended (isolation)"
    on_duty_row = [row for row in response.context["scans"] if row["scan"].shift_id]
    assert on_duty_row[0]["guard"] == "门卫1"

    filtered = client.get(gate_url(world.gate), {"day": str(timezone.localdate()), "verdict": "refused"})
    assert [row["verdict_key"] for row in filtered.context["scans"]] == ["refused"]
    fragment = client.get(
        gate_url(world.gate),
        {"part": "history", "day": str(timezone.localdate() - timedelta(days=1))},
        HTTP_HX_REQUEST="true",
    )
    assert len(fragment.context["scans"]) == 1 and b"<html" not in fragment.content


def test_the_admin_fills_the_week_and_removes_a_shift_by_htmx(world, guards, login, clock):
    client = login(world.admin)
    response = client.post(
        reverse("duty:rotation", kwargs={"code": world.gate.code}),
        {"guards": [g.code for g in guards], "hours": "8"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and b'id="roster"' in response.content and b"<html" not in response.content
    assert Shift.objects.filter(gate=world.gate).count() == 20
    future = Shift.objects.filter(starts_at__gt=NOON).order_by("starts_at").first()
    client.post(reverse("duty:shift_remove", kwargs={"code": future.code}), HTTP_HX_REQUEST="true")
    assert not Shift.objects.filter(pk=future.pk).exists()
    started = Shift.objects.filter(starts_at__lte=NOON).first()
    refused = client.post(reverse("duty:shift_remove", kwargs={"code": started.code}), HTTP_HX_REQUEST="true")
    assert b'role="alert"' in refused.content and Shift.objects.filter(pk=started.pk).exists()
    added = client.post(
        reverse("duty:shift_add", kwargs={"code": world.gate.code}),
        {"guard": guards[0].code, "starts_at": f"{NOON:%Y-%m-%d}T13:00", "ends_at": f"{NOON:%Y-%m-%d}T15:00"},
    )
    assert added.status_code == 302  # guard 1 is on 00–08 only: 13–15 is free for them
    assert Shift.objects.filter(guard=guards[0], starts_at=NOON + hours(1)).exists()


def test_the_guard_on_duty_hands_over_on_the_gate_page(world, guards, login, clock):
    shift = do_add_shift(world.admin, world.gate, guards[0], NOON - hours(4), NOON + hours(4))
    client = login(guards[0])
    page = client.get(gate_url(world.gate))
    assert page.context["my_shift"] == shift
    client.post(reverse("duty:handover", kwargs={"code": shift.code}), {"note": "北侧护栏松动"})
    shift.refresh_from_db()
    assert shift.handover_note == "北侧护栏松动"
    other = login(guards[1]).post(reverse("duty:handover", kwargs={"code": shift.code}), {"note": "冒充"})
    assert other.status_code == 403
    shift.refresh_from_db()
    assert shift.handover_note == "北侧护栏松动"


def test_a_pass_and_a_household_show_their_scans_and_outings(world, guards, login, clock):
    item, _ = do_issue_pass(world.admin, world.resident_a1)
    out = record_scan(world, item, world.gate, NOON - hours(5))
    Outing.objects.create(
        pass_obj=item,
        household=world.household_a1,
        street=world.street,
        community=world.community,
        grid=world.grid_a1,
        building=world.building_a1,
        out_scan=out,
        out_at=out.scanned_at,
        due_back_at=out.scanned_at + hours(2),
    )
    url = reverse("duty:pass_scans", kwargs={"code": item.code})
    response = login(world.grid_worker).get(url)
    assert response.status_code == 200
    assert [row["key"] for row in response.context["outings"]] == ["overdue"]
    assert len(response.context["scans"]) == 1
    assert login(world.other_worker).get(url).status_code == 404
    household = login(world.viewer).get(reverse("people:household", kwargs={"code": world.household_a1.code}))
    html = household.content.decode()
    assert 'id="gate-history"' in html and item.short_code in html and url in html
    assert "张*" in html


def test_the_history_pages_cost_the_same_queries_for_many_scans(
    world, guards, login, clock, django_assert_max_num_queries
):
    item, _ = do_issue_pass(world.admin, world.resident_a1)
    shift = do_add_shift(world.admin, world.gate, guards[0], NOON - hours(4), NOON + hours(4))
    client = login(world.admin)
    urls = [gate_url(world.gate), reverse("duty:pass_scans", kwargs={"code": item.code})]
    urls.append(reverse("people:household", kwargs={"code": world.household_a1.code}))
    costs = []
    for count in (2, 20):
        for minute in range(count):
            out = record_scan(world, item, world.gate, NOON - timedelta(minutes=minute + 1), shift=shift)
            Outing.objects.create(
                pass_obj=item,
                household=world.household_a1,
                street=world.street,
                community=world.community,
                out_scan=out,
                out_at=out.scanned_at,
                due_back_at=out.scanned_at + hours(2),
            )
        costs.append([len(_queries(client, url)) for url in urls])
    assert costs[0] == costs[1]


def _queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return captured.captured_queries
