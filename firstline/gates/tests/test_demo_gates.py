"""The demo street's gates: guarded around the clock, outing passes for healthy adults only, a little history."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.gates.duty import on_duty, on_duty_now
from firstline.gates.models import Outing, Pass, RevocationList, Scan, Shift
from firstline.gates.roster import day_start
from firstline.people.models import Resident, Status
from firstline.places.models import Community, Gate


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("demo", "--residents", "600", "--seed", "7", stdout=StringIO())


def test_every_gate_is_guarded_around_the_clock_by_its_own_three_guards(demo):
    now = timezone.now()
    today = timezone.localdate()
    for gate in Gate.objects.all():
        on_now = on_duty_now(gate, now)
        assert len(on_now) == 1
        assert on_duty(on_now[0].guard, gate, now) == (True, on_now[0])
        shifts = list(Shift.objects.filter(gate=gate).order_by("starts_at"))
        assert shifts[0].starts_at == day_start(today - timedelta(days=2))
        assert shifts[-1].ends_at == day_start(today + timedelta(days=7))
        assert all(before.ends_at == after.starts_at for before, after in pairwise(shifts))
        guards = {shift.guard for shift in shifts}
        assert len(guards) == 3
        for guard in guards:
            assert Membership.objects.get(user=guard).gate_id == gate.id


def test_outing_passes_go_to_healthy_adults_one_per_household(demo):
    passes = list(Pass.objects.select_related("resident"))
    assert passes and all(item.kind == Pass.Kind.OUTING and item.state == Pass.State.ACTIVE for item in passes)
    assert all(item.resident.status == Status.HEALTHY for item in passes)
    assert all(item.masked_name[0] == item.resident.name[0] and "*" in item.masked_name for item in passes)
    assert max(Counter(item.household_id for item in passes).values()) == 1
    assert len({(item.community_id, item.short_code) for item in passes}) == len(passes)
    isolated = set(Resident.objects.filter(status=Status.HOME_ISOLATION).values_list("household_id", flat=True))
    assert not isolated & {item.household_id for item in passes}
    for community in Community.objects.all():
        assert RevocationList.objects.filter(community=community).exists()


def test_the_last_two_days_have_outings_scanned_by_the_guard_on_duty(demo):
    scans = list(Scan.objects.select_related("shift", "pass_obj"))
    assert scans
    for scan in scans:
        assert scan.shift.starts_at <= scan.scanned_at < scan.shift.ends_at
        assert scan.recorded_by_id == scan.shift.guard_id and scan.shift.gate_id == scan.gate_id
        assert scan.community_id == scan.pass_obj.community_id
    out = Outing.objects.filter(back_at__isnull=True).values_list("pass_obj_id", flat=True)
    assert set(Pass.objects.filter(presence=Pass.Presence.OUT).values_list("id", flat=True)) == set(out)
