import pytest
from django.core.management import call_command
from django.db import connection

from firstline.audit.log import record, verify
from firstline.audit.models import AuditEvent


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def test_it_verifies_an_honest_log(world):
    for n in range(5):
        record("read", actor=world.grid_worker, role="grid_worker", obj=world.resident_a1, reason=f"visit {n}")
    verdict = verify()
    assert verdict.ok, verdict.problems
    assert verdict.checked == AuditEvent.objects.count() >= 7


def test_it_detects_a_row_edited_in_the_database(world):
    event = record("unmask", actor=world.grid_worker, role="grid_worker", obj=world.resident_a1, reason="call")
    record("read", actor=world.grid_worker, role="grid_worker", obj=world.resident_a1)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_quoted('audit_auditevent')} SET reason = %s WHERE id = %s", ["nothing", event.id])
    verdict = verify()
    assert not verdict.ok
    assert any(str(event.id) in problem for problem in verdict.problems)


@pytest.mark.parametrize("which", ["middle", "last"])
def test_it_detects_a_deleted_row(world, which):
    events = [record("read", actor=world.grid_worker, obj=world.resident_a1) for _ in range(3)]
    victim = events[1] if which == "middle" else events[-1]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_quoted('audit_auditevent')} WHERE id = %s", [victim.id])
    assert not verify().ok


def test_the_command_exits_non_zero_on_a_broken_chain(world, capsys):
    event = record("read", actor=world.grid_worker, obj=world.resident_a1)
    call_command("audit", "verify")
    assert "OK" in capsys.readouterr().out
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_quoted('audit_auditevent')} SET object_code = %s WHERE id = %s", ["x", event.id])
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1


def test_it_never_stores_personal_values(world):
    from firstline.conftest import leaks

    for event in AuditEvent.objects.all():
        assert not leaks(str(event.detail) + event.reason + event.object_code)
