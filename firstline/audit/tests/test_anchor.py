"""The audit log's tail cut and its head rewritten by someone who can write the database but lacks the audit key."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone, translation

from firstline.audit import anchors
from firstline.audit.actions import do_anchor_chain
from firstline.audit.log import record, verify
from firstline.audit.models import AuditEvent, AuditHead
from firstline.audit.tasks import anchor_if_due


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path / "data"
    settings.AUDIT_ANCHOR_URL = ""
    settings.AUDIT_ANCHOR_ALSO = []
    return settings.DATA_DIR


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _events(world, n: int) -> list[AuditEvent]:
    return [record("read", actor=world.grid_worker, obj=world.resident_a1, reason=f"visit {i}") for i in range(n)]


def cut_tail_and_rewrite_head(n: int) -> None:
    """The attack: delete the newest n events, copy the surviving newest event into the head row."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {_q('audit_auditevent')} ORDER BY id DESC LIMIT %s", [n])
        victims = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"DELETE FROM {_q('audit_auditevent')} WHERE id IN ({', '.join(['%s'] * len(victims))})", victims
        )
        cursor.execute(f"SELECT id, digest FROM {_q('audit_auditevent')} ORDER BY id DESC LIMIT 1")
        last_id, last_digest = cursor.fetchone()
        cursor.execute(f"SELECT COUNT(*) FROM {_q('audit_auditevent')}")
        (count,) = cursor.fetchone()
        cursor.execute(
            f"UPDATE {_q('audit_audithead')} SET last_id = %s, last_digest = %s, count = %s WHERE id = 1",
            [last_id, last_digest, count],
        )


def _run_verify(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify", *args)
    return int(exit_info.value.code or 0), capsys.readouterr().err


def test_cutting_the_tail_and_rewriting_the_head_fails_verify(world, capsys):
    _events(world, 5)
    assert verify().ok
    cut_tail_and_rewrite_head(2)
    verdict = verify()
    assert not verdict.ok
    with translation.override("en"):
        code, err = _run_verify(capsys)
    assert code == 1
    assert "the chain head was rewritten without the audit key" in err
    with translation.override("zh-hans"):
        code, err = _run_verify(capsys)
    assert code == 1
    assert "审计密钥" in err


def test_an_anchor_taken_before_the_cut_catches_it_with_a_head_signed_anyway(world, settings, capsys):
    """Even a head whose MAC matched (the key leaked, or the head rule bypassed) cannot hide the cut."""
    from firstline.audit.log import head_mac

    _events(world, 5)
    do_anchor_chain()
    cut_tail_and_rewrite_head(2)
    head = AuditHead.objects.get(id=1)
    AuditHead.objects.filter(id=1).update(mac=head_mac(head.last_id, head.last_digest, head.count))
    with translation.override("en"):
        code, err = _run_verify(capsys)
    assert code == 1
    assert "the newest events were removed" in err
    assert "the chain head was rewritten" not in err


def test_restoring_an_older_head_row_is_caught_by_the_anchor(world):
    _events(world, 3)
    saved = AuditHead.objects.values("last_id", "last_digest", "count", "mac").get(id=1)
    _events(world, 3)
    do_anchor_chain()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_q('audit_auditevent')} WHERE id > %s", [saved["last_id"]])
    AuditHead.objects.filter(id=1).update(**saved)
    with translation.override("en"):
        verdict = verify()
    assert not verdict.ok
    assert any("the newest events were removed" in problem for problem in verdict.problems), verdict.problems


def test_an_honest_chain_with_anchors_passes(world, capsys):
    _events(world, 2)
    do_anchor_chain()
    _events(world, 2)
    do_anchor_chain()
    _events(world, 1)
    call_command("audit", "verify")
    assert "OK" in capsys.readouterr().out
    path = anchors.default_path()
    assert len(path.read_text().splitlines()) == 2
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_tampered_anchor_is_reported_as_not_valid(world, capsys):
    _events(world, 3)
    do_anchor_chain()
    path = anchors.default_path()
    body = json.loads(path.read_text())
    body["count"] = 2  # an anchor moved back to match a cut, without the key
    path.write_text(json.dumps(body) + "\n")
    with translation.override("en"):
        code, err = _run_verify(capsys)
    assert code == 1
    assert "anchor line 1 in anchors.jsonl is not valid" in err


def test_a_head_that_does_not_match_the_log_is_not_anchored(world, capsys):
    _events(world, 4)
    cut_tail_and_rewrite_head(1)
    with pytest.raises(SystemExit):
        call_command("audit", "anchor")
    assert not anchors.default_path().exists()


class _Parent(BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Parent.received.append((self.headers.get("Authorization", ""), body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_the_second_location_and_the_parent_deployment_receive_the_anchor(world, settings, tmp_path, capsys):
    server = HTTPServer(("127.0.0.1", 0), _Parent)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Parent.received = []
    try:
        settings.AUDIT_ANCHOR_URL = f"http://127.0.0.1:{server.server_port}/audit/anchors"
        settings.AUDIT_ANCHOR_TOKEN = "parent-token-for-tests"
        _events(world, 3)
        also = tmp_path / "mounted"
        call_command("audit", "anchor", "--also", str(also))
    finally:
        server.shutdown()
        server.server_close()
    head = AuditHead.objects.get(id=1)
    second = anchors.read(also)
    assert [(a.count, a.last_id, a.last_digest, a.problem) for a in second] == [
        (head.count, head.last_id, head.last_digest, "")
    ]
    assert len(_Parent.received) == 1
    token, body = _Parent.received[0]
    assert token == "Bearer parent-token-for-tests"
    assert body == json.loads(anchors.default_path().read_text())
    assert body["count"] == head.count and body["last_digest"] == head.last_digest
    # the second copy alone catches a cut when the local anchors were removed too
    anchors.default_path().unlink()
    cut_tail_and_rewrite_head(1)
    assert not verify(also=[str(also)]).ok


def test_the_periodic_job_anchors_when_the_chain_moved_and_one_is_due(world, settings):
    settings.AUDIT_ANCHOR_MINUTES = 60
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _events(world, 1)
        assert anchor_if_due() is True
        assert anchor_if_due() is False  # nothing moved
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        _events(world, 1)
        assert anchor_if_due() is False  # moved, but the last anchor is ten minutes old
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        assert anchor_if_due() is True
        assert anchor_if_due() is False
    lines = anchors.default_path().read_text().splitlines()
    assert len(lines) == 2
    assert json.loads(lines[-1])["count"] == AuditHead.objects.get(id=1).count
    assert verify().ok
