"""Scans sent by gate phones: stored once, judged under the pass's lock, the gate rules and the fever rule applied."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.conftest import make_id_number, make_user
from firstline.gates.actions import do_issue_pass, do_revoke_pass, publish_revocations, rotate_keys
from firstline.gates.jobs import flag_overdue_outings
from firstline.gates.models import GateConflict, Outing, Pass, Scan, Shift, Visit
from firstline.gates.scanning import ingest_scans, ingest_visits
from firstline.people.actions import do_create_resident
from firstline.places.models import Gate
from firstline.status.models import CheckIn, Referral, RiskArea
from firstline.tasks.models import Task

ROOT = Path(__file__).resolve().parents[3]


def on_shift(user, gate, hours: int = 8):
    now = timezone.now()
    return Shift.objects.create(
        gate=gate,
        street=gate.street,
        community=gate.community,
        guard=user,
        starts_at=now - timedelta(hours=hours),
        ends_at=now + timedelta(hours=hours),
    )


@pytest.fixture
def guard(world):
    user = make_user("guard_south", "gate_guard", world.gate, "门卫老王")
    on_shift(user, world.gate, hours=30)
    return user


def issue_yesterday(world, resident):
    """A pass issued a day ago: scans in the last hours fall inside its window."""
    with time_machine.travel(timezone.now() - timedelta(days=1), tick=False):
        return do_issue_pass(world.admin, resident)


@pytest.fixture
def issued(world):
    return issue_yesterday(world, world.resident_a1)


def item(world, token: str | None, direction: str = "out", **fields):
    return {
        "client_id": fields.pop("client_id", uuid.uuid4()),
        "token": token,
        "short_code": fields.pop("short_code", None),
        "gate": fields.pop("gate", world.gate.code),
        "direction": direction,
        "temperature": fields.pop("temperature", None),
        "scanned_at": fields.pop("scanned_at", timezone.now()),
    }


def scan(user, world, token, direction="out", **fields):
    return ingest_scans(user, [item(world, token, direction, **fields)])[0]


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count() for model in (Scan, GateConflict, Outing, CheckIn, Task, Visit, Referral)
    }


# --- idempotency, scope and duty -------------------------------------------------------------------


def test_it_stores_a_scan_sent_twice_once(world, guard, issued):
    sent = item(world, issued[1])
    first, again = ingest_scans(guard, [sent])[0], ingest_scans(guard, [dict(sent)])[0]
    assert (first.status, first.verdict) == ("stored", "passed")
    assert (again.status, again.verdict, again.record) == ("duplicate", "passed", first.record)
    assert Scan.objects.count() == 1 and Outing.objects.count() == 1


def test_it_keeps_a_conflict_and_leaves_the_first_scan_untouched(world, guard, issued):
    sent = item(world, issued[1])
    first = ingest_scans(guard, [sent])[0].record
    result = ingest_scans(guard, [{**sent, "temperature": Decimal("36.6")}])[0]
    assert (result.status, result.reason) == ("conflict", "conflict")
    conflict = GateConflict.objects.get()
    assert conflict.client_id == sent["client_id"] and conflict.payload["temperature"] == "36.6"
    kept = Scan.objects.get()
    assert (kept.pk, kept.temperature, kept.payload_hash) == (first.pk, None, first.payload_hash)
    assert not CheckIn.objects.exists()


def test_it_rejects_a_scan_off_duty_and_changes_nothing(world, issued):
    guard = make_user("guard_south", "gate_guard", world.gate)
    Shift.objects.create(
        gate=world.gate,
        street=world.street,
        community=world.community,
        guard=guard,
        starts_at=timezone.now() + timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=9),
    )
    before = counts()
    result = scan(guard, world, issued[1], temperature=Decimal("38.5"))
    assert (result.status, result.reason) == ("rejected", "not_on_duty")
    assert result.message
    assert counts() == before
    assert Pass.objects.get().presence == "in"


def test_it_accepts_a_temporary_grant_in_place_of_a_shift(world, issued):
    helper = make_user("helper", "gate_guard", world.gate)
    Membership.objects.filter(user=helper).update(ends_at=timezone.now() + timedelta(hours=2), granted_by=world.admin)
    result = scan(helper, world, issued[1])
    assert (result.status, result.verdict) == ("stored", "passed")
    assert result.record.shift is None


def test_a_gate_out_of_scope_is_unknown(world, guard, issued):
    village_gate = Gate.objects.create(community=world.village, name="村口")
    before = counts()
    for code in (village_gate.code, "NOSUCH"):
        result = scan(guard, world, issued[1], gate=code)
        assert (result.status, result.reason) == ("rejected", "unknown_gate")
    assert counts() == before


def test_a_user_who_guards_no_gate_is_rejected(world, issued):
    result = scan(world.grid_worker, world, issued[1])
    assert (result.status, result.reason) == ("rejected", "unknown_gate")
    assert not Scan.objects.exists()


def test_it_rejects_bad_items_one_by_one_and_stores_the_rest(world, guard, issued):
    results = ingest_scans(
        guard,
        [
            item(world, issued[1], short_code="ABC1234"),
            item(world, issued[1], temperature=Decimal("48.0")),
            item(world, issued[1], scanned_at=timezone.now() + timedelta(minutes=10)),
            item(world, issued[1]),
        ],
    )
    assert [(r.status, r.reason) for r in results] == [
        ("rejected", "no_pass"),
        ("rejected", "bad_temperature"),
        ("rejected", "future_time"),
        ("stored", ""),
    ]


# --- refusals: stored all the same ------------------------------------------------------------------


def _tampered(token: str, index: int) -> str:
    raw = bytearray(base64.b32decode(token[3:] + "=" * (-len(token[3:]) % 8)))
    raw[index] ^= 1
    return "FL1" + base64.b32encode(bytes(raw)).decode().rstrip("=")


def test_every_refusal_is_stored_with_its_reason(world, guard, issued):
    item_, token = issued
    other_gate = Gate.objects.create(community=world.community, name="北门")
    north_only = do_issue_pass(world.admin, world.resident_a1, gate=other_gate)[1]
    with time_machine.travel(timezone.now() - timedelta(days=3)):
        expired = do_issue_pass(world.admin, world.resident_a1, Pass.Kind.VISITOR, days=1)[1]
    revoked_pass, revoked = do_issue_pass(world.admin, world.resident_a1)
    do_revoke_pass(world.admin, revoked_pass, "遗失")
    suspended_pass, suspended = do_issue_pass(world.admin, world.resident_a1)
    Pass.objects.filter(pk=suspended_pass.pk).update(state=Pass.State.SUSPENDED)
    publish_revocations(world.community.id)
    cases = {
        "malformed": {"token": "NOT A PASS"},
        "unknown_key": {"token": _tampered(token, 1)},
        "bad_signature": {"token": _tampered(token, 40)},
        "wrong_gate": {"token": north_only},
        "not_yet_valid": {"token": token, "scanned_at": item_.valid_from - timedelta(minutes=10)},
        "expired": {"token": expired},
        "revoked": {"token": revoked},
        "suspended": {"token": suspended},
        "unknown_pass": {"token": None, "short_code": "ZZZZ-ZZZ"},
    }
    for reason, fields in cases.items():
        result = scan(guard, world, fields.pop("token"), **fields)
        assert (result.status, result.verdict, result.reason) == ("stored", "refused", reason), reason
        assert result.message
    stored = dict(Scan.objects.values_list("reason", "verdict"))
    assert set(stored) == set(cases) and set(stored.values()) == {"refused"}
    assert Scan.objects.get(reason="malformed").pass_obj is None
    assert Scan.objects.get(reason="revoked").pass_obj == revoked_pass
    assert not Outing.objects.exists() and set(Pass.objects.values_list("presence", flat=True)) == {"in"}


def test_a_typed_short_code_is_checked_like_a_token(world, guard, issued):
    item_, _token = issued
    typed = item_.short_code.lower()[:3] + "-" + item_.short_code.lower()[3:]
    result = scan(guard, world, None, short_code=typed)
    assert (result.status, result.verdict, result.flags) == ("stored", "passed", ["typed"])
    assert result.record.pass_obj == item_
    do_revoke_pass(world.admin, item_, "遗失")
    refused = scan(guard, world, None, "in", short_code=item_.short_code)
    assert (refused.verdict, refused.reason) == ("refused", "revoked")


def test_a_pass_revoked_between_two_scans_is_refused_by_the_next(world, guard, issued):
    item_, token = issued
    assert scan(guard, world, token).verdict == "passed"  # keys and rules are now in the cache
    do_revoke_pass(world.admin, item_, "遗失")
    refused = scan(guard, world, token, "in")
    assert (refused.status, refused.verdict, refused.reason) == ("stored", "refused", "revoked")
    assert Pass.objects.get().presence == "out"


def test_a_pass_signed_by_a_new_key_passes_at_once(world, guard, issued):
    assert scan(guard, world, issued[1]).verdict == "passed"  # the old key alone is in the cache
    rotate_keys()
    other = issue_yesterday(world, world.resident_a1)[1]
    new_key, old_key = scan(guard, world, other), scan(guard, world, issued[1], "in")
    assert (new_key.verdict, new_key.reason) == ("flagged", "over_quota")  # verified: the household's second outing
    assert (old_key.verdict, old_key.reason) == ("passed", "")


# --- the gate rules ---------------------------------------------------------------------------------


def test_out_while_out_is_a_passback_and_changes_nothing(world, guard, issued):
    assert scan(guard, world, issued[1]).verdict == "passed"
    changed_at = Pass.objects.get().presence_changed_at
    again = scan(guard, world, issued[1])
    assert (again.verdict, again.reason, again.flags) == ("flagged", "passback", ["passback"])
    assert Pass.objects.get().presence_changed_at == changed_at and Outing.objects.count() == 1
    back = scan(guard, world, issued[1], "in")
    assert back.verdict == "passed" and Pass.objects.get().presence == "in"
    assert scan(guard, world, issued[1], "in").flags == ["passback"]


def test_a_second_member_out_in_the_period_is_over_quota_but_recorded(world, guard, issued):
    spouse = do_create_resident(
        world.admin, world.household_a1, {"name": "王五", "id_number": make_id_number(serial=125)}
    )
    spouse_token = issue_yesterday(world, spouse)[1]
    earlier = timezone.now() - timedelta(hours=5)
    for hours in (0, 2):  # the same member twice in the period is still one person
        assert scan(guard, world, issued[1], scanned_at=earlier + timedelta(hours=hours)).verdict == "passed"
        assert scan(guard, world, issued[1], "in", scanned_at=earlier + timedelta(hours=hours + 1)).verdict == "passed"
    result = scan(guard, world, spouse_token)
    assert (result.verdict, result.reason, result.flags) == ("flagged", "over_quota", ["over_quota"])
    assert result.message
    assert Outing.objects.count() == 3 and Pass.objects.get(resident=spouse).presence == "out"


def test_overdue_outing_opens_one_task_and_the_late_return_closes_it(world, guard, issued):
    out = scan(guard, world, issued[1], scanned_at=timezone.now() - timedelta(hours=3))
    outing = Outing.objects.get(out_scan=out.record)
    assert outing.due_back_at == out.record.scanned_at + timedelta(hours=2)
    assert flag_overdue_outings() == 1 and flag_overdue_outings() == 0
    task = Task.objects.get(kind=Task.Kind.OVERDUE_RETURN)
    assert task.resident == world.resident_a1 and task.dedupe_key == f"overdue:{outing.id}"
    assert "张三" not in task.note
    back = scan(guard, world, issued[1], "in")
    assert (back.verdict, back.flags) == ("flagged", ["late_return"])
    task.refresh_from_db()
    outing.refresh_from_db()
    assert task.state == Task.State.DONE and outing.back_scan == back.record and outing.overdue_task == task


def test_back_in_time_is_not_late(world, guard, issued):
    scan(guard, world, issued[1], scanned_at=timezone.now() - timedelta(hours=1))
    assert flag_overdue_outings() == 0
    assert scan(guard, world, issued[1], "in").verdict == "passed"
    assert Outing.objects.get().back_at is not None


def test_a_fever_at_the_gate_refers_the_resident(world, guard, issued):
    result = scan(guard, world, issued[1], "out", temperature=Decimal("38.6"))
    assert (result.verdict, result.reason, result.flags) == ("flagged", "fever", ["fever"])
    reading = result.record.reading
    assert reading.source == CheckIn.Source.GATE and reading.is_fever and reading.resident == world.resident_a1
    assert Referral.objects.filter(resident=world.resident_a1, closed_at__isnull=True).exists()
    assert Task.objects.filter(kind=Task.Kind.FEVER, resident=world.resident_a1, urgent=True).exists()


def test_a_normal_temperature_is_a_reading_too(world, guard, issued):
    result = scan(guard, world, issued[1], temperature=Decimal("36.4"))
    assert result.verdict == "passed" and result.record.reading.temperature == Decimal("36.4")
    assert not Referral.objects.exists()


# --- visits -----------------------------------------------------------------------------------------


def visit(world, **fields):
    return {
        "client_id": uuid.uuid4(),
        "kind": "visitor",
        "gate": world.gate.code,
        "direction": "in",
        "name": "赵六",
        "phone": "13811112222",
        "origin": "北京市",
        "host": world.household_a1.address,
        "reason": "送药",
        "temperature": Decimal("36.5"),
        "at": timezone.now(),
        **fields,
    }


def test_a_visit_is_stored_once_with_its_phone_sealed(world, guard):
    sent = visit(world)
    first, again = ingest_visits(guard, [sent, dict(sent)])
    assert (first.status, again.status, first.verdict) == ("stored", "duplicate", "passed")
    stored = Visit.objects.get()
    assert stored.phone_masked == "138****2222" and b"13811112222" not in bytes(stored.phone_sealed)
    assert stored.host_household == world.household_a1 and stored.shift is not None
    assert "13811112222" not in stored.payload_hash
    conflict = ingest_visits(guard, [{**sent, "phone": "13899998888"}])[0]
    assert conflict.status == "conflict"
    assert GateConflict.objects.get().payload["phone"] == "138****8888"


def test_a_visitor_with_a_fever_or_from_a_risk_area_makes_a_gate_task(world, guard):
    RiskArea.objects.create(name="湖北省武汉市", active_from=timezone.localdate() - timedelta(days=1))
    hot, risky = ingest_visits(
        guard, [visit(world, temperature=Decimal("38.2")), visit(world, origin="湖北省武汉市江汉区")]
    )
    assert (hot.verdict, hot.flags) == ("flagged", ["fever"])
    assert (risky.verdict, risky.flags) == ("flagged", ["from_risk_area"])
    tasks = Task.objects.filter(kind=Task.Kind.GATE)
    assert tasks.count() == 2 and tasks.filter(urgent=True).count() == 1
    assert all("赵六" not in task.note and "138" not in task.note for task in tasks)


def test_a_visit_off_duty_is_rejected(world):
    guard = make_user("guard_south", "gate_guard", world.gate)
    result = ingest_visits(guard, [visit(world)])[0]
    assert (result.status, result.reason) == ("rejected", "not_on_duty") and not Visit.objects.exists()


# --- one pass at two gates at once ------------------------------------------------------------------


def run_in_a_file_database(tmp_path, test: str) -> None:
    """Run ``test`` again in a child pytest on a file-based SQLite test database.

    The in-memory test database is shared by its connections through SQLite's shared
    cache, where a writer locks whole tables and the busy timeout does not apply:
    concurrent writers would fail at once instead of waiting, unlike in production.
    """
    env = {**os.environ, "FIRSTLINE_TEST_DB": str(tmp_path / "concurrency.sqlite3")}
    command = [sys.executable, "-m", "pytest", "-q", "-n", "0", f"{__file__}::{test}"]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_scans_of_one_pass_change_its_presence_once(world, guard, issued, tmp_path):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        run_in_a_file_database(tmp_path, "test_fifty_concurrent_scans_of_one_pass_change_its_presence_once")
        return
    token = issued[1]
    barrier = threading.Barrier(50)
    results: list = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            barrier.wait()
            results.append(scan(guard, world, token))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    assert [result.status for result in results] == ["stored"] * 50
    assert sorted(result.verdict for result in results) == ["flagged"] * 49 + ["passed"]
    assert Scan.objects.count() == 50 and Outing.objects.count() == 1
    assert Pass.objects.get().presence == "out"
