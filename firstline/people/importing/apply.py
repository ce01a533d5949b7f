"""Apply a parsed sheet to one community's ledger: merge, never duplicate; all or nothing.

The parser (``parse.read_sheet``) turns a file into rows of canonical fields and
problems; this module decides what each row does to the ledger and writes it. An
import runs the parser in a child process (``background.reading``) and plans the
rows here chunk by chunk as they arrive, so parsing and planning use both cores.

*Look up.* The community's buildings, entrances and households, and the blind
indexes of its residents' ID numbers, are loaded once into dicts; the residents
whose ID numbers appear in each chunk of rows are then loaded. No query per row.

*Plan.* Every row gets one outcome:

- ``updated`` — the ID number matches a resident of the community and a non-empty
  value differs: the resident gets a new ``ResidentVersion`` listing the changes
  (ID numbers and phones masked), with the reason "Import: <source> <batch>";
- ``unchanged`` — the ID number matches and nothing differs;
- ``created`` — no match: a new resident, in the household of the row's address
  (created, with its entrance, when the building exists but the room does not);
- ``possible_duplicate`` — no ID number match, but the same name and phone as a
  resident (without an ID number), or the same name in the same household: never
  merged automatically, listed for review;
- ``error`` — a problem from the parser, or from the ledger (unknown building…).

Rules that make re-importing the same file change nothing: an empty cell never
clears a stored value; an arrival movement is added only if the same (resident,
arrival date, origin, trip number) is not recorded yet; a row without an ID
number is never merged automatically. The address of a resident found by ID
number is not used to move them (moving house is its own action).

*Screen.* An arrival from a risk area is isolated like any other arrival: the
names of the street's risk areas are loaded once, and only the arrivals whose
origin contains one go through ``status.actions.screen_arrival`` (which checks the
dates), inside the import's transaction — a list of returning staff from an
enterprise is registered and screened in one step, or not at all.

*Write.* By default a file with any problem is refused whole; ``accept_valid``
applies the valid rows. Everything is written in one ``transaction.atomic`` —
bulk inserts with ``executemany`` (the approach of ``demo.build``, without model
instances), one audit event for the whole import — so killing the process at any
moment leaves the database as it was, and running the import again completes it.
While the transaction runs, progress written to the database would stay invisible
to others until the commit (and SQLite holds its one write lock throughout), so it
goes to a small JSON file beside the stored upload instead, replaced atomically
every ``PROGRESS_EVERY`` rows; the web page polls it.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from firstline.audit.log import record
from firstline.codes import ALPHABET
from firstline.people.actions import seal_fields
from firstline.people.importing import background
from firstline.people.importing.parse import ParsedRow, ParsedSheet, Problem, UnreadableFile
from firstline.people.importing.reader import with_limits
from firstline.people.models import ImportJob, ImportProblem, ImportRow, Movement, Resident, ResidentVersion, Status
from firstline.places.models import Building, Community, Entrance, Household, bump_map_version
from firstline.scoping import require
from firstline.sealing import blind_index, mask_id_number, mask_phone
from firstline.status.actions import screen_arrival, settle
from firstline.status.models import Reason, RiskArea
from firstline.status.rules import normalise_place

PROGRESS_EVERY = 1000
PREVIEW_BATCH = 1000  # problems written per transaction while a file is read for its preview
CHUNK = 2000  # rows per executemany and per IN (...) lookup
STORED_HOURS = 24  # an upload not applied or refused is deleted after this long

# Resident fields an import may set. Empty cells never clear them.
RESIDENT_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_type",
    "relation_to_head",
    "person_type",
    "domicile",
    "workplace",
    "notes",
)
SEALED_COLUMNS = (
    "id_number_sealed",
    "id_number_index",
    "id_number_masked",
    "phone_sealed",
    "phone_index",
    "phone_masked",
)
MOVEMENT_FIELDS = ("origin", "destination", "departed_on", "arrived_on", "transport", "trip_number")
# The row's fields kept on ImportRow.extra: what a list from above says beyond the resident record.
EXTRA_FIELDS = (
    "origin",
    "destination",
    "departed_on",
    "departed_at",
    "arrived_on",
    "transport",
    "trip_number",
    "carriage",
    "seat",
    "companions",
    "temperature",
    "symptoms",
    "measures",
    "isolation_place",
    "isolation_start",
    "isolation_end",
    "batch",
)
EXTRA_SET = frozenset(EXTRA_FIELDS)
RESIDENT_SET = frozenset(RESIDENT_FIELDS)
CHOICES: dict[str, set[str]] = {
    "sex": set(Resident.Sex.values),
    "id_type": set(Resident.IdType.values),
    "relation_to_head": set(Resident.Relation.values),
    "person_type": set(Resident.PersonType.values),
    "transport": set(Movement.Transport.values),
}

LIMITS: dict[str, int] = {
    name: limit
    for model, names in ((Resident, RESIDENT_FIELDS), (Movement, MOVEMENT_FIELDS))
    for name in names
    if (limit := getattr(model._meta.get_field(name), "max_length", None))
}
# Problems found against the ledger (the parser has its own). Messages never hold the values.
MESSAGES: dict[str, Promise] = {
    "building_not_found": _("No building of this community matches this address."),
    "building_ambiguous": _("Several buildings of this community match this address: give the compound too."),
    "entrance_missing": _("This building has several entrances: give the entrance number."),
    "address_missing": _("A new resident needs an address in this community: building, and room in a block of flats."),
    "name_missing": _("A new resident needs a name."),
    "id_mismatch": _("The birth date or sex does not match the ID number."),
    "conflicting_rows": _("An earlier row of this file gives a different value for the same person."),
    "invalid_value": _("This value is not one the ledger accepts."),
    "too_long": _("This value is too long."),
    "possible_duplicate": _(
        "Possibly a resident already in the ledger (same name and phone, or same name in the same household): "
        "not imported, check by hand."
    ),
}
REASON = _("Import: %(source)s %(batch)s")
EXPIRED = _("The uploaded file was deleted after 24 hours: upload it again.")


def english(message: Any) -> str:
    with translation.override("en"):
        return str(message)


BUILDING_NUMBER = re.compile(r"(\d+|(?<![a-z])[a-z])(?:号楼|号栋|号幢|号院|栋|幢|座|号|楼)?$")
FULL_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
FULL_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
_CODE_TABLE = bytes(ord(ALPHABET[byte % len(ALPHABET)]) for byte in range(256))
assert 256 % len(ALPHABET) == 0, "public codes must stay uniform"


# --- files: the stored upload and the progress file


def imports_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def stored_path(job: ImportJob) -> Path:
    """Where the job's upload is kept: named by the job code, never by the user's file name."""
    return imports_dir() / f"{job.code}.{job.extension}"


def progress_path(code: str) -> Path:
    return imports_dir() / f"{code}.progress.json"


def write_progress(code: str, phase: str, done: int, total: int) -> None:
    """Replace the progress file atomically, so a reader never sees half of it."""
    path = progress_path(code)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(
        json.dumps({"phase": phase, "done": done, "total": total, "at": time.time(), "pid": os.getpid()}),
        encoding="utf-8",
    )
    os.replace(scratch, path)


def read_progress(code: str) -> dict[str, Any] | None:
    try:
        return json.loads(progress_path(code).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def discard_files(job: ImportJob) -> None:
    """Delete the stored upload and the progress file of ``job`` (applied, refused, failed or expired)."""
    for path in (stored_path(job), progress_path(job.code)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def purge_stale_uploads(now: datetime | None = None) -> int:
    """Delete uploads kept longer than ``STORED_HOURS``; their jobs that were waiting become failed."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=STORED_HOURS)
    removed = 0
    waiting = (ImportJob.Status.PARSING, ImportJob.Status.PREVIEWED, ImportJob.Status.APPLYING)
    for job in ImportJob.objects.filter(created_at__lt=cutoff, status__in=waiting):
        path = stored_path(job)
        if path.exists():
            path.unlink()
            removed += 1
        ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ImportJob.Status.FAILED, failure=english(EXPIRED), preview=[], finished_at=now
        )
        job.refresh_from_db()
        delete_rows(job)
    # Jobs that ended without writing to the ledger keep their rows for a day (the report), no longer.
    ended = ImportJob.objects.filter(
        created_at__lt=cutoff, status__in=(ImportJob.Status.FAILED, ImportJob.Status.REFUSED)
    ).filter(Q(problems__isnull=False) | Q(lines__isnull=False))
    for job in ended.distinct():
        delete_rows(job)
    for path in imports_dir().glob("*.progress.json*"):  # with the scratch copies a killed writer left
        if path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
    return removed


class Progress:
    """Writes ``done`` of ``total`` steps to the job's progress file every ``PROGRESS_EVERY`` rows."""

    def __init__(self, code: str | None, total: int) -> None:
        self.code, self.total, self.last = code, total, -PROGRESS_EVERY

    def __call__(self, phase: str, done: int, force: bool = False) -> None:
        if self.code is None or (not force and done - self.last < PROGRESS_EVERY):
            return
        self.last = done
        write_progress(self.code, phase, done, self.total)


# --- outcome


@dataclass
class Outcome:
    """What an import did (or, planned, would do). ``problems`` includes the parser's."""

    status: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    possible_duplicates: int = 0
    errors: int = 0
    problems: list[Problem] = field(default_factory=list)
    duplicates: list[Problem] = field(default_factory=list)  # one per possible duplicate, for the report

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "possible_duplicates": self.possible_duplicates,
            "errors": self.errors,
        }


def in_every_language(message: Any) -> dict[str, str]:
    """A lazy message rendered in each language of the site: ``{"en": …, "zh-hans": …}``."""
    rendered = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            rendered[language] = str(message)
    return rendered


def stored_problems(job: ImportJob | None, problems: Iterable[Problem]) -> list[ImportProblem]:
    """Problems as ``ImportProblem`` rows (unsaved): masked value, code, message in every language."""
    cache: dict[int, dict[str, str]] = {}
    records = []
    for p in problems:
        key = id(p.message)
        if key not in cache:  # the messages of one code are one lazy object: render each once
            cache[key] = in_every_language(p.message)
        records.append(
            ImportProblem(
                job=job,
                row=p.row,
                column=str(p.column)[:100],
                value=scrub(str(p.value))[:200],
                code=str(p.code)[:40],
                messages=cache[key],
            )
        )
    return records


def scrub(text: str) -> str:
    """Mask anything that looks like a full ID number or mobile (the parser masks them already: belt and braces)."""
    text = FULL_ID.sub(lambda m: mask_id_number(m.group()), text)
    return FULL_MOBILE.sub(lambda m: mask_phone(m.group()), text)


def translated(text: str) -> str:
    """A message stored as its English source (a job's failure), in the active language."""
    return with_limits(gettext(text)) if text else ""


# --- the plan: objects to create, and what happens to each row


@dataclass(slots=True, eq=False)
class _Building:
    id: int
    name: str
    street_id: int
    grid_id: int
    compound: str  # normalised compound name, "" when none
    prefix: str  # what stands before the number in the name ("张庄" of 张庄12号)
    number: str | None
    entrances: list[int] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _NewEntrance:
    building_id: int
    number: int
    id: int | None = None


@dataclass(slots=True, eq=False)
class _NewHousehold:
    code: str
    building: _Building
    entrance: int | _NewEntrance | None
    room: str
    floor: int | None
    id: int | None = None


@dataclass(slots=True, eq=False)
class _Target:
    """A resident as the plan sees it: stored (``id`` known) or created by this import (``new``)."""

    id: int | None
    code: str = ""
    new: bool = False
    street_id: int = 0
    grid_id: int = 0
    building_id: int = 0
    household: int | _NewHousehold = 0
    values: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    changes: dict[str, list[Any]] = field(default_factory=dict)  # field → [before, after], shown masked
    said: dict[str, Any] = field(default_factory=dict)  # field → the value an earlier row of this file gave


@dataclass(slots=True)
class _RowPlan:
    row: int
    outcome: str
    target: _Target | None
    extra: dict[str, Any]
    movement: dict[str, Any] | None = None


def _norm(text: Any) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).lower()


def _same_place(hint: str, name: str) -> bool:
    return bool(hint and name) and (hint == name or hint in name or name in hint)


def building_key(name: str) -> tuple[str, str | None]:
    """``3栋`` → ("", "3"); ``3号楼`` → ("", "3"); ``张庄12号`` → ("张庄", "12"); ``A座`` → ("", "A")."""
    text = _norm(name)
    match = BUILDING_NUMBER.search(text)
    if not match:
        return text, None
    return text[: match.start()], building_number(match.group(1))


def building_number(token: str) -> str:
    """``"03"`` → ``"3"``, ``"a"`` → ``"A"``: the form the parser gives ``building_number`` in."""
    return str(int(token)) if token.isdigit() else token.upper()


def new_codes(count: int, length: int = 12) -> list[str]:
    """``count`` public codes as ``codes.new_code`` makes them (same alphabet, length, randomness), in bulk."""
    raw = os.urandom(count * length).translate(_CODE_TABLE).decode("ascii")
    return [raw[i : i + length] for i in range(0, count * length, length)]


def _mentions(origin: Any, terms: tuple[str, ...]) -> bool:
    text = normalise_place(str(origin or ""))
    return bool(text) and any(term in text for term in terms)


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


PLAIN_JSON = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if type(value) in PLAIN_JSON:
        return value
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _blank(value: Any) -> bool:
    return value is None or value == ""


class Planner:
    """Decides what every row of ``sheet`` does to the ledger of ``community``. Reads only."""

    def __init__(self, sheet: ParsedSheet, community: Community, progress: Progress | None = None) -> None:
        self.sheet, self.community, self.progress = sheet, community, progress
        self.headers: dict[str, str] = {}
        for column in sheet.columns:
            if column.field and column.field not in self.headers:
                self.headers[column.field] = column.header
        self.plans: list[_RowPlan] = []
        self.problems: list[Problem] = []
        self.duplicates: list[Problem] = []
        self.new_entrances: dict[tuple[int, int], _NewEntrance] = {}
        self.new_households: dict[tuple[int, Any, str], _NewHousehold] = {}
        self.new_residents: list[_Target] = []
        self.new_by_index: dict[str, _Target] = {}
        self.filled: set[Any] = set()  # households given a member by this import
        self.found_buildings: dict[tuple[Any, ...], tuple[_Building | None, str]] = {}
        self.scratch = Resident()  # reused: seal_fields needs a resident, not a saved one
        self.codes: list[str] = []

    # --- look up

    def load(self) -> None:
        compounds = dict(self.community.compounds.values_list("id", "name"))
        self.buildings: dict[int, _Building] = {}
        self.by_name: dict[str, list[_Building]] = {}
        self.by_number: dict[str, list[_Building]] = {}
        places = Building.objects.filter(community=self.community).order_by("id")
        for pk, name, street_id, grid_id, compound_id in places.values_list(
            "id", "name", "street_id", "grid_id", "compound_id"
        ):
            prefix, number = building_key(name)
            building = _Building(pk, name, street_id, grid_id, _norm(compounds.get(compound_id)), prefix, number)
            self.buildings[pk] = building
            self.by_name.setdefault(_norm(name), []).append(building)
            if number is not None:
                self.by_number.setdefault(number, []).append(building)
        self.known_places = {_norm(name) for name in compounds.values()} | {
            b.prefix for b in self.buildings.values() if b.prefix
        }
        self.entrances: dict[tuple[int, int], int] = {}
        entrances = Entrance.objects.filter(building__community=self.community).order_by("building_id", "number")
        for pk, building_id, entrance_number in entrances.values_list("id", "building_id", "number"):
            self.entrances[(building_id, entrance_number)] = pk
            self.buildings[building_id].entrances.append(pk)
        self.households: dict[tuple[int, int | None, str], int] = {}
        self.rooms: dict[tuple[int, str], list[int]] = {}
        self.household_building: dict[int, int] = {}
        households = Household.objects.filter(community=self.community)
        for pk, building_id, entrance_id, room in households.values_list("id", "building_id", "entrance_id", "room"):
            self.households[(building_id, entrance_id, room)] = pk
            self.rooms.setdefault((building_id, room), []).append(pk)
            self.household_building[pk] = building_id
        self._load_residents()

    def _load_residents(self) -> None:
        """The community's blind indexes, once; the residents the file names are looked up chunk by chunk."""
        self.by_index: dict[str, int] = {}
        self.by_name_phone: dict[tuple[str, str], int | _Target] = {}  # residents without an ID number
        self.by_name_household: dict[tuple[str, Any], int | _Target] = {}
        self.occupied: set[int] = set()
        self.names_without_id: set[str] = set()
        residents = Resident.objects.filter(community=self.community)
        for pk, index, name, phone_index, household_id in residents.values_list(
            "id", "id_number_index", "name", "phone_index", "household_id"
        ):
            self.occupied.add(household_id)
            if index:
                self.by_index[index] = pk
                continue
            self.names_without_id.add(name)
            if phone_index:
                self.by_name_phone[(name, phone_index)] = pk
            self.by_name_household[(name, household_id)] = pk
        self.row_index: dict[int, str] = {}
        self.targets: dict[int, _Target] = {}
        self.arrivals: set[tuple[Any, ...]] = set()

    def _look_up(self, rows: list[ParsedRow]) -> None:
        """The blind index of each row's ID number, and the residents they match with their arrivals."""
        wanted: set[int] = set()
        by_index, targets = self.by_index, self.targets
        for row in rows:
            number = row.fields.get("id_number")
            if number and row.ok:
                index = blind_index(str(number), "id_number")
                self.row_index[row.row] = index
                if index in by_index and by_index[index] not in targets:
                    wanted.add(by_index[index])
        plain = (*RESIDENT_FIELDS, "phone_index", "phone_masked", "id_number_masked")
        ids = sorted(wanted)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            for v in Resident.objects.filter(id__in=chunk).values(
                "id", "code", "version", "household_id", "street_id", "grid_id", "building_id", *plain
            ):
                self.targets[v["id"]] = _Target(
                    id=v["id"],
                    code=v["code"],
                    street_id=v["street_id"],
                    grid_id=v["grid_id"],
                    building_id=v["building_id"],
                    household=v["household_id"],
                    values={name: v[name] for name in plain},
                    version=v["version"],
                )
            self.arrivals.update(
                Movement.objects.filter(resident_id__in=chunk, direction=Movement.Direction.ARRIVAL).values_list(
                    "resident_id", "arrived_on", "origin", "trip_number"
                )
            )

    # --- plan

    def plan(self) -> Planner:
        """Plan every row, chunk by chunk: a sheet read in the background (``background``) is planned
        while the rest of it is parsed."""
        self.load()
        plans, progress = self.plans, self.progress
        for chunk in self.sheet.chunks(CHUNK):
            self._look_up(chunk)
            for row in chunk:
                plans.append(self._plan_row(row))
                if progress is not None:
                    progress("planning", len(plans))
        return self

    def _code(self) -> str:
        if not self.codes:
            self.codes = new_codes(2 * CHUNK)
        return self.codes.pop()

    def _problem(self, row: ParsedRow, code: str, fieldname: str, value: str = "") -> Problem:
        return Problem(row.row, self.headers.get(fieldname, ""), value, code, MESSAGES[code])

    def _error(self, row: ParsedRow, problems: list[Problem], extra: dict[str, Any]) -> _RowPlan:
        self.problems.extend(problems)
        return _RowPlan(row.row, ImportRow.Outcome.ERROR, None, extra)

    def _plan_row(self, row: ParsedRow) -> _RowPlan:
        f = row.fields
        extra = {name: _jsonable(value) for name, value in f.items() if name in EXTRA_SET and not _blank(value)}
        if not row.ok:
            return self._error(row, list(row.problems), extra)
        problems = self._check_values(row)
        if problems:
            return self._error(row, problems, extra)
        index = self.row_index.get(row.row)
        if index is not None:
            resident_id = self.by_index.get(index)
            target = self.targets.get(resident_id) if resident_id is not None else self.new_by_index.get(index)
            if target is not None:
                return self._merge(row, target, extra)
        name = str(f.get("name") or "").strip()
        household, problems = self._household(row)
        match = self._possible_duplicate(row, name, household)
        if match is not None:
            self.duplicates.append(self._problem(row, "possible_duplicate", "name"))
            target = match if isinstance(match, _Target) else _Target(id=match)
            return _RowPlan(row.row, ImportRow.Outcome.POSSIBLE_DUPLICATE, target, extra)
        if not name:
            problems.insert(0, self._problem(row, "name_missing", "name"))
        if problems or household is None:
            return self._error(row, problems, extra)
        return self._create(row, name, household, extra)

    def _check_values(self, row: ParsedRow) -> list[Problem]:
        problems = []
        for name, value in row.fields.items():
            if name in CHOICES and not _blank(value) and value not in CHOICES[name]:
                problems.append(self._problem(row, "invalid_value", name, str(value)[:40]))
            if name in LIMITS and isinstance(value, str) and len(value) > LIMITS[name]:
                problems.append(self._problem(row, "too_long", name))
        return problems

    def _possible_duplicate(self, row: ParsedRow, name: str, household: Any) -> int | _Target | None:
        """The same name and phone as a resident without an ID number, or the same name in the same household."""
        if name not in self.names_without_id:
            return None
        phone = row.fields.get("phone")
        match = self.by_name_phone.get((name, blind_index(str(phone), "phone"))) if phone else None
        if match is None and household is not None and not row.fields.get("id_number"):
            match = self.by_name_household.get((name, household))
        return match

    # --- addresses

    def _find_building(self, row: ParsedRow) -> tuple[_Building | None, str]:
        f = row.fields
        key = (f.get("building"), f.get("compound"), f.get("building_number"))
        found = self.found_buildings.get(key)
        if found is None:
            found = self.found_buildings[key] = self._building_for(*key)
        return found

    def _building_for(self, building: Any, compound_text: Any, number_text: Any) -> tuple[_Building | None, str]:
        written = str(building or "").strip()
        compound = _norm(compound_text)
        prefix, number = building_key(written) if written else ("", None)
        if not _blank(number_text):
            number = building_number(str(number_text))
        candidates: list[_Building] = self.by_name.get(_norm(written), []) if written else []
        if candidates and compound and len(candidates) > 1:
            candidates = [b for b in candidates if _same_place(compound, b.compound)] or candidates
        if not candidates and number is not None:
            candidates = self.by_number.get(number, [])
            for hint in (compound, prefix):
                if not hint or not candidates:
                    continue
                narrowed = [b for b in candidates if _same_place(hint, b.compound) or _same_place(hint, b.prefix)]
                if narrowed:
                    candidates = narrowed
                elif any(_same_place(hint, known) for known in self.known_places):
                    candidates = []  # the hint names another compound or hamlet of this community
        if not candidates:
            return None, "building_not_found" if (written or number or compound) else "address_missing"
        if len(candidates) > 1:
            return None, "building_ambiguous"
        return candidates[0], ""

    def _household(self, row: ParsedRow) -> tuple[int | _NewHousehold | None, list[Problem]]:
        """The row's household: found, or to be created (with its entrance) in a building that exists."""
        building, code = self._find_building(row)
        address = "address" if "address" in self.headers else "building"
        if building is None:
            # Only the place is shown (compound and building as written): never a room or a person.
            written = " ".join(str(row.fields.get(k) or "") for k in ("compound", "building")).strip()
            return None, [self._problem(row, code, address if code == "address_missing" else "building", written)]
        room = str(row.fields.get("room") or "").strip()
        number: Any = row.fields.get("entrance")
        entrance: int | _NewEntrance | None = None
        if not _blank(number):
            key = (building.id, int(number))
            entrance = self.entrances.get(key)
            if entrance is None:
                entrance = self.new_entrances.setdefault(key, _NewEntrance(building.id, key[1]))
        elif len(building.entrances) == 1:
            entrance = building.entrances[0]
        elif len(building.entrances) > 1:
            existing = self.rooms.get((building.id, room), []) if room else []
            if len(existing) == 1:
                return existing[0], []
            return None, [self._problem(row, "entrance_missing", "entrance" if "entrance" in self.headers else address)]
        if not room and entrance is not None:
            return None, [self._problem(row, "address_missing", "room" if "room" in self.headers else address)]
        if not isinstance(entrance, _NewEntrance):
            found = self.households.get((building.id, entrance, room))
            if found is not None:
                return found, []
        key2 = (building.id, entrance, room)
        household = self.new_households.get(key2)
        if household is None:
            floor = int(room[:-2]) if room.isdigit() and len(room) >= 3 else None
            household = self.new_households[key2] = _NewHousehold(self._code(), building, entrance, room, floor)
        return household, []

    # --- residents

    def _seal(self, values: dict[str, Any], id_number: str, phone: str) -> dict[str, Any]:
        """The sealed columns, through ``actions.seal_fields`` (ValidationError when the ID number disagrees)."""
        scratch = self.scratch
        scratch.id_type = values.get("id_type") or Resident.IdType.RESIDENT_ID
        scratch.birth_date = values.get("birth_date")
        scratch.sex = values.get("sex") or ""
        seal_fields(scratch, id_number, phone, trusted=True)  # the parser validated and normalised both
        values["birth_date"], values["sex"] = scratch.birth_date, scratch.sex
        return {name: getattr(scratch, name) for name in SEALED_COLUMNS}

    def _create(self, row: ParsedRow, name: str, household: int | _NewHousehold, extra: dict) -> _RowPlan:
        f = row.fields
        given = [key for key, value in f.items() if key in RESIDENT_SET and value is not None and value != ""]
        values: dict[str, Any] = {key: f[key] for key in given}
        values["name"] = name
        try:
            values.update(self._seal(values, str(f.get("id_number") or ""), str(f.get("phone") or "")))
        except ValidationError:
            return self._error(row, [self._problem(row, "id_mismatch", "id_number")], extra)
        building = household.building if isinstance(household, _NewHousehold) else None
        if building is None:
            building = self.buildings[self.household_building[household]]  # type: ignore[index]
        if "relation_to_head" not in values:
            alone = household not in self.occupied and household not in self.filled
            values["relation_to_head"] = Resident.Relation.HEAD if alone else Resident.Relation.OTHER
        self.filled.add(household)
        target = _Target(
            id=None,
            code=self._code(),
            new=True,
            street_id=building.street_id,
            grid_id=building.grid_id,
            building_id=building.id,
            household=household,
            values=values,
            said={key: values[key] for key in given},
        )
        if f.get("phone"):
            target.said["phone"] = values["phone_index"]
        if values["id_number_index"]:
            self.new_by_index[values["id_number_index"]] = target
        else:
            self.names_without_id.add(name)
            if values["phone_index"]:
                self.by_name_phone.setdefault((name, values["phone_index"]), target)
            self.by_name_household.setdefault((name, household), target)
        self.new_residents.append(target)
        return _RowPlan(row.row, ImportRow.Outcome.CREATED, target, extra, self._movement(row, target))

    def _merge(self, row: ParsedRow, target: _Target, extra: dict[str, Any]) -> _RowPlan:
        """A row whose ID number matches: the non-empty values that differ are the changes."""
        f = row.fields
        changes: dict[str, Any] = {}
        for key in RESIDENT_FIELDS:
            value = f.get(key)
            if _blank(value):
                continue
            value = value.strip() if isinstance(value, str) else value
            if key in target.said and target.said[key] != value:
                return self._error(row, [self._problem(row, "conflicting_rows", key)], extra)
            if target.values.get(key) != value:
                changes[key] = value
        phone = str(f.get("phone") or "")
        phone_index = blind_index(phone, "phone") if phone else ""
        if phone and "phone" in target.said and target.said["phone"] != phone_index:
            return self._error(row, [self._problem(row, "conflicting_rows", "phone")], extra)
        phone_changed = bool(phone) and phone_index != target.values.get("phone_index")
        if phone_changed or "sex" in changes or "birth_date" in changes:
            merged = {**target.values, **changes}
            try:
                sealed = self._seal(merged, str(f["id_number"]), phone)
            except ValidationError:
                return self._error(row, [self._problem(row, "id_mismatch", "id_number")], extra)
            if phone_changed:
                changes.update({key: sealed[key] for key in SEALED_COLUMNS if key.startswith("phone_")})
        for key in RESIDENT_FIELDS:
            if not _blank(f.get(key)):
                target.said.setdefault(key, changes.get(key, target.values.get(key)))
        if phone:
            target.said.setdefault("phone", phone_index)
        if not target.new:
            for key, value in changes.items():
                if key in ("phone_sealed", "phone_index"):
                    continue
                shown_key = "phone" if key == "phone_masked" else key
                before = target.changes[shown_key][0] if shown_key in target.changes else target.values.get(key)
                target.changes[shown_key] = [_shown(before), _shown(value)]
        target.values.update(changes)
        movement = self._movement(row, target)
        outcome = ImportRow.Outcome.UPDATED if changes or movement else ImportRow.Outcome.UNCHANGED
        return _RowPlan(row.row, outcome, target, extra, movement)

    def _movement(self, row: ParsedRow, target: _Target) -> dict[str, Any] | None:
        """An arrival, when the row says where from, when or by which trip — unless it is recorded already."""
        f = row.fields
        if not (f.get("origin") or f.get("arrived_on") or f.get("trip_number")):
            return None
        values = {key: f.get(key) for key in MOVEMENT_FIELDS}
        for key in ("origin", "destination", "transport", "trip_number"):
            values[key] = str(values[key] or "")
        resident = target.id if target.id is not None else id(target)
        arrival = (resident, values["arrived_on"], values["origin"], values["trip_number"])
        if arrival in self.arrivals:
            return None
        self.arrivals.add(arrival)
        return values

    # --- summary

    def outcome(self, status: str) -> Outcome:
        result = Outcome(status=status, rows=len(self.plans), problems=self.problems, duplicates=self.duplicates)
        for plan in self.plans:
            if plan.outcome == ImportRow.Outcome.ERROR:
                result.errors += 1
            elif plan.outcome == ImportRow.Outcome.POSSIBLE_DUPLICATE:
                result.possible_duplicates += 1
            else:
                setattr(result, plan.outcome, getattr(result, plan.outcome) + 1)
        return result


# --- write


SHARED_CREATED = {"created": True}  # the changes of every first version: one object, encoded once


class _Table:
    """Rows for one table, inserted with ``executemany``: every concrete column, defaults filled once."""

    def __init__(self, model: type[models.Model], now: datetime) -> None:
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.position = {f.attname: i for i, f in enumerate(self.fields)}
        self.json = [i for i, f in enumerate(self.fields) if isinstance(f, models.JSONField)]
        self.dates = [i for i, f in enumerate(self.fields) if type(f) is models.DateField]
        stamp = connection.ops.adapt_datetimefield_value(now)
        template: list[Any] = []
        for i, f in enumerate(self.fields):
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                template.append(stamp)
            elif i in self.json:
                template.append(f.get_default())  # prepared in write(), like every JSON value
            else:
                # A callable default (a public code) is a placeholder that add() must override.
                template.append(f.get_db_prep_save(f.get_default(), connection))
        self.template = template
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from the model, values bound)
            quote(model._meta.db_table),
            ", ".join(quote(f.column) for f in self.fields),
            ", ".join(["%s"] * len(self.fields)),
        )
        self.rows: list[list[Any]] = []

    def same(self, values: dict[str, Any]) -> None:
        """Values every row of this insert shares (the job, the actor…): set once, in the template."""
        for name, value in values.items():
            self.template[self.position[name]] = value

    def add(self, *parts: dict[str, Any]) -> None:
        row = self.template.copy()
        position = self.position
        for values in parts:
            for name, value in values.items():
                row[position[name]] = value
        self.rows.append(row)

    def write(self, on_chunk: Callable[[float], None] | None = None) -> int:
        """Insert the rows in chunks; ``on_chunk`` gets the share written so far (0–1)."""
        adapt_date, adapt_json = connection.ops.adapt_datefield_value, connection.ops.adapt_json_value
        encoders = {i: getattr(self.fields[i], "encoder", None) for i in self.json}
        shared: dict[int, Any] = {}  # one JSON value used by many rows (``{"created": true}``) is encoded once
        for row in self.rows:
            for i in self.dates:
                if row[i] is not None:
                    row[i] = adapt_date(row[i])
            for i in self.json:
                value = row[i]
                if value is SHARED_CREATED:
                    if i not in shared:
                        shared[i] = adapt_json(value, encoders[i])
                    row[i] = shared[i]
                else:
                    row[i] = adapt_json(value, encoders[i])
        with connection.cursor() as cursor:
            for start in range(0, len(self.rows), CHUNK):
                cursor.executemany(self.sql, self.rows[start : start + CHUNK])
                if on_chunk is not None:
                    on_chunk(min(start + CHUNK, len(self.rows)) / len(self.rows))
        written = len(self.rows)
        self.rows = []
        return written


def _new_ids(model: type[models.Model], since: int, *columns: str) -> list[tuple[Any, ...]]:
    """(id, *columns) of the rows inserted after id ``since``: ids only grow, so ours are all there."""
    return list(model._default_manager.filter(id__gt=since).values_list("id", *columns))


def _max_id(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(top=models.Max("id"))["top"] or 0


class Writer:
    """Writes a plan in the current transaction: places, residents, versions, movements, import rows."""

    def __init__(
        self, planner: Planner, job: ImportJob, actor: Any, reason: str, progress: Progress | None, role: str = ""
    ) -> None:
        self.planner, self.job, self.actor, self.reason, self.progress = planner, job, actor, reason, progress
        self.role = role
        self.now = timezone.now()
        self.total = len(planner.plans)
        self.to_screen: list[str] = []  # codes of the new arrivals whose origin names a risk area
        self.returning: list[str] = []  # codes of the other arrivals of residents already in the ledger
        self.isolated = 0

    def write(self) -> None:
        self._places()
        self._residents()
        self._rows()

    def _stage(self, stage: int) -> Callable[[float], None] | None:
        """Progress of writing stage ``stage`` of 4, after the planning half of the bar."""
        progress, total = self.progress, self.total
        if progress is None:
            return None
        return lambda share: progress("writing", total + int((stage + share) * total / 4))

    def _places(self) -> None:
        """The entrances and households the new residents live in (a row refused later leaves none behind)."""
        planner = self.planner
        households = [h for h in planner.new_households.values() if h in planner.filled]
        entrances: list[_NewEntrance] = list(
            {id(h.entrance): h.entrance for h in households if isinstance(h.entrance, _NewEntrance)}.values()
        )
        if entrances:
            since = _max_id(Entrance)
            table = _Table(Entrance, self.now)
            for new_entrance in entrances:
                table.add({"building_id": new_entrance.building_id, "number": new_entrance.number})
            table.write()
            entrance_ids = {(b, n): pk for pk, b, n in _new_ids(Entrance, since, "building_id", "number")}
            for new_entrance in entrances:
                new_entrance.id = entrance_ids[(new_entrance.building_id, new_entrance.number)]
        if households:
            since = _max_id(Household)
            table = _Table(Household, self.now)
            for household in households:
                building, entrance = household.building, household.entrance
                table.add(
                    {
                        "code": household.code,
                        "street_id": building.street_id,
                        "community_id": self.job.community_id,
                        "grid_id": building.grid_id,
                        "building_id": building.id,
                        "entrance_id": entrance.id if isinstance(entrance, _NewEntrance) else entrance,
                        "room": household.room,
                        "floor": household.floor,
                    }
                )
            table.write()
            found = {code: pk for pk, code in _new_ids(Household, since, "code")}
            for household in households:
                household.id = found[household.code]

    def _residents(self) -> None:
        planner, now = self.planner, self.now
        since = _max_id(Resident)
        table = _Table(Resident, now)
        community_id = self.job.community_id
        table.same({"community_id": community_id})
        for target in planner.new_residents:
            household = target.household
            table.add(
                target.values,
                {
                    "code": target.code,
                    "household_id": household.id if isinstance(household, _NewHousehold) else household,
                    "street_id": target.street_id,
                    "grid_id": target.grid_id,
                    "building_id": target.building_id,
                },
            )
        table.write(self._stage(0))
        found = {code: pk for pk, code in _new_ids(Resident, since, "code")}
        for target in planner.new_residents:
            target.id = found[target.code]

        versions = _Table(ResidentVersion, now)
        actor_id = self.actor.pk if self.actor is not None else None
        stamp = connection.ops.adapt_datetimefield_value(now)
        versions.same({"changed_at": stamp, "changed_by_id": actor_id, "reason": self.reason})
        for target in planner.new_residents:
            versions.add({"resident_id": target.id, "version": 1, "changes": SHARED_CREATED})
        updated = [t for t in planner.targets.values() if t.changes]
        for target in updated:
            target.version += 1
            versions.add({"resident_id": target.id, "version": target.version, "changes": target.changes})
        self._update(updated)
        versions.write(self._stage(1))

        movements = _Table(Movement, now)
        movements.same(
            {
                "community_id": community_id,
                "direction": Movement.Direction.ARRIVAL,
                "notes": self.reason,
                "recorded_by_id": actor_id,
            }
        )
        terms = self._risk_terms()
        for plan in planner.plans:
            if plan.movement is None or plan.target is None:
                continue
            target = plan.target
            code = planner._code()
            movements.add(
                plan.movement,
                {
                    "code": code,
                    "resident_id": target.id,
                    "street_id": target.street_id,
                    "grid_id": target.grid_id,
                    "building_id": target.building_id,
                },
            )
            if terms and _mentions(plan.movement.get("origin"), terms):
                self.to_screen.append(code)
            elif not target.new:
                self.returning.append(code)  # a resident away (blue) may be back: the colour follows
        movements.write(self._stage(2))
        self._screen()

    def _risk_terms(self) -> tuple[str, ...]:
        """Every name a risk area of this street (or deployment) goes by, in any period: loaded once."""
        areas = RiskArea.objects.filter(Q(street_id=self.job.street_id) | Q(street__isnull=True))
        return tuple(sorted({normalise_place(term) for area in areas for term in area.terms()} - {""}))

    def _screen(self) -> None:
        """The arrival rule for the arrivals whose origin names a risk area (``status.actions.screen_arrival``
        decides, with the dates): home isolation like any other arrival, in the import's transaction.
        A resident who was away (blue) and arrives from elsewhere is settled again (back to green)."""
        for start in range(0, len(self.returning), CHUNK):
            back = Movement.objects.filter(
                code__in=self.returning[start : start + CHUNK], resident__status=Status.OUT
            ).select_related("resident")
            for movement in back:
                settle(movement.resident, Reason.RETURNED, actor=self.actor, role=self.role,
                       source=f"movement:{movement.code}")  # fmt: skip
        if not self.to_screen:
            return
        arrivals = Movement.objects.filter(code__in=self.to_screen).select_related("resident").order_by("id")
        for movement in arrivals:
            _area, order = screen_arrival(movement.resident, movement, actor=self.actor, role=self.role)
            if order is not None:
                self.isolated += 1

    def _update(self, targets: list[_Target]) -> None:
        """Changed residents: plain fields and version; phone columns only where the phone changed."""
        if not targets:
            return
        quote = connection.ops.quote_name
        plain = [*RESIDENT_FIELDS, "version", "updated_at"]
        set_plain = ", ".join(f"{quote(name)} = %s" for name in plain)
        set_phone = ", ".join(f"{quote(name)} = %s" for name in SEALED_COLUMNS if name.startswith("phone_"))
        table = quote(Resident._meta.db_table)
        stamp = connection.ops.adapt_datetimefield_value(self.now)
        adapt_date = connection.ops.adapt_datefield_value
        rows, phones = [], []
        for t in targets:
            values = [adapt_date(t.values[n]) if n == "birth_date" else t.values[n] for n in RESIDENT_FIELDS]
            rows.append([*values, t.version, stamp, t.id])
            if "phone" in t.changes:
                phones.append([t.values["phone_sealed"], t.values["phone_index"], t.values["phone_masked"], t.id])
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET {set_plain} WHERE id = %s", rows)  # noqa: S608
            if phones:
                cursor.executemany(f"UPDATE {table} SET {set_phone} WHERE id = %s", phones)  # noqa: S608

    def _rows(self) -> None:
        table = _Table(ImportRow, self.now)
        table.same({"job_id": self.job.pk})
        for plan in self.planner.plans:
            target = plan.target
            table.add(
                {
                    "row": plan.row,
                    "outcome": plan.outcome,
                    "resident_id": target.id if target is not None else None,
                    "extra": plan.extra,
                }
            )
        table.write(self._stage(3))


# --- running an import


def plan_sheet(sheet: ParsedSheet, community: Community, progress: Progress | None = None) -> Planner:
    """What importing ``sheet`` would do (``--dry-run`` and the web preview). Writes nothing."""
    return Planner(sheet, community, progress).plan()


def import_reason(source: str, batch: str, filename: str = "") -> str:
    """The reason on versions and movements, in the site's language: "Import: <source> <batch>"."""
    with translation.override(settings.LANGUAGE_CODE):
        text = str(REASON) % {"source": source or filename, "batch": batch}
    return re.sub(r"\s+", " ", text).strip()[:200]


def save_problems(job: ImportJob, problems: Iterable[Problem]) -> None:
    """Replace the job's stored problems."""
    ImportProblem.objects.filter(job=job).delete()
    ImportProblem.objects.bulk_create(stored_problems(job, problems), batch_size=CHUNK)


def record_outcome(job: ImportJob, outcome: Outcome) -> None:
    for name, value in outcome.counts().items():
        setattr(job, name, value)


def apply_sheet(job: ImportJob, sheet: ParsedSheet, *, actor: Any, accept_valid: bool) -> Outcome:
    """Import ``sheet`` into ``job.community``, inside the caller's ``transaction.atomic``.

    ``actor`` needs ``edit_ledger`` over the community itself (imports are a
    community-level operation); None is the operator at the console (``firstline
    import`` without ``--user``). Refused — nothing written to the ledger, the problems
    kept for the report — when a row has a problem and ``accept_valid`` is false, or
    when no row is valid. Otherwise the valid rows are written, each ``ImportRow``
    linked to its resident, and the import is audited once. ``job`` is saved either way.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("apply_sheet must run inside transaction.atomic")
    role = require(actor, "edit_ledger", job.community) if actor is not None else ""
    progress = Progress(job.code, 2 * max(len(sheet.rows), getattr(sheet, "expected", 0), 1))
    planner = plan_sheet(sheet, job.community, progress)
    progress.total = 2 * max(len(planner.plans), 1)  # counted now (a sheet read in the background was estimated)
    errors = sum(1 for plan in planner.plans if plan.outcome == ImportRow.Outcome.ERROR)
    refused = bool(errors and not accept_valid) or errors == len(planner.plans)
    outcome = planner.outcome(ImportJob.Status.REFUSED if refused else ImportJob.Status.APPLIED)
    reason = import_reason(job.source, job.batch, job.filename)
    isolated = 0
    if not refused:
        with larger_cache():
            writer = Writer(planner, job, actor, reason, progress, role)
            writer.write()
            bump_map_version(job.community_id)  # bulk rows: no save signals
            isolated = writer.isolated
    save_problems(job, [*outcome.problems, *outcome.duplicates])
    record_outcome(job, outcome)
    if refused:  # nothing was imported
        job.created = job.updated = job.unchanged = job.possible_duplicates = 0
    job.status, job.accept_valid, job.finished_at = outcome.status, accept_valid, timezone.now()
    job.header_row, job.columns, job.preview = sheet.header_row, describe_columns(sheet), []
    job.save()
    if not refused:
        detail: dict[str, Any] = {**job.counts(), "accept_valid": accept_valid, "isolated": isolated}
        record(
            "create",
            actor=actor,
            role=role,
            object_type="import",
            object_code=job.code,
            community_id=job.community_id,
            reason=reason,
            detail=detail,
        )
    return outcome


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while an import runs (then as before).

    A 100,000-row import makes millions of objects (rows, plans, insert rows) that all
    live until it ends; the collector would traverse them again and again — about 15%
    of the import's time — and free nothing: they go by reference counting when the
    import is done. Process-wide, so other threads skip collections for those seconds too.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


SQLITE_IMPORT_CACHE_KIB = 131072


@contextlib.contextmanager
def larger_cache() -> Iterator[None]:
    """SQLite: a 128 MiB page cache while a large import inserts into indexes with random keys (codes,
    blind indexes), instead of the 2 MiB default that makes each insert read its index pages again."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def describe_columns(sheet: ParsedSheet) -> list[dict[str, Any]]:
    """Header → field of every column: names of columns only, never a value."""
    return [{"header": str(column.header)[:100], "field": column.field} for column in sheet.columns]


PREVIEW_ROWS = 10
MASKS = {"id_number": mask_id_number, "phone": mask_phone}


def preview_rows(sheet: ParsedSheet, count: int = PREVIEW_ROWS) -> list[dict[str, Any]]:
    """The first rows as the import reads them, field by field; ID numbers and phones masked."""
    fields = list(dict.fromkeys(column.field for column in sheet.columns if column.field))
    rows = []
    for row in sheet.rows[:count]:
        cells = {}
        for name in fields:
            value = row.fields.get(name)
            if _blank(value):
                value = row.raw.get(name, "")
            text = _jsonable(value)
            if name in MASKS and text:
                text = MASKS[name](re.sub(r"\s", "", str(text)))
            cells[name] = scrub(text) if isinstance(text, str) else text
        rows.append({"row": row.row, "fields": cells, "ok": row.ok})
    return rows


def new_job(community: Community, *, actor: Any, filename: str, source: str = "", batch: str = "") -> ImportJob:
    """An unsaved job for ``filename`` (the name as the worker gave it; the stored copy is named by the code)."""
    extension = Path(filename).suffix.lower().lstrip(".")[:8]
    return ImportJob(
        street_id=community.street_id,
        community=community,
        created_by=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        filename=Path(filename).name[:200],
        extension=extension,
        source=source.strip()[:100],
        batch=batch.strip()[:100],
    )


def import_file(
    path: str | Path,
    community: Community,
    *,
    actor: Any = None,
    filename: str | None = None,
    source: str = "",
    batch: str = "",
    accept_valid: bool = False,
    dry_run: bool = False,
) -> tuple[ImportJob | None, Outcome]:
    """Parse and import one file (``firstline import``). Raises ``UnreadableFile``, ``PermissionDenied``.

    The job itself is created inside the import's transaction: a killed import leaves
    no trace at all. ``dry_run`` plans and counts, and writes nothing.
    """
    if actor is not None:
        require(actor, "edit_ledger", community)
    filename = filename or Path(path).name
    with gc_paused(), background.reading(path, filename) as sheet:  # parsed by a child while planned here
        if dry_run:
            planner = plan_sheet(sheet, community)
            errors = sum(1 for plan in planner.plans if plan.outcome == ImportRow.Outcome.ERROR)
            refused = bool(errors and not accept_valid) or errors == len(planner.plans)
            return None, planner.outcome("refused" if refused else "planned")
        job = new_job(community, actor=actor, filename=filename, source=source, batch=batch)
        job.status = ImportJob.Status.APPLYING
        try:
            with transaction.atomic():
                job.save()
                outcome = apply_sheet(job, sheet, actor=actor, accept_valid=accept_valid)
        finally:
            progress_path(job.code).unlink(missing_ok=True)
    return job, outcome


# --- the web's two steps, run as jobs (``people.tasks``)


def preview_job(job: ImportJob) -> None:
    """Read the stored upload, plan it, and keep what the preview page shows; or fail with the reason."""
    try:
        with gc_paused(), background.reading(stored_path(job), job.filename, raw=True) as sheet:
            planner = plan_sheet(sheet, job.community)
    except (UnreadableFile, OSError) as error:
        fail_job(job, error)
        return
    outcome = planner.outcome(ImportJob.Status.PREVIEWED)
    # The problems go in short transactions, so that SQLite's one write lock is free between them
    # (a check-in at the gate waits for one batch, not for the whole list). Until the job is marked
    # previewed below they are not shown; a job that fails meanwhile has them deleted.
    ImportProblem.objects.filter(job=job).delete()
    records = stored_problems(job, [*outcome.problems, *outcome.duplicates])
    for start in range(0, len(records), PREVIEW_BATCH):
        began = time.monotonic()
        with transaction.atomic():
            ImportProblem.objects.bulk_create(records[start : start + PREVIEW_BATCH])
        # A writer waiting for the lock polls for it (SQLite's busy handler, every 1–100 ms): leave it
        # free as long as the batch held it, or committing batch after batch would keep it out.
        if start + PREVIEW_BATCH < len(records):
            time.sleep(min(time.monotonic() - began, 0.1))
    del records
    with transaction.atomic():
        record_outcome(job, outcome)
        job.status = ImportJob.Status.PREVIEWED
        job.header_row, job.columns, job.preview = sheet.header_row, describe_columns(sheet), preview_rows(sheet)
        job.save()


def apply_job(code: str, actor: Any) -> None:
    """Apply a confirmed job (status ``applying``) in one transaction; a second call does nothing."""
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().select_related("community").get(code=code)
            if job.status != ImportJob.Status.APPLYING:
                return
            with gc_paused(), background.reading(stored_path(job), job.filename) as sheet:
                apply_sheet(job, sheet, actor=actor, accept_valid=job.accept_valid)
    except (UnreadableFile, OSError, PermissionDenied) as error:
        fail_job(ImportJob.objects.get(code=code), error)
        return
    except Exception as error:
        fail_job(ImportJob.objects.get(code=code), error)  # rolled back: nothing was imported
        raise
    discard_files(job)


def do_upload_import(actor: Any, community: Community, upload: Any, source: str = "", batch: str = "") -> ImportJob:
    """Keep an uploaded file under ``DATA_DIR/imports/<job code>.<ext>`` (owner-only) and open its job.

    The caller enqueues the reading (``people.tasks.read_import``).
    """
    require(actor, "edit_ledger", community)
    job = new_job(community, actor=actor, filename=upload.name, source=source, batch=batch)
    path = stored_path(job)  # the code is set: the file is written before the job exists, or neither is
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        job.save()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return job


def do_confirm_import(actor: Any, job: ImportJob, accept_valid: bool) -> bool:
    """The worker confirms the preview: the job is marked ``applying`` (the caller enqueues ``apply_import``).

    Importing everything is refused when rows have problems; False when the job was not waiting.
    A job whose import stopped (its progress file is older than ``STALLED_SECONDS``) may be confirmed again.
    """
    require(actor, "edit_ledger", job.community)
    if job.status == ImportJob.Status.APPLYING and is_stalled(job):
        write_progress(job.code, "queued", 0, 1)
        return True
    if job.status != ImportJob.Status.PREVIEWED:
        return False
    if job.errors and not accept_valid:
        raise ValidationError(_("Some rows have problems: import the valid rows only, or correct the file."))
    if accept_valid and job.errors >= job.rows:
        raise ValidationError(_("No row can be imported."))
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.APPLYING, accept_valid=accept_valid
    )
    if updated:
        job.status, job.accept_valid = ImportJob.Status.APPLYING, accept_valid
        write_progress(job.code, "queued", 0, 1)
    return bool(updated)


STALLED_SECONDS = 600


def is_stalled(job: ImportJob) -> bool:
    """An ``applying`` job whose progress has not moved for ``STALLED_SECONDS`` (its process was stopped)."""
    progress = read_progress(job.code)
    return progress is None or time.time() - float(progress.get("at", 0)) > STALLED_SECONDS


def do_discard_import(actor: Any, job: ImportJob) -> None:
    """The worker decides not to import: the upload and the job's problems are deleted (counts stay)."""
    require(actor, "edit_ledger", job.community)
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.PREVIEWED).update(
        status=ImportJob.Status.REFUSED,
        finished_at=timezone.now(),
        preview=[],
        created=0,
        updated=0,
        unchanged=0,
        possible_duplicates=0,
    )
    job.refresh_from_db()
    if job.status == ImportJob.Status.REFUSED:
        discard_files(job)
        delete_rows(job)


def delete_rows(job: ImportJob) -> None:
    """Delete what an import that wrote nothing to the ledger kept of its rows (problems, import rows).

    Never for an applied job: its import rows link each line of the list to its resident.
    """
    if job.status == ImportJob.Status.APPLIED:
        return
    for model in (ImportProblem, ImportRow):
        while True:  # in batches: short transactions, as the preview wrote them
            ids = list(model.objects.filter(job=job).values_list("pk", flat=True)[:PREVIEW_BATCH])
            if not ids:
                break
            model.objects.filter(pk__in=ids).delete()


NOT_ALLOWED = _("You may no longer import into this community.")
FILE_GONE = _("The uploaded file is no longer there: upload it again.")
BROKEN = _("The import stopped on an error and nothing was imported. Try again, or tell the administrator.")


def fail_job(job: ImportJob, error: Exception) -> None:
    if isinstance(error, UnreadableFile):
        failure = english(error.message)
    elif isinstance(error, PermissionDenied):
        failure = english(NOT_ALLOWED)
    elif isinstance(error, OSError):
        failure = english(FILE_GONE)
    else:
        failure = english(BROKEN)
    # Never over an import that completed meanwhile (a second run that waited for the lock).
    ImportJob.objects.filter(pk=job.pk).exclude(status=ImportJob.Status.APPLIED).update(
        status=ImportJob.Status.FAILED, failure=failure, finished_at=timezone.now(), preview=[]
    )
    job.refresh_from_db()
    discard_files(job)
    delete_rows(job)
