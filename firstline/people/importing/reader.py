"""Cells out of a file: spreadsheets through python-calamine, CSV and tab-separated text by hand.

The format is decided by the file's first bytes, not its name: offices rename files
freely (an ``.xls`` that is really an ``.xlsx``, or tab-separated text). Rows come
out numbered as the worker sees them in Excel (1-based, title rows counted).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        self.code = code  # stable: "empty", "not_a_spreadsheet", "password", "encoding", "no_data", "no_header"

    def __str__(self) -> str:
        return str(self.message)


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
    """Every worksheet with data, in workbook order (a CSV is one table)."""
    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head:
        raise empty_file()
    if head.startswith(ZIP_MAGIC) or head == OLE_MAGIC:
        yield from _workbook_tables(path, is_ole=head == OLE_MAGIC)
        return
    yield from _text_tables(path.read_bytes())


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
