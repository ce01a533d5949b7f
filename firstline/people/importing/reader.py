"""Cells out of a file: spreadsheets through python-calamine, CSV and tab-separated text by hand.

The format is decided by the file's first bytes, not its name: offices rename files
freely (an ``.xls`` that is really an ``.xlsx``, or tab-separated text). Rows come
out numbered as the worker sees them in Excel (1-based, title rows counted).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from python_calamine import CalamineError, CalamineWorkbook, PasswordError, SheetTypeEnum, SheetVisibleEnum

from firstline.people.importing.columns import HEADER_SEARCH_ROWS, count_matches

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ENCRYPTED_OOXML = "EncryptionInfo".encode("utf-16-le")  # stream name inside a password-protected .xlsx
CSV_DELIMITERS = (",", "\t", ";", "，", "|")
CONTROL_BYTES = bytes([*range(9), *range(14, 32)])  # not in any text file: tab, CR, LF and form feed excepted


class UnreadableFile(Exception):
    """The file as a whole cannot be read; ``message`` (lazy, English source) says why and what to do."""

    def __init__(self, message: Any, code: str) -> None:
        super().__init__(message)
        self.message = message
        # stable: "empty", "not_a_spreadsheet", "password", "encoding", "no_data", "no_header",
        # "too_many_rows", "too_many_columns", "too_many_cells", "unpacks_too_big"
        self.code = code

    def __str__(self) -> str:
        return with_limits(str(self.message))


def import_limits() -> dict[str, str]:
    """The reader's limits, as the messages about them show them."""
    return {
        "rows": f"{settings.IMPORT_MAX_ROWS:,}",
        "columns": f"{settings.IMPORT_MAX_COLUMNS:,}",
        "cells": f"{settings.IMPORT_MAX_CELLS:,}",
        "size": f"{settings.IMPORT_MAX_UNPACKED_BYTES // (1024 * 1024):,}",
    }


def with_limits(text: str) -> str:
    """A message about a limit is kept as its source (``%(rows)s``…) and gets the numbers when shown."""
    return text % import_limits() if "%(" in text else text


def too_many_rows() -> UnreadableFile:
    return UnreadableFile(
        _(
            "The file has more than %(rows)s rows, the most one import may hold. "
            "Split the list into several files and import them one by one."
        ),
        "too_many_rows",
    )


def too_many_columns() -> UnreadableFile:
    return UnreadableFile(
        _(
            "The file has more than %(columns)s columns, the most one import may hold. "
            "Delete the columns the list does not need and try again."
        ),
        "too_many_columns",
    )


def too_many_cells() -> UnreadableFile:
    return UnreadableFile(
        _(
            "The file has more than %(cells)s cells, the most one import may hold. "
            "Split the list into several files, or delete the columns it does not need."
        ),
        "too_many_cells",
    )


def unpacks_too_big() -> UnreadableFile:
    return UnreadableFile(
        _(
            "The file unpacks to more than %(size)s MB, far more than a list of residents. "
            "Open it in Excel, copy the list into a new workbook, save it and try again."
        ),
        "unpacks_too_big",
    )


def empty_file() -> UnreadableFile:
    return UnreadableFile(_("The file is empty. Choose the file that holds the list."), "empty")


def not_a_spreadsheet() -> UnreadableFile:
    return UnreadableFile(
        _("This is not a spreadsheet FirstLine can read. Save it in Excel as .xlsx (or .xls or .csv) and try again."),
        "not_a_spreadsheet",
    )


def password_protected() -> UnreadableFile:
    return UnreadableFile(
        _("The file is protected by a password. Open it in Excel, remove the password, save, and try again."),
        "password",
    )


def no_data() -> UnreadableFile:
    return UnreadableFile(_("The file has no data in it. Check that you chose the right file."), "no_data")


Span = tuple[tuple[int, int], tuple[int, int]]  # ((first row, first column), (last row, last column)), 0-based


@dataclass
class Table:
    """One sheet's cells: ``rows`` yields every row from row 1 of the sheet; cell j is column ``col_offset + j``.

    ``merged`` lists the merged cells (sheet coordinates); only the first cell of each holds the value.
    """

    name: str
    rows: Iterator[list[Any]]
    col_offset: int = 0
    merged: list[Span] = field(default_factory=list)
    height: int = 0  # rows in the sheet, title rows counted (for a progress bar: a CSV counts its lines)


def read_tables(path: str | Path) -> Generator[Table, None, None]:
    """Every worksheet with data, in workbook order (a CSV is one table).

    Raises ``UnreadableFile`` at the first row, column or cell over the limits
    (``IMPORT_MAX_ROWS``, ``IMPORT_MAX_COLUMNS``, ``IMPORT_MAX_CELLS``): empty rows and
    empty trailing cells do not count. An .xlsx is measured before it is unpacked.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head:
        raise empty_file()
    if head.startswith(ZIP_MAGIC) or head == OLE_MAGIC:
        if head.startswith(ZIP_MAGIC):
            check_zip(path)
        tables: Iterator[Table] = _workbook_tables(path, is_ole=head == OLE_MAGIC)
    else:
        tables = _text_tables(path.read_bytes())
    for table in tables:
        table.rows = within_limits(table.rows)
        yield table


def within_limits(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """``rows``, stopped by ``UnreadableFile`` at the first non-empty row, column or cell over the limits."""
    max_rows, max_columns, max_cells = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS, settings.IMPORT_MAX_CELLS
    cells = 0
    for number, row in enumerate(rows, start=1):
        width = len(row)
        while width and (row[width - 1] is None or row[width - 1] == ""):
            width -= 1
        if width:
            if number > max_rows:
                raise too_many_rows()
            if width > max_columns:
                raise too_many_columns()
            cells += width
            if cells > max_cells:
                raise too_many_cells()
        yield row


# --- measuring an .xlsx before calamine unpacks it (it builds each sheet whole, every cell of its extent)

SHEET_MEMBER = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
# A cell's reference (only cells and rows have an r attribute in a sheet; a row's has no letters).
# Two passes, each cheap: the rows of every cell, and the columns past Z (most lists have none).
CELL_ROW = re.compile(rb' r="[A-Z]{1,3}([0-9]{1,9})"')
WIDE_COLUMN = re.compile(rb' r="([A-Z]{2,3})[0-9]')
MAX_RATIO = 100  # unpacked / packed: a list of residents compresses 5–20×
RATIO_FLOOR = 20 * 1024 * 1024  # below this unpacked size the ratio does not matter
SCAN_CHUNK = 1 << 20


def check_zip(path: Path) -> None:
    """Refuse a zip that unpacks to too much, or an .xlsx sheet whose cells reach past the limits.

    The entries' sizes are read from the zip's directory, and the sheets are streamed (never held
    whole) looking for the furthest cell with a value; a sheet's declared dimension is not trusted.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # calamine says what it thinks of it
    with archive:
        members = archive.infolist()
        unpacked = sum(member.file_size for member in members)
        packed = sum(member.compress_size for member in members)
        if unpacked > settings.IMPORT_MAX_UNPACKED_BYTES:
            raise unpacks_too_big()
        if unpacked > RATIO_FLOOR and unpacked > MAX_RATIO * max(packed, 1):
            raise unpacks_too_big()
        for member in members:
            if SHEET_MEMBER.fullmatch(member.filename):
                try:
                    with archive.open(member) as stream:
                        _check_extent(stream)
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                    return


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _check_extent(stream: Any) -> None:
    """Raise at the first chunk whose cells reach past the row or column limit, or whose extent (from
    row 1 and column A, as calamine allocates it at most) is over the cell limit."""
    max_rows, max_columns, max_cells = settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS, settings.IMPORT_MAX_CELLS
    bottom, right = 0, 26  # columns A–Z are not looked at one by one: counted as 26
    tail = b""
    while chunk := stream.read(SCAN_CHUNK):
        data = tail + chunk
        end = data.rfind(b"<")  # a tag cut by the chunk's end is scanned with the next chunk
        if end < 0 or len(data) - end > 4096:
            end = len(data)
        tail = data[end:]
        rows = CELL_ROW.findall(data, 0, end)
        if rows:
            bottom = max(bottom, max(map(int, rows)))
            if bottom > max_rows:
                raise too_many_rows()
        wide = WIDE_COLUMN.findall(data, 0, end)
        if wide:
            right = max(right, max(_column_number(letters) for letters in set(wide)))
            if right > max_columns:
                raise too_many_columns()
        if bottom * right > max_cells:
            raise too_many_cells()


# --- spreadsheets


def _workbook_tables(path: Path, *, is_ole: bool) -> Iterator[Table]:
    try:
        with open(path, "rb") as handle:
            workbook = CalamineWorkbook.from_filelike(handle)
    except PasswordError:
        raise password_protected() from None
    except CalamineError:
        if is_ole and ENCRYPTED_OOXML in path.read_bytes():
            raise password_protected() from None
        raise not_a_spreadsheet() from None
    found = False
    with workbook:
        # Visible sheets first: a hidden sheet is more often an old copy or a lookup list.
        metas = sorted(workbook.sheets_metadata, key=lambda meta: meta.visible != SheetVisibleEnum.Visible)
        for meta in metas:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
            except CalamineError:
                continue
            start = sheet.start
            if start is None:  # an empty sheet; iter_rows() would fail on it
                continue
            found = True
            # iter_rows() pads the rows above the data with empty rows (row i is Excel row i + 1),
            # but starts the columns at the first used one: col_offset gives them back their place.
            merged = [span for span in sheet.merged_cell_ranges or () if span[1][0] > span[0][0]]
            yield Table(
                meta.name, iter(sheet.iter_rows()), col_offset=start[1], merged=merged, height=start[0] + sheet.height
            )
    if not found:
        raise no_data()


# --- text (CSV, tab-separated)


def _looks_like_text(data: bytes) -> bool:
    sample = data[:4096]
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return len(sample.translate(None, CONTROL_BYTES)) == len(sample)


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else GB18030 (a superset of GBK)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("The text file is in an unknown encoding. Save it from Excel as CSV (UTF-8) and try again."),
            "encoding",
        ) from None


def _text_tables(data: bytes) -> Iterator[Table]:
    if not _looks_like_text(data):
        raise not_a_spreadsheet()
    text = decode_text(data)
    if text.lstrip().lower().startswith(("<html", "<!doctype", "<table", "<?xml")):
        raise not_a_spreadsheet()  # a web page or XML saved with a spreadsheet name
    if not text.strip():
        raise empty_file()
    yield Table("csv", _csv_rows(text, sniff_delimiter(text)), height=text.count("\n") + (not text.endswith("\n")))


def _csv_rows(text: str, delimiter: str) -> Iterator[list[Any]]:
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            # ="0042…" is how some systems export a number that must stay text.
            yield [cell[2:-1] if cell.startswith('="') and cell.endswith('"') else cell for cell in row]
    except csv.Error:  # a cell over csv.field_size_limit() or a broken quote: not a list a person wrote
        raise not_a_spreadsheet() from None


def sniff_delimiter(text: str) -> str:
    """The delimiter under which the most known column names appear in one of the first rows."""
    lines = text[:65536].splitlines()[:HEADER_SEARCH_ROWS]
    best, best_count = ",", 0
    for delimiter in CSV_DELIMITERS:
        if not any(delimiter in line for line in lines):
            continue
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        except csv.Error:
            continue
        count = max((count_matches(row) for row in rows), default=0)
        if count > best_count:
            best, best_count = delimiter, count
    return best
