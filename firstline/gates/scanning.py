"""Scans and visits sent by gate phones: stored once, judged by the server's full knowledge.

A gate phone checks passes offline and queues what it saw; it sends the queue when
it has signal, possibly twice. Each item carries a ``client_id`` made on the phone:
the same id with the same payload is the same scan (``duplicate``, the first result
again), with another payload a ``GateConflict`` kept for a person to look at
(``conflict``, nothing applied). A scan of a guard who was not on duty at that gate
at that moment is ``rejected`` and leaves no trace; any other scan is stored, even a
refused pass: the guard saw a red stop and the record stays.

A stored scan is judged again here, under a row lock of its pass so that the same
pass scanned at two gates at once changes its presence once: the token's signature,
window and gate, the pass's current state (revoked, suspended), then the rules of the
gate — pass-back (out while out), the household's outing quota, late return — and
the fever rule of the screening (a temperature with a resident is a reading).
The scan is written once, with its verdict, after everything it depends on was read.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from firstline import prepared
from firstline.audit.log import record
from firstline.gates import duty, tokens
from firstline.gates.actions import cached_verifying_keys
from firstline.gates.models import GateConflict, Outing, Pass, Scan, Shift, Visit
from firstline.gates.rules import GateRuleSet, gate_rules_for
from firstline.people.idcard import InvalidPhone, normalise_phone
from firstline.places.models import Gate, Household
from firstline.schemas import holds_nul
from firstline.scoping import memberships_with, role_for
from firstline.sealing import blind_index, mask_phone, seal
from firstline.status.actions import clean_temperature, record_reading
from firstline.status.models import CheckIn
from firstline.status.rules import risk_area_for, rules_for
from firstline.tasks.actions import close_tasks, open_task
from firstline.tasks.models import Task

logger = logging.getLogger(__name__)

# A phone's clock may run a little fast; further ahead is a wrong clock, not a scan.
FUTURE_TOLERANCE = timedelta(minutes=5)
# The server's own revocation list is never stale: it is checked as if issued at the scan.
SERVER_LIST_AGE = timedelta(days=3650)

STORED, DUPLICATE, CONFLICT, REJECTED = "stored", "duplicate", "conflict", "rejected"

# What the guard reads next to each result, by reason or flag (the phone shows it as sent).
MESSAGES = {
    # rejected: nothing stored
    "unknown_gate": gettext_lazy("Unknown gate."),
    "not_on_duty": gettext_lazy("Not on duty at this gate at that time."),
    "no_pass": gettext_lazy("Scan the pass or type its short code (one of the two)."),
    "bad_direction": gettext_lazy("The direction is in or out."),
    "bad_temperature": gettext_lazy("The temperature is not a body temperature."),
    "bad_client_id": gettext_lazy("The record's id is not a UUID."),
    "bad_time": gettext_lazy("The time must be a date and time with its offset."),
    "future_time": gettext_lazy("The scan time is in the future: check the phone's clock."),
    "bad_phone": gettext_lazy("This phone number is not valid."),
    "bad_kind": gettext_lazy("A registration is of a visitor or a vehicle."),
    "bad_text": gettext_lazy("The record holds an invisible control character (NUL): it cannot be stored."),
    "conflict": gettext_lazy("This record was sent before with other content: kept for review."),
    # refused: stored, the holder may not pass
    "malformed": gettext_lazy("Not a pass code."),
    "unknown_key": gettext_lazy("Pass signed by an unknown key."),
    "bad_signature": gettext_lazy("Forged or damaged pass."),
    "wrong_gate": gettext_lazy("The pass is not valid at this gate."),
    "not_yet_valid": gettext_lazy("The pass is not valid yet."),
    "expired": gettext_lazy("The pass has expired."),
    "stale_revocation_list": gettext_lazy("The revocation list is too old: sync the phone."),
    "revoked": gettext_lazy("The pass has been revoked."),
    "suspended": gettext_lazy("The pass is suspended: the household is under home isolation."),
    "unknown_pass": gettext_lazy("No such pass in this community."),
    "clock_moved_back": gettext_lazy("The phone's clock was moved back."),
    # flagged: passed, but somebody should know
    "passback": gettext_lazy("Already recorded in this direction: the last scan is missing."),
    "over_quota": gettext_lazy("The household's outings for this period are used up."),
    "late_return": gettext_lazy("Back later than allowed."),
    "fever": gettext_lazy("Fever: refer to the fever clinic."),
    "from_risk_area": gettext_lazy("Coming from a risk area."),
}
RULE_FLAGS = ("fever", "over_quota", "late_return", "passback", "from_risk_area")


@dataclass
class ScanResult:
    """What became of one item: stored / duplicate / conflict / rejected, and the verdict of the stored scan."""

    client_id: uuid.UUID | str
    status: str
    verdict: str = ""
    reason: str = ""
    flags: list[str] = field(default_factory=list)
    record: Scan | Visit | None = None

    @property
    def message(self) -> str:
        """A sentence for the guard in the active language: the refusal or rejection, else the first flag."""
        key = self.reason if self.status in (REJECTED, CONFLICT) or self.verdict == Scan.Verdict.REFUSED else ""
        if not key:
            key = next((flag for flag in RULE_FLAGS if flag in self.flags), "")
        return str(MESSAGES.get(key, "")) if key else ""


class Rejected(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def digest(payload: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a payload (sorted keys, no spaces)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


_WRITER = threading.Lock()
_LOCK_FILES: dict[tuple[int, str], Any] = {}


# While a thread holds the write lock, the interpreter hands it the GIL back within 0.2 ms (not the
# default 5 ms) after each SQLite statement: the other worker's writers are waiting on that lock
# (docs/benchmarks.md "Gate scans": 17 → 22-23 % of the bare view in the same runs).
WRITER_SWITCH_INTERVAL = 0.0002


@contextmanager
def one_writer() -> Iterator[None]:
    """On a SQLite file, the scans' write transactions one at a time across the server's processes.

    SQLite has one writer; a second one waits in its busy handler, which sleeps in growing
    steps (1, 2, 5, 10 ... 100 ms) and so wakes long after the lock is free: at 8 concurrent
    scans the p99 was 0.5 s. Queued here (a thread lock, then ``flock`` on a file next to the
    database, one open file per process), the next writer wakes as soon as the last one is
    done; while it holds the lock its thread gets the GIL back quickly (``WRITER_SWITCH_INTERVAL``).
    Elsewhere (PostgreSQL, an in-memory test database, inside an outer transaction that may
    already hold the database's lock) it does nothing.
    """
    in_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()  # type: ignore[attr-defined]
    if connection.vendor != "sqlite" or connection.in_atomic_block or in_memory:
        yield
        return
    with _WRITER:
        path = str(connection.settings_dict["NAME"]) + "-writer.lock"
        held = _LOCK_FILES.get((os.getpid(), path))  # by process: a file opened before a fork is shared
        if held is None:
            held = _LOCK_FILES[os.getpid(), path] = open(path, "a")  # noqa: SIM115 (kept open)
        fcntl.flock(held, fcntl.LOCK_EX)
        interval = sys.getswitchinterval()
        sys.setswitchinterval(WRITER_SWITCH_INTERVAL)
        try:
            yield
        finally:
            sys.setswitchinterval(interval)
            fcntl.flock(held, fcntl.LOCK_UN)


# --- checks shared by scans and visits ------------------------------------------------------------


def _client_uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise Rejected("bad_client_id") from None


def _moment(value: Any, now: datetime) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise Rejected("bad_time") from None
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise Rejected("bad_time")  # a time without its offset cannot be placed; the phone sends both
    if value > now + FUTURE_TOLERANCE:
        raise Rejected("future_time")
    return value


def _temperature(value: Any) -> Decimal | None:
    try:
        return clean_temperature(value)
    except ValidationError:
        raise Rejected("bad_temperature") from None


def _direction(value: Any) -> str:
    if value not in Scan.Direction.values:
        raise Rejected("bad_direction")
    return str(value)


GATE_CACHE_SECONDS = 60


def _gate(user: Any, code: Any, gates: dict[str, Gate | None]) -> Gate:
    """The gate named ``code`` that the user may guard (``role_for``: the scope check, made on every item).

    The row is kept a minute in the cache by code (a gate's code and place do not change;
    a new gate is read at once), and once per batch.
    """
    code = str(code or "")
    if code not in gates:
        key = f"gates:gate:{code}"
        gate = cache.get(key) if code else None
        if gate is None and code and memberships_with(user, "guard_gate"):
            gate = Gate.objects.filter(code=code).first()
            if gate is not None:
                cache.set(key, gate, GATE_CACHE_SECONDS)
        gates[code] = gate
    gate = gates[code]
    if gate is None or not role_for(user, "guard_gate", gate):
        raise Rejected("unknown_gate")
    return gate


def _on_duty(user: Any, gate: Gate, at: datetime) -> Shift | None:
    allowed, shift = duty.on_duty(user, gate, at)
    if not allowed:
        raise Rejected("not_on_duty")
    return shift


def _conflict(user: Any, gate: Gate, client_id: uuid.UUID, kind: str, payload: dict[str, Any]) -> None:
    GateConflict.objects.create(
        client_id=client_id,
        kind=kind,
        payload=payload,
        gate=gate,
        street_id=gate.street_id,
        community_id=gate.community_id,
        sent_by=user,
    )


# --- scans ---------------------------------------------------------------------------------------


@dataclass
class _ScanItem:
    client_id: uuid.UUID
    token: str
    short_code: str
    gate: Gate
    direction: str
    temperature: Decimal | None
    scanned_at: datetime

    def payload(self) -> dict[str, Any]:
        """What the phone said, canonical: the same scan sent again hashes the same, whatever its zone."""
        return {
            "token": self.token or None,
            "short_code": self.short_code or None,
            "gate": self.gate.code,
            "direction": self.direction,
            "temperature": str(self.temperature) if self.temperature is not None else None,
            "scanned_at": self.scanned_at.astimezone(UTC).isoformat(),
        }


def _scan_item(user: Any, raw: dict[str, Any], now: datetime, gates: dict[str, Gate | None]) -> _ScanItem:
    if holds_nul(raw):
        raise Rejected("bad_text")
    token = (raw.get("token") or "").strip()
    typed = (raw.get("short_code") or "").strip()
    if bool(token) == bool(typed):
        raise Rejected("no_pass")
    return _ScanItem(
        client_id=_client_uuid(raw.get("client_id")),
        token=token,
        short_code=typed,
        direction=_direction(raw.get("direction")),
        temperature=_temperature(raw.get("temperature")),
        scanned_at=_moment(raw.get("scanned_at"), now),
        gate=_gate(user, raw.get("gate"), gates),
    )


def _result_of(scan: Scan, status: str) -> ScanResult:
    return ScanResult(scan.client_id, status, scan.verdict, scan.reason, list(scan.flags), scan)


def ingest_scans(user: Any, items: list[dict[str, Any]], request: Any = None) -> list[ScanResult]:
    """Store a batch of scans sent by a gate phone, each in its own transaction; one result per item, in order.

    No audit event: each scan is itself an append-only record of who (``recorded_by``, ``shift``), where
    and when, and an event per request would add a second write transaction on the audit chain's one
    head row to every scan (check-ins record none either).
    """
    now = timezone.now()
    gates: dict[str, Gate | None] = {}
    return [_ingest_scan(user, raw, now, gates, request) for raw in items]


def _ingest_scan(
    user: Any, raw: dict[str, Any], now: datetime, gates: dict[str, Gate | None], request: Any
) -> ScanResult:
    client_id = raw.get("client_id", "")
    try:
        item = _scan_item(user, raw, now, gates)
        client_id = item.client_id
        payload = item.payload()
        payload_hash = digest(payload)
        try:
            shift = _on_duty(user, item.gate, item.scanned_at)
        except Rejected:
            existing = Scan.objects.filter(client_id=item.client_id).first()  # sent again after the shift
            if existing is None:
                raise
        else:
            # Read-only work before the write transaction: on SQLite it holds the database's one write lock.
            checked = _verify(item)
            rules = gate_rules_for(item.gate.community_id)
            try:
                with one_writer(), transaction.atomic():
                    return _result_of(_store_scan(user, item, payload_hash, shift, checked, rules, request), STORED)
            except IntegrityError:  # the id is stored already: sent again, or at the same moment by a second connection
                existing = Scan.objects.filter(client_id=item.client_id).first()
                if existing is None:
                    raise
        if existing.payload_hash == payload_hash:
            return _result_of(existing, DUPLICATE)
        _conflict(user, item.gate, item.client_id, "scan", payload)
        return ScanResult(item.client_id, CONFLICT, existing.verdict, "conflict", list(existing.flags), existing)
    except Rejected as rejected:
        return ScanResult(client_id, REJECTED, reason=rejected.reason)


@dataclass
class _Checked:
    """What the token alone says, before the pass is read: its serial (None if not one of ours), a refusal."""

    serial: int | None
    reason: str
    linked: bool  # whether a pass is looked up (not for a forged or foreign token, nor an unreadable short code)


def _verify(item: _ScanItem) -> _Checked:
    """The token's signature, window and gate, checked before the write transaction (no query).

    A typed short code has nothing to verify: its pass is looked up and checked by ``_scanned_pass``.
    """
    gate = item.gate
    if item.short_code:
        return _Checked(None, "", tokens.short_code_value(item.short_code) is not None)
    try:
        claims = tokens.verify(
            item.token,
            keys=cached_verifying_keys(tokens.parse(item.token)[0].key_id, item.scanned_at),
            revocations=_no_revocations(gate.community_id, item.scanned_at),
            community=gate.community_id,
            gate=gate.id,
            now=item.scanned_at,
            max_list_age=SERVER_LIST_AGE,
        )
    except tokens.Refused as refused:
        if refused.reason in ("malformed", "unknown_key", "bad_signature"):
            return _Checked(None, refused.reason, False)  # not a pass we signed: nothing to link it to
        return _Checked(tokens.parse(item.token)[0].serial, refused.reason, True)
    return _Checked(claims.serial, "", True)


def _scanned_pass(item: _ScanItem, checked: _Checked) -> tuple[Pass | None, int | None, str]:
    """The scanned pass, locked (None if unknown or forged), its serial, and the refusal reason ("" when it may pass).

    Read once, inside the scan's write transaction and under the row's lock, so that its presence
    and its state are those the scan is judged on. Revoked and suspended are read from the pass
    itself, as for a typed code: the community's revocation list is made from these states in the
    transaction that changes one, so the row is the list's source, never older than it.
    """
    gate = item.gate
    if not checked.linked:
        return None, checked.serial, checked.reason or "unknown_pass"
    if item.short_code:
        value = tokens.short_code_value(item.short_code)
        assert value is not None
        code = "".join(tokens.CROCKFORD[(value >> shift) & 31] for shift in range(30, -1, -5))
        found = Pass.objects.select_for_update().filter(community_id=gate.community_id, short_code=code).first()
        if found is None:
            return None, None, "unknown_pass"
        return found, found.serial, _typed_refusal(found, gate, item.scanned_at)
    # Only a pass of the gate's own community is linked (a wrong community's pass is someone else's record).
    found = _locked_pass(checked.serial, gate.community_id)
    if found is None:
        return None, checked.serial, checked.reason or "unknown_pass"
    return found, checked.serial, checked.reason or _state_refusal(found)


# The statements below run on every scan: written once (``firstline.prepared`` says why, with the numbers).


@functools.cache
def _locked_pass_sql(vendor: str) -> str:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""  # SQLite: the write lock
    return (
        f"SELECT {prepared.columns(Pass)} FROM {prepared.table(Pass)}"  # noqa: S608 (names from _meta)
        f" WHERE {prepared.column(Pass, 'serial')} = %s AND {prepared.column(Pass, 'community')} = %s{lock}"
    )


def _locked_pass(serial: int | None, community_id: int) -> Pass | None:
    """``Pass.objects.select_for_update().filter(serial=, community_id=).first()`` (the serial is unique)."""
    rows = prepared.fetch(_locked_pass_sql(connection.vendor), [serial, community_id])
    return prepared.instance(Pass, rows[0]) if rows else None


def _no_revocations(community_id: int, at: datetime) -> tokens.Revocations:
    """An empty list issued at the scan: the token's own checks, the pass's state is checked from its row."""
    return tokens.Revocations(community=community_id, version=0, issued_at=int(at.timestamp()), serials=frozenset())


def _state_refusal(item: Pass) -> str:
    if item.state == Pass.State.REVOKED:
        return "revoked"
    if item.state == Pass.State.SUSPENDED:
        return "suspended"
    return ""


def _typed_refusal(item: Pass, gate: Gate, at: datetime) -> str:
    """The checks of ``tokens.verify`` for a pass found by its typed short code, in the same order."""
    if item.gate_id not in (None, gate.id):
        return "wrong_gate"
    if at < item.valid_from:
        return "not_yet_valid"
    if at >= item.valid_until:
        return "expired"
    return _state_refusal(item)


def _store_scan(
    user: Any,
    item: _ScanItem,
    payload_hash: str,
    shift: Shift | None,
    checked: _Checked,
    rules: GateRuleSet,
    request: Any,
) -> Scan:
    """Judge the scan under its pass's lock, then write it once with its verdict, then what the crossing changes."""
    # From here on this pass's scans queue behind each other: its presence changes once per real crossing.
    found, serial, reason = _scanned_pass(item, checked)
    gate = item.gate
    scan = Scan(
        client_id=item.client_id,
        payload_hash=payload_hash,
        pass_obj=found,
        serial=serial,
        gate=gate,
        street_id=gate.street_id,
        community_id=gate.community_id,
        household_id=found.household_id if found is not None else None,
        direction=item.direction,
        temperature=item.temperature,
        scanned_at=item.scanned_at,
        verdict=Scan.Verdict.REFUSED if reason else Scan.Verdict.PASSED,
        reason=reason,
        flags=["typed"] if item.short_code else [],
        recorded_by=user,
        shift=shift,
    )
    crossing: Crossing | None = None
    if found is not None:
        if not reason:
            crossing = _judge_crossing(scan, found, rules)
        if found.resident_id is not None and item.temperature is not None:
            _take_reading(user, scan, found, request)
    flagged = [flag for flag in RULE_FLAGS if flag in scan.flags]
    if flagged and scan.verdict == Scan.Verdict.PASSED:
        scan.verdict, scan.reason = Scan.Verdict.FLAGGED, flagged[0]
    prepared.insert(scan)
    if crossing is not None:
        _apply_crossing(scan, crossing)
    return scan


@dataclass
class Crossing:
    """What a valid crossing changes, decided before its scan is written: the pass's presence, an outing."""

    item: Pass
    opens: Outing | None = None  # going out: the outing to create (its scan is set once written)
    closes: Outing | None = None  # coming back: the open outing


def _judge_crossing(scan: Scan, item: Pass, rules: GateRuleSet) -> Crossing | None:
    """Presence follows a valid crossing; the same direction twice is a pass-back and changes nothing."""
    if scan.direction == item.presence:
        scan.flags.append("passback")
        return None
    crossing = Crossing(item)
    if item.kind != Pass.Kind.OUTING:
        return crossing  # workers and vehicles come and go: only residents' outings are counted and awaited
    if scan.direction == Scan.Direction.OUT:
        crossing.opens = _go_out(scan, item, rules)
    else:
        crossing.closes = _come_back(scan, item)
    return crossing


def _apply_crossing(scan: Scan, crossing: Crossing) -> None:
    item = crossing.item
    item.presence, item.presence_changed_at = scan.direction, scan.scanned_at
    prepared.update(item, ("presence", "presence_changed_at"))
    if crossing.opens is not None:
        crossing.opens.out_scan = scan
        prepared.insert(crossing.opens)
    outing = crossing.closes
    if outing is not None:
        outing.back_at, outing.back_scan = scan.scanned_at, scan
        prepared.update(outing, ("back_at", "back_scan"))
        if outing.overdue_task_id is not None:  # set with the task by gates.jobs.flag_overdue_outings
            close_tasks(Q(dedupe_key=f"overdue:{outing.id}"), _("Back through the gate."), by=scan.recorded_by)


def _go_out(scan: Scan, item: Pass, rules: GateRuleSet) -> Outing:
    if item.household_id is not None:
        others = _others_out(item, since=scan.scanned_at - rules.outing_period, until=scan.scanned_at)
        if others >= rules.outing_people:
            scan.flags.append("over_quota")  # recorded all the same: the person is already out
    return Outing(
        pass_obj=item,
        household_id=item.household_id,
        street_id=item.street_id,
        community_id=item.community_id,
        grid_id=item.grid_id,
        building_id=item.building_id,
        out_at=scan.scanned_at,
        due_back_at=scan.scanned_at + rules.outing_length,
    )


@functools.cache
def _others_out_sql(vendor: str) -> str:
    pass_obj = prepared.column(Outing, "pass_obj")
    out_at = prepared.column(Outing, "out_at")
    return (
        f"SELECT COUNT(DISTINCT {pass_obj}) FROM {prepared.table(Outing)}"  # noqa: S608 (names from _meta)
        f" WHERE {prepared.column(Outing, 'household')} = %s AND {out_at} > %s AND {out_at} <= %s AND {pass_obj} <> %s"
    )


def _others_out(item: Pass, since: datetime, until: datetime) -> int:
    """How many other passes of the household went out in ``(since, until]`` (the outing quota's count)."""
    params = [item.household_id, prepared.param(Outing, "out_at", since), prepared.param(Outing, "out_at", until)]
    return int(prepared.fetch(_others_out_sql(connection.vendor), [*params, item.pk])[0][0])


@functools.cache
def _open_outing_sql(vendor: str) -> str:
    return (
        f"SELECT {prepared.columns(Outing)} FROM {prepared.table(Outing)}"  # noqa: S608 (names from _meta)
        f" WHERE {prepared.column(Outing, 'pass_obj')} = %s AND {prepared.column(Outing, 'back_at')} IS NULL"
        f" ORDER BY {prepared.column(Outing, 'out_at')} DESC LIMIT 1"
    )


def _open_outing(item: Pass) -> Outing | None:
    """The pass's latest outing not back yet, if any."""
    rows = prepared.fetch(_open_outing_sql(connection.vendor), [item.pk])
    return prepared.instance(Outing, rows[0]) if rows else None


def _come_back(scan: Scan, item: Pass) -> Outing | None:
    outing = _open_outing(item)
    if outing is not None and scan.scanned_at > outing.due_back_at:
        scan.flags.append("late_return")
    return outing


def _take_reading(user: Any, scan: Scan, item: Pass, request: Any) -> None:
    """A temperature taken at the gate is a reading of the holder: the screening's fever rule follows."""
    resident = item.resident
    assert resident is not None
    scan.reading = record_reading(
        resident,
        temperature=scan.temperature,
        symptoms=[],
        source=CheckIn.Source.GATE,
        taken_at=scan.scanned_at,
        actor=user,
        role=role_for(user, "guard_gate", scan.gate),
        request=request,
    )
    if scan.reading.is_fever:
        scan.flags.append("fever")


# --- visits --------------------------------------------------------------------------------------


@dataclass
class _VisitItem:
    client_id: uuid.UUID
    kind: str
    gate: Gate
    direction: str
    name: str
    phone: str
    origin: str
    host: str
    reason: str
    plate: str
    cargo: str
    temperature: Decimal | None
    at: datetime

    def payload(self, *, masked: bool = False) -> dict[str, Any]:
        """Canonical content; the phone as a keyed hash (or masked, for a conflict a person will read)."""
        phone = mask_phone(self.phone) if masked else blind_index(self.phone, "phone")
        return {
            "kind": self.kind,
            "gate": self.gate.code,
            "direction": self.direction,
            "name": self.name,
            "phone": phone if self.phone else "",
            "origin": self.origin,
            "host": self.host,
            "reason": self.reason,
            "plate": self.plate,
            "cargo": self.cargo,
            "temperature": str(self.temperature) if self.temperature is not None else None,
            "at": self.at.astimezone(UTC).isoformat(),
        }


def _text(raw: dict[str, Any], name: str, limit: int) -> str:
    return str(raw.get(name) or "").strip()[:limit]


def _phone(value: Any) -> str:
    value = str(value or "").strip()
    if not value:
        return ""
    try:
        return normalise_phone(value)
    except InvalidPhone:
        raise Rejected("bad_phone") from None


def _visit_item(user: Any, raw: dict[str, Any], now: datetime, gates: dict[str, Gate | None]) -> _VisitItem:
    if holds_nul(raw):
        raise Rejected("bad_text")
    kind = raw.get("kind")
    if kind not in Visit.Kind.values:
        raise Rejected("bad_kind")
    return _VisitItem(
        client_id=_client_uuid(raw.get("client_id")),
        kind=str(kind),
        direction=_direction(raw.get("direction") or Scan.Direction.IN),
        name=_text(raw, "name", 50),
        phone=_phone(raw.get("phone")),
        origin=_text(raw, "origin", 100),
        host=_text(raw, "host", 100),
        reason=_text(raw, "reason", 200),
        plate=_text(raw, "plate", 16).upper(),
        cargo=_text(raw, "cargo", 100),
        temperature=_temperature(raw.get("temperature")),
        at=_moment(raw.get("at"), now),
        gate=_gate(user, raw.get("gate"), gates),
    )


def ingest_visits(user: Any, items: list[dict[str, Any]], request: Any = None) -> list[ScanResult]:
    """Store a batch of visitor and vehicle registrations, each in its own transaction (as ``ingest_scans``)."""
    now = timezone.now()
    gates: dict[str, Gate | None] = {}
    results = [_ingest_visit(user, raw, now, gates) for raw in items]
    _audit_batch(user, "visit", results, gates, request)
    return results


def _visit_result(visit: Visit, status: str) -> ScanResult:
    verdict = Scan.Verdict.FLAGGED if visit.flags else Scan.Verdict.PASSED
    return ScanResult(visit.client_id, status, verdict, visit.flags[0] if visit.flags else "", list(visit.flags), visit)


def _ingest_visit(user: Any, raw: dict[str, Any], now: datetime, gates: dict[str, Gate | None]) -> ScanResult:
    client_id = raw.get("client_id", "")
    try:
        item = _visit_item(user, raw, now, gates)
        client_id = item.client_id
        payload_hash = digest(item.payload())
        existing = Visit.objects.filter(client_id=item.client_id).first()
        if existing is None:
            shift = _on_duty(user, item.gate, item.at)
            try:
                with transaction.atomic():
                    return _visit_result(_store_visit(user, item, payload_hash, shift), STORED)
            except IntegrityError:
                existing = Visit.objects.filter(client_id=item.client_id).first()
                if existing is None:
                    raise
        if existing.payload_hash == payload_hash:
            return _visit_result(existing, DUPLICATE)
        _conflict(user, item.gate, item.client_id, "visit", item.payload(masked=True))
        result = _visit_result(existing, CONFLICT)
        result.reason = "conflict"
        return result
    except Rejected as rejected:
        return ScanResult(client_id, REJECTED, reason=rejected.reason)


def _store_visit(user: Any, item: _VisitItem, payload_hash: str, shift: Shift | None) -> Visit:
    gate = item.gate
    visit = Visit(
        client_id=item.client_id,
        payload_hash=payload_hash,
        kind=item.kind,
        gate=gate,
        street_id=gate.street_id,
        community_id=gate.community_id,
        direction=item.direction,
        name=item.name,
        phone_sealed=seal(item.phone, "phone") if item.phone else None,
        phone_masked=mask_phone(item.phone) if item.phone else "",
        origin=item.origin,
        host=item.host,
        host_household=_host_household(gate, item.host),
        reason=item.reason,
        plate=item.plate,
        cargo=item.cargo,
        temperature=item.temperature,
        at=item.at,
        recorded_by=user,
        shift=shift,
    )
    at_gate = {"gate": gate.name}
    if rules_for(gate.community_id).is_fever(item.temperature):
        visit.flags.append("fever")
    area = risk_area_for(gate.street_id, item.origin, timezone.localdate(item.at)) if item.origin else None
    if area is not None:
        visit.flags.append("from_risk_area")
    visit.save()
    # The task names the gate and the time, never the visitor: the visit (masked) is where to look.
    if "fever" in visit.flags:
        note = _("A visitor at %(gate)s has a fever (%(temperature)s °C).")
        _gate_task(visit, note % {**at_gate, "temperature": item.temperature}, "fever")
    if area is not None:
        _gate_task(visit, _("A visitor at %(gate)s comes from a risk area.") % at_gate, "risk")
    return visit


def _gate_task(visit: Visit, note: str, rule: str) -> Task:
    return open_task(
        Task.Kind.GATE,
        place=visit.gate,
        level=Task.Level.COMMUNITY,
        urgent=rule == "fever",
        note=note,
        source=f"visit:{visit.client_id.hex}",
        dedupe_key=f"visit-{rule}:{visit.client_id.hex}",
        at=visit.at,
    )


def _host_household(gate: Gate, host: str) -> Household | None:
    """The household visited, when ``host`` is exactly its address ("1栋 501"); otherwise unknown."""
    parts = host.split()
    if len(parts) < 2:
        return None
    candidates = Household.objects.filter(
        community_id=gate.community_id, building__name=parts[0], room=parts[-1]
    ).select_related("building", "entrance")
    matches = [household for household in candidates if household.address == " ".join(parts)]
    return matches[0] if len(matches) == 1 else None


# --- the audit trail ---------------------------------------------------------------


def _audit_batch(user: Any, kind: str, results: list[ScanResult], gates: dict[str, Gate | None], request: Any) -> None:
    """One event per batch that stored something: counts only (each row already says who and when)."""
    stored = [result for result in results if result.status == STORED]
    if not stored:
        return
    gate = next(gate for gate in gates.values() if gate is not None)
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    record(
        "create",
        actor=user,
        role=role_for(user, "guard_gate", gate),
        object_type=kind,
        object_code=gate.code,
        community_id=gate.community_id,
        detail=counts,
        request=request,
    )
