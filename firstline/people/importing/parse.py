"""Read a ledger spreadsheet into parsed rows: the contract between the file and the import engine.

``read_sheet(path)`` finds the header row, maps each column to a canonical field
(``columns.ALIASES``), and turns every data row into a ``ParsedRow``: normalised
values in ``fields``, the cell text in ``raw`` (for the preview) and a list of
``Problem``\\ s, each naming the original Excel row, the column as headed in the
file, the offending value (masked for ID numbers and phones) and a short message
saying what to do. Nothing here touches the database.

Field values (only present when the cell was given and understood):
``name sex age birth_date id_type id_number phone domicile address compound
building building_number entrance room person_type origin arrived_on departed_on
departed_at destination transport trip_number carriage seat companions
temperature symptoms measures isolation_place isolation_start isolation_end notes
batch relation_to_head workplace``. A valid ID number also fills ``birth_date``
and ``sex``; a combined ``address`` also fills ``compound``/``building``/
``building_number``/``entrance``/``room`` where no separate column gave them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, islice
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from firstline.people.idcard import InvalidIdNumber, InvalidPhone, normalise_phone, parse_id_number
from firstline.people.importing import normalise as n
from firstline.people.importing.columns import HEADER_SEARCH_ROWS, find_header, header_fields, merge_sub_header
from firstline.people.importing.reader import Span, Table, UnreadableFile, read_tables
from firstline.people.models import Resident
from firstline.sealing import holds_personal_number, mask_id_number, mask_personal_numbers, mask_phone

__all__ = ["Column", "ParsedRow", "ParsedSheet", "Problem", "UnreadableFile", "open_sheet", "read_sheet"]


@dataclass(frozen=True)
class Column:
    index: int  # 0-based column index in the sheet
    header: str  # the header text as written (stripped)
    field: str | None  # canonical field name, None when not recognised


@dataclass
class Problem:
    row: int  # original 1-based row number as the worker sees it in Excel
    column: str  # header text of the column ('' for a whole-row problem)
    value: str  # the offending value; masked for ID numbers and phones
    code: str  # stable machine code, see MESSAGES
    message: Any  # lazy translation, English source


@dataclass
class ParsedRow:
    row: int
    fields: dict[str, Any]
    raw: dict[str, str]
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ParsedSheet:
    filename: str
    header_row: int
    columns: list[Column]
    rows: list[ParsedRow]

    @property
    def unmapped(self) -> list[str]:
        return [column.header for column in self.columns if column.field is None]

    def chunks(self, size: int = 2000) -> Iterator[list[ParsedRow]]:
        """The rows, ``size`` at a time (a sheet still being read in the background yields them as they come)."""
        for start in range(0, len(self.rows), size):
            yield self.rows[start : start + size]


MESSAGES: dict[str, Any] = {
    "name_missing": _("The name is empty. Fill in the person's name."),
    "number_in_text": _(
        "The cell holds what looks like an ID number or a phone. Put them only in their own columns "
        "(they are sealed there) and remove them from this one."
    ),
    "nul_in_text": _("The cell holds an invisible control character (NUL) that cannot be stored. Type the cell again."),
    "id_number_as_number": _(
        "The ID number was saved as a number and its last digits are lost. "
        "Format the column as text in Excel and type the numbers again."
    ),
    "id_number_invalid": _("The ID number is not valid: {reason}. Check it against the ID card."),
    "phone_as_number": _(
        "The phone number was saved as a number in scientific notation. Format the column as text and type it again."
    ),
    "phone_invalid": _("The phone number is not valid. Write an 11-digit mobile or a landline with its area code."),
    "sex_invalid": _("The sex is not understood. Write 男 or 女."),
    "sex_conflicts_id": _("The sex does not match the ID number. Check both."),
    "age_invalid": _("The age is not understood. Write the age in whole years, e.g. 35."),
    "age_conflicts_id": _("The age does not match the birth date in the ID number. Check both."),
    "birth_date_conflicts_id": _("The birth date does not match the ID number. Check both."),
    "date_invalid": _("The date is not understood. Write it like 2020-01-23."),
    "temperature_invalid": _("The temperature is not understood. Write the reading in °C, e.g. 36.5."),
    "temperature_implausible": _("The temperature is outside 35–43 °C. Check the reading."),
    "entrance_invalid": _("The entrance (unit) is not understood. Write its number, e.g. 2."),
    "room_invalid": _("The room number is not understood. Write it like 501."),
    "address_unparsed": _(
        "The address could not be split into building and room. "
        "Write it like 3栋2单元501室 or 3-2-501, or use separate building, entrance and room columns."
    ),
}

# Fields whose values are sealed at rest: never shown in full in a problem.
MASKS: dict[str, Callable[[str], str]] = {"id_number": mask_id_number, "phone": mask_phone}


_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+?\d+")
_ID_JUNK = re.compile(r"[\s\-]")
_CHINESE_ID_SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")
_PHONE_SEPARATORS = re.compile(r"[/、,;，；]|\s{2,}")
_WORDS_IN_BRACKETS = re.compile(r"\([^)\d]*\)")  # "(本人)", but not the area code in "(0571)8888…"
_CARRIAGE_SUFFIX = re.compile(r"(?:车厢|车|号)$")
_SEAT_SUFFIX = re.compile(r"号$")
RESIDENT_ID = Resident.IdType.RESIDENT_ID.value

# A decoder turns one cell (value as read, cleaned text) into (normalised value or None, problem code or None).
Decoded = tuple[Any, str | None]


def _decode_sex(value: Any, text: str) -> Decoded:
    sex = n.parse_sex(text)
    return (sex, None) if sex else (None, "sex_invalid")


def _decode_age(value: Any, text: str) -> Decoded:
    age = n.parse_age(value, text)
    return (age, None) if age is not None else (None, "age_invalid")


def _decode_temperature(value: Any, text: str) -> Decoded:
    degrees = n.parse_temperature(value, text)
    if degrees is None:
        return None, "temperature_invalid"
    low, high = n.TEMPERATURE_RANGE
    return (degrees, None) if low <= degrees <= high else (None, "temperature_implausible")


def _decode_entrance(value: Any, text: str) -> Decoded:
    entrance = n.parse_entrance_cell(text)
    return (entrance, None) if entrance is not None else (None, "entrance_invalid")


def _decode_room(value: Any, text: str) -> Decoded:
    """(entrance or None, room): ``501.0`` → (None, "501"); ``"2-501"`` → (2, "501"); ``"501-1"`` kept as written."""
    room = n.parse_room_cell(text)
    if room is not None:
        return (None, room), None
    entrance_room = n.parse_entrance_room(text)
    if entrance_room is not None:
        return entrance_room, None
    return ((None, text), None) if len(text) <= 20 else (None, "room_invalid")


def _decode_building(value: Any, text: str) -> Decoded:
    return (n.integral_text(text), n.parse_building_cell(text)), None


def _decode_transport(value: Any, text: str) -> Decoded:
    return (n.parse_transport(text), n.trip_in_text(text)), None


def _decode_text(value: Any, text: str) -> Decoded:
    return text, None


def _with(function: Callable[[str], Any]) -> Callable[[Any, str], Decoded]:
    def decode(value: Any, text: str) -> Decoded:
        return function(text), None

    return decode


DECODERS: dict[str, Callable[[Any, str], Decoded]] = {
    "sex": _decode_sex,
    "age": _decode_age,
    "temperature": _decode_temperature,
    "entrance": _decode_entrance,
    "room": _decode_room,
    "building": _decode_building,
    "transport": _decode_transport,
    "trip_number": _with(n.normalise_trip_number),
    "address": _with(n.parse_address),
    "id_type": _with(n.parse_id_type),
    "person_type": _with(n.parse_person_type),
    "relation_to_head": _with(n.parse_relation),
    "symptoms": _with(n.normalise_symptoms),
    "carriage": _with(lambda text: _CARRIAGE_SUFFIX.sub("", text).upper()),
    "seat": _with(lambda text: _SEAT_SUFFIX.sub("", text).replace(" ", "").upper()),
}
DATE_FIELDS = ("birth_date", "arrived_on", "departed_on", "isolation_start", "isolation_end")
# Checked against each other in RowParser.parse, with the cell value as read.
SPECIAL = frozenset({"name", "id_number", "phone"})
# Free text: an ID number or phone typed into one is a problem of its row (it would be neither sealed nor masked).
FREE_TEXT = frozenset(
    {"name", "notes", "workplace", "companions", "measures", "isolation_place", "origin", "destination", "domicile"}
)
# Values unique to a person are not worth remembering; everything else repeats down a sheet.
UNCACHED = SPECIAL | {"notes", "companions"}
CACHE_LIMIT = 50_000  # distinct values remembered per column
# Fields copied as decoded: the value when understood, a problem when not.
DIRECT = (
    "age",
    "arrived_on",
    "isolation_start",
    "isolation_end",
    "temperature",
    "person_type",
    "relation_to_head",
    "symptoms",
    "carriage",
    "seat",
    "domicile",
    "compound",
    "origin",
    "destination",
    "companions",
    "measures",
    "isolation_place",
    "notes",
    "batch",
    "workplace",
    "entrance",
)


def read_sheet(path: str | Path, filename: str | None = None, *, today: date | None = None) -> ParsedSheet:
    """Parse the first sheet of ``path`` that has a recognisable header row.

    ``filename`` is the name the worker uploaded (the stored file may have another);
    ``today`` anchors dates written without a year (default: today in the local time zone).
    Raises ``UnreadableFile`` when the file as a whole cannot be used.
    """
    sheet, rows, _expected = open_sheet(path, filename, today=today)
    sheet.rows = list(rows)
    return sheet


def open_sheet(
    path: str | Path, filename: str | None = None, *, today: date | None = None
) -> tuple[ParsedSheet, Iterator[ParsedRow], int]:
    """``read_sheet`` in two steps: the sheet found (header and columns, no rows yet), an iterator that
    parses its rows one at a time, and about how many rows to expect (for progress).

    Raises ``UnreadableFile`` like ``read_sheet`` — the iterator too, for a CSV that breaks further down.
    """
    filename = filename or Path(path).name
    today = today or timezone.localdate()
    tables = read_tables(path)
    for table in tables:
        head = list(islice(table.rows, HEADER_SEARCH_ROWS + 1))
        index = find_header(head)
        if index is None:
            continue
        header = header_fields(head[index])
        first_data = index + 1
        if first_data < len(head):
            merged = merge_sub_header(header, head[first_data])
            if merged is not None:
                header, first_data = merged, first_data + 1
        columns = [Column(table.col_offset + position, text, field) for position, text, field in header]
        parser = RowParser(header, today)
        data = chain(head[first_data:], table.rows)
        rows = parser.iter_parse(data, first_row=first_data + 1, merged=table.merged, col_offset=table.col_offset)
        sheet = ParsedSheet(filename=filename, header_row=index + 1, columns=columns, rows=[])
        return sheet, _closing(rows, tables), max(table.height - first_data, 0)
    raise UnreadableFile(
        _(
            "No header row found in the first 15 rows. "
            "Put the column names (such as 姓名 and 身份证号) in one row above the data."
        ),
        "no_header",
    )


def _closing(rows: Iterator[ParsedRow], tables: Generator[Table, None, None]) -> Iterator[ParsedRow]:
    """``rows``, then the workbook closed (``read_tables`` holds it open until it is resumed or closed)."""
    try:
        yield from rows
    finally:
        tables.close()


class RowParser:
    """Turns the cells of one sheet's data rows into ``ParsedRow``\\ s; the column plan is made once per sheet.

    Each column's decoded cells are remembered by value (a sheet repeats its dates, places and
    categories thousands of times), so most cells cost one dictionary lookup.
    """

    def __init__(self, header: Sequence[tuple[int, str, str | None]], today: date) -> None:
        self.today = today
        self.tz = timezone.get_default_timezone()
        positions: dict[str, list[int]] = {}
        self.headers: dict[str, str] = {}
        self.column_order = {text: position for position, text, _ in reversed(header)}
        for position, text, field_name in header:
            if field_name:
                positions.setdefault(field_name, []).append(position)
                self.headers.setdefault(field_name, text)
        # Several columns may map to one field (联系电话 and 联系方式): the first non-empty one wins.
        # The plan lists each field once, at its first column; ``fallbacks`` the later columns.
        self.plan: list[tuple[str, int, Callable[[Any, str], Decoded] | None, dict | None, bool]] = [
            (
                field_name,
                where[0],
                self.decoder(field_name),
                None if field_name in UNCACHED else {},
                field_name in DIRECT,
            )
            for field_name, where in positions.items()
        ]
        self.fallbacks = {field_name: tuple(where[1:]) for field_name, where in positions.items() if len(where) > 1}
        self.width = max(position for position, _, field_name in header if field_name) + 1
        self.has_place = bool(positions.keys() & {"address", "building", "entrance", "room"})
        self.positions = frozenset(position for where in positions.values() for position in where)

    def decoder(self, field_name: str) -> Callable[[Any, str], Decoded] | None:
        if field_name in DATE_FIELDS:
            today, keep_time = self.today, field_name == "departed_on"

            def decode_date(value: Any, text: str) -> Decoded:
                parsed = n.parse_date(value, text, today)
                if parsed is None:
                    return None, "date_invalid"
                return (parsed.date() if type(parsed) is datetime and not keep_time else parsed), None

            return decode_date
        if field_name in SPECIAL:
            return None
        return DECODERS.get(field_name, _decode_text)

    def parse_all(
        self, rows: Iterable[list[Any]], first_row: int, merged: Sequence[Span] = (), col_offset: int = 0
    ) -> list[ParsedRow]:
        """Parse the data rows; ``first_row`` is the Excel number of the first.

        A cell merged down over several rows (one address for a whole family, as household
        ledgers do) counts for each of those rows; a row with nothing but such cells is blank.
        """
        return list(self.iter_parse(rows, first_row, merged, col_offset))

    def iter_parse(
        self, rows: Iterable[list[Any]], first_row: int, merged: Sequence[Span] = (), col_offset: int = 0
    ) -> Iterator[ParsedRow]:
        """``parse_all`` one row at a time."""
        parse = self.parse
        spans = self.vertical_spans(merged, first_row - 1, col_offset)
        if not spans:  # the usual case, and the fast loop
            for number, cells in enumerate(rows, start=first_row):
                row = parse(number, cells)
                if row is not None:
                    yield row
            return
        filling: dict[int, list[tuple[int, Any]]] = {}  # Excel row → (position, value) to fill in
        for number, cells in enumerate(rows, start=first_row):
            for position, last in spans.get(number, ()):
                if position < len(cells):
                    for below in range(number + 1, last + 1):
                        filling.setdefault(below, []).append((position, cells[position]))
            fills = filling.pop(number, None)
            if fills:
                if self.is_blank(cells):
                    continue
                cells = list(cells)
                for position, value in fills:
                    if position < len(cells) and cells[position] == "":
                        cells[position] = value
            row = parse(number, cells)
            if row is not None:
                yield row

    def vertical_spans(self, merged: Sequence[Span], first_index: int, col_offset: int) -> dict[int, list]:
        """Excel row where a merged cell starts → (position in the row, Excel row where it ends)."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for (top, left), (bottom, _right) in merged:
            position = left - col_offset
            if top >= first_index and bottom > top and position in self.positions:
                spans.setdefault(top + 1, []).append((position, bottom + 1))
        return spans

    def is_blank(self, cells: Sequence[Any]) -> bool:
        width = len(cells)
        return all(cells[position] == "" for position in self.positions if position < width)

    def parse(self, number: int, cells: Sequence[Any]) -> ParsedRow | None:
        """None for a row with nothing in any recognised column (blank, or only a pre-filled 序号).

        The hot path of an import: one pass over the planned columns, where a cell is either
        copied as decoded (``DIRECT``) or kept in ``got`` for the checks across fields below.
        """
        fields: dict[str, Any] = {}
        raw: dict[str, str] = {}
        row = ParsedRow(number, fields, raw, [])
        got: dict[str, tuple[str, Any, str | None]] = {}  # field → (text, decoded, problem code)
        if len(cells) < self.width:  # a short CSV line
            cells = [*cells, *[""] * (self.width - len(cells))]
        cell_text = n.cell_text
        fallbacks = self.fallbacks
        for field_name, position, decode, cache, direct in self.plan:
            value = cells[position]
            if value == "" and fallbacks and field_name in fallbacks:
                value = next((cells[other] for other in fallbacks[field_name] if cells[other] != ""), "")
            if value == "":
                continue
            result = cache.get(value) if cache is not None else None
            if result is None:
                text = cell_text(value)
                if not text:
                    continue
                if "\x00" in text:  # PostgreSQL cannot store it: the row is refused, read without it
                    text = text.replace("\x00", "")
                    value = text if type(value) is str else value
                    self.problem(row, field_name, text, "nul_in_text")
                    if not text:
                        continue
                    cache = None
                if field_name in FREE_TEXT and holds_personal_number(text):  # kept masked, the row refused
                    text = mask_personal_numbers(text)
                    value = text
                    self.problem(row, field_name, text, "number_in_text")
                    cache = None
                if decode is None:
                    result = (text, value, None)
                else:
                    decoded, code = decode(value, text)
                    result = (text, decoded, code)
                    if cache is not None and len(cache) < CACHE_LIMIT:
                        cache[value] = result
            raw[field_name] = result[0]
            if not direct:
                got[field_name] = result
            elif result[2] is not None:
                self.problem(row, field_name, result[0], result[2])
            elif result[1] is not None:
                fields[field_name] = result[1]
        if not raw:
            return None

        if "name" in got:
            fields["name"] = n.normalise_name(got["name"][0])
        else:
            self.problem(row, "name", "", "name_missing")
        if "id_number" in got:
            text, value, _ = got["id_number"]
            self.id_number(row, value, text, got["id_type"][1] if "id_type" in got else None)
        elif "id_type" in got:
            fields["id_type"] = got["id_type"][1]
        if "phone" in got:
            self.phone(row, got["phone"][0])
        if "sex" in got:
            self.check_against_id(row, "sex", got["sex"], "sex_conflicts_id")
        if "birth_date" in got:
            self.check_against_id(row, "birth_date", got["birth_date"], "birth_date_conflicts_id")
        if "age" in fields and "id_number" in fields and "birth_date" in fields:
            self.age_against_id(row, raw["age"])
        if "departed_on" in got:
            self.departed(row, got["departed_on"])
        if "transport" in got or "trip_number" in got:
            self.transport(row, got)
        if self.has_place:
            self.place(row, got)
        if len(row.problems) > 1:  # in the order of the columns, as the worker reads the row
            row.problems.sort(key=lambda problem: self.column_order.get(problem.column, -1))
        return row

    # --- the fields that need more than a copy

    def problem(self, row: ParsedRow, field_name: str, value: str, code: str, message: Any = None) -> None:
        mask = MASKS.get(field_name)
        # An ID number or mobile typed into another column is masked there too.
        shown = mask_personal_numbers(value) if mask is None else (mask(value) if value else value)
        column = self.headers.get(field_name, "")
        row.problems.append(Problem(row.row, column, shown, code, message or MESSAGES[code]))

    def id_number(self, row: ParsedRow, value: Any, text: str, declared: str | None) -> None:
        fields = row.fields
        if text[0] == "'":  # typed in front of a number to keep it text
            text = text[1:]
        as_number = (type(value) is float or type(value) is int) and value >= 1e15
        if as_number or (("E" in text or "e" in text) and _SCIENTIFIC.fullmatch(text)):
            # Excel keeps 15 significant digits: the last digits of an 18-digit number are gone for good.
            self.problem(row, "id_number", _ID_JUNK.sub("", text), "id_number_as_number")
            return
        foreign = declared is not None and declared != RESIDENT_ID
        if foreign and not _CHINESE_ID_SHAPE.fullmatch(_ID_JUNK.sub("", text).upper()):
            fields["id_type"], fields["id_number"] = declared, _ID_JUNK.sub("", text).upper()
            return
        try:
            parsed = parse_id_number(text, self.today)
        except InvalidIdNumber as invalid:
            compact = _ID_JUNK.sub("", text).upper()
            if foreign:
                fields["id_type"], fields["id_number"] = declared, compact
                return
            message = format_lazy(MESSAGES["id_number_invalid"], reason=invalid.args[0])
            self.problem(row, "id_number", compact, "id_number_invalid", message)
            return
        fields["id_type"] = RESIDENT_ID
        fields["id_number"] = parsed.number
        fields["birth_date"] = parsed.birth_date
        fields["sex"] = parsed.sex

    def phone(self, row: ParsedRow, text: str) -> None:
        if len(text) != 11 or not text.isdigit():  # the common case, a plain mobile, skips the tidying
            text = text.lstrip("'")
            if ("E" in text or "e" in text) and _SCIENTIFIC.fullmatch(text):
                self.problem(row, "phone", text, "phone_as_number")
                return
            if "(" in text:
                text = _WORDS_IN_BRACKETS.sub("", text)
            text = _PHONE_SEPARATORS.split(text, maxsplit=1)[0].strip()  # the first of several numbers
        try:
            row.fields["phone"] = normalise_phone(text)
        except InvalidPhone:
            self.problem(row, "phone", _ID_JUNK.sub("", text), "phone_invalid")

    def check_against_id(self, row: ParsedRow, name: str, result: tuple[str, Any, str | None], conflict: str) -> None:
        """Sex or birth date: taken from its column unless the ID number already gave it, then compared."""
        text, decoded, code = result
        if code is not None:
            self.problem(row, name, text, code)
        elif name not in row.fields:
            row.fields[name] = decoded
        elif row.fields[name] != decoded:
            self.problem(row, name, text, conflict)

    def age_against_id(self, row: ParsedRow, text: str) -> None:
        # Ages in lists are typed by hand and go stale (a list made last year says one year
        # less): the ID number decides. Only an age the person cannot have reached yet is a mistake.
        born, today = row.fields["birth_date"], self.today
        actual = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        if row.fields["age"] > actual + 1:
            self.problem(row, "age", text, "age_conflicts_id")

    def departed(self, row: ParsedRow, result: tuple[str, Any, str | None]) -> None:
        text, decoded, code = result
        if code is not None:
            self.problem(row, "departed_on", text, code)
        elif type(decoded) is datetime:
            row.fields["departed_on"] = decoded.date()
            if decoded.time():
                row.fields["departed_at"] = timezone.make_aware(decoded, self.tz)
        else:
            row.fields["departed_on"] = decoded

    def transport(self, row: ParsedRow, got: dict[str, tuple[str, Any, str | None]]) -> None:
        fields = row.fields
        trip = got["trip_number"][1] if "trip_number" in got else None
        if "transport" in got:
            fields["transport"], trip_in_text = got["transport"][1]
            trip = trip or trip_in_text
        if trip:
            fields["trip_number"] = trip
            if "transport" not in fields:
                inferred = n.transport_from_trip(trip)
                if inferred:
                    fields["transport"] = inferred

    def place(self, row: ParsedRow, got: dict[str, tuple[str, Any, str | None]]) -> None:
        fields = row.fields
        if "building" in got:
            fields["building"], number = got["building"][1]
            if number:
                fields["building_number"] = number
        if "room" in got:
            text, decoded, code = got["room"]
            if code is not None:
                self.problem(row, "room", text, code)
            else:
                entrance, fields["room"] = decoded
                if entrance is not None:
                    fields.setdefault("entrance", entrance)
        if "address" not in got:
            return
        address, parts, _ = got["address"]
        fields["address"] = address
        if "room" in fields and "building" in fields:
            return  # separate columns said it all; the address is kept as written
        if parts is not None:
            if parts.compound and "compound" not in fields:
                fields["compound"] = parts.compound
            if "building" not in fields:
                fields["building"] = parts.building
                if parts.building_number:
                    fields["building_number"] = parts.building_number
            if parts.entrance is not None and "entrance" not in fields:
                fields["entrance"] = parts.entrance
            fields.setdefault("room", parts.room)
            return
        if "building" in fields:
            entrance_room = n.parse_entrance_room(address)
            if entrance_room is not None:
                if entrance_room[0] is not None:
                    fields.setdefault("entrance", entrance_room[0])
                fields.setdefault("room", entrance_room[1])
                return
        self.problem(row, "address", address, "address_unparsed")
