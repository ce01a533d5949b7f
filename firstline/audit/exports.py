"""Building export files: the one export path for the resident ledger, xlsx and csv.

A file is built from an export that ``audit.actions.do_download_export`` has
checked and audited (``Prepared``); nothing here decides who may export what.

Every file says what it is before its first data row, so a copy that travels
keeps its origin: the watermark (a warning not to forward it, who exported it
and when in local time, the community, the export ID, masked or not) fills the
first rows of the sheet and the first line of the csv, the page header and footer
when printed, and the xlsx document properties (title, author, comments,
keywords, custom properties).

Cells are data, never formulas: every text that a spreadsheet could read as a
formula or a control sequence (starting with ``= + - @``, tab, CR or NUL) is
prefixed with a single quote, in both formats, and xlsx cells are written with
``write_string``/``write_number`` only. ID numbers and phones are the masked
copies unless the export was approved unmasked; then they are unsealed here,
row by row, as the file is written.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from firstline.audit.models import Export
from firstline.people.idcard import domicile_shown_masked
from firstline.people.models import CARE_FLAGS, Resident, Status
from firstline.people.queries import FLAG_LABELS
from firstline.sealing import unseal
from firstline.xlsx import STYLE_HEADER, STYLE_WARNING, Properties, SheetWriter

# A spreadsheet reads a cell starting with one of these as a formula or control sequence.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
CSV_CHUNK_ROWS = 1000
ITERATOR_CHUNK = 2000
WATERMARK_ROWS = 2  # rows above the column headers


def escape(text: str) -> str:
    """``=1+1`` → ``'=1+1``: a text a spreadsheet would evaluate is kept as text."""
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass(frozen=True)
class Column:
    label: str
    width: int


def columns() -> list[Column]:
    """The exported columns, labelled in the active language (zh-Hans by default)."""
    return [
        Column(_("name"), 10),
        Column(_("sex"), 5),
        Column(_("birth date"), 11),
        Column(_("age"), 5),
        Column(_("ID type"), 10),
        Column(_("ID number"), 20),
        Column(_("phone"), 13),
        Column(_("relation to head"), 8),
        Column(_("person type"), 10),
        Column(_("care flags"), 16),
        Column(_("status"), 8),
        Column(_("compound"), 12),
        Column(_("building"), 10),
        Column(_("entrance"), 6),
        Column(_("room"), 7),
        Column(_("domicile (household registration)"), 24),
        Column(_("workplace or school"), 20),
        Column(_("notes"), 30),
        Column(_("grid"), 10),
    ]


AGE_COLUMN = 3
PLAIN_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_type",
    "relation_to_head",
    "person_type",
    *CARE_FLAGS,
    "status",
    "building__compound__name",
    "building__name",
    "household__entrance__number",
    "household__room",
    "domicile",
    "workplace",
    "notes",
    "grid__name",
)
MASKED_FIELDS = ("id_number_masked", "phone_masked")
SEALED_FIELDS = ("id_number_sealed", "phone_sealed")


@dataclass(frozen=True)
class Watermark:
    """Who exported what, when: the same words in the sheet, the print header and the file properties."""

    warning: str
    export_code: str
    community: str
    who: str
    username: str
    at: datetime  # aware
    rows: int
    unmasked: bool

    @property
    def local_time(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} ({settings.TIME_ZONE})"

    @property
    def masking(self) -> str:
        if self.unmasked:
            return _("UNMASKED: full ID numbers and phones")
        return _("ID numbers and phones masked")

    @property
    def lines(self) -> list[str]:
        rows = ngettext("%(count)s row", "%(count)s rows", self.rows) % {"count": self.rows}
        export_id = _("Export ID %(code)s") % {"code": self.export_code}
        return [
            f"{self.warning} · {export_id} · {self.masking}",
            " · ".join(
                [
                    _("Exported by %(name)s (%(username)s)") % {"name": self.who, "username": self.username},
                    _("at %(time)s") % {"time": self.local_time},
                    self.community,
                    rows,
                ]
            ),
        ]

    @property
    def text(self) -> str:
        return " · ".join(self.lines)


def watermark_for(export: Export, rows: int, at: datetime | None = None) -> Watermark:
    user = export.requested_by
    return Watermark(
        warning=_("Internal — do not forward"),
        export_code=export.code,
        community=export.community.name,
        who=user.display_name(),
        username=user.get_username(),
        at=at or timezone.now(),
        rows=rows,
        unmasked=export.unmasked,
    )


def _age(born: date | None, today: date) -> int | None:
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def rows_of(queryset: QuerySet[Resident], unmasked: bool, today: date | None = None) -> Iterator[list[Any]]:
    """The export's rows, one list of cell values per resident, in the order of ``columns()``.

    Texts are escaped; the age is an int (or None); empty values are ``""``.
    One query, streamed in chunks: no model instances, labels looked up once.
    """
    today = today or timezone.localdate()
    sexes = {key: str(label) for key, label in Resident.Sex.choices}
    id_types = {key: str(label) for key, label in Resident.IdType.choices}
    relations = {key: str(label) for key, label in Resident.Relation.choices}
    person_types = {key: str(label) for key, label in Resident.PersonType.choices}
    statuses = {key: str(label) for key, label in Status.choices}
    flag_labels = [str(FLAG_LABELS[flag]) for flag in CARE_FLAGS]
    joiner = "、" if (get_language() or "").startswith("zh") else ", "
    sealed = SEALED_FIELDS if unmasked else MASKED_FIELDS
    values = queryset.order_by("id").values_list(*PLAIN_FIELDS, *sealed).iterator(chunk_size=ITERATOR_CHUNK)
    first_flag, after_flags = 6, 6 + len(CARE_FLAGS)
    for value in values:
        (name, sex, born, id_type, relation, person_type) = value[:first_flag]
        flags = joiner.join(label for label, on in zip(flag_labels, value[first_flag:after_flags], strict=True) if on)
        (status, compound, building, entrance, room, domicile, workplace, notes, grid, id_number, phone) = value[
            after_flags:
        ]
        if unmasked:
            id_number = unseal(id_number, "id_number") if id_number else ""
            phone = unseal(phone, "phone") if phone else ""
        row = [
            name,
            sexes.get(sex, sex),
            born.isoformat() if born and unmasked else "",  # masked: the age only (docs/security.md)
            _age(born, today),
            id_types.get(id_type, id_type),
            id_number,
            phone,
            relations.get(relation, relation),
            person_types.get(person_type, person_type),
            flags,
            statuses.get(status, status),
            compound or "",
            building or "",
            str(entrance) if entrance is not None else "",
            room or "",
            domicile if unmasked else domicile_shown_masked(domicile),
            workplace,
            notes,
            grid,
        ]
        yield [cell if cell.__class__ is not str or not cell.startswith(FORMULA_START) else "'" + cell for cell in row]


@dataclass
class Prepared:
    """An export cleared for download: its rows (the requester's scope, now) and its watermark."""

    export: Export
    queryset: QuerySet[Resident]
    watermark: Watermark

    @property
    def filename(self) -> str:
        return f"firstline-{self.export.code}.{self.export.format}"

    @property
    def content_type(self) -> str:
        if self.export.format == Export.Format.CSV:
            return "text/csv; charset=utf-8"
        return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_dir() -> Path:
    """Where files are assembled while they are built (owner-only); nothing stays there afterwards."""
    folder = Path(settings.DATA_DIR) / "exports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _header_footer_text(text: str) -> str:
    # "&" starts a control code in Excel page headers; a literal one is "&&".
    return text.replace("&", "&&")[:120]


def write_xlsx(prepared: Prepared, out: IO[bytes] | str | os.PathLike[str]) -> int:
    """Write the workbook to ``out`` (a path or a binary file), streaming. Returns the data rows written."""
    mark = prepared.watermark
    cols = columns()
    properties = Properties(
        title=escape(f"{mark.warning} · {mark.export_code}"),
        subject=escape(mark.community),
        author=escape(f"{mark.who} ({mark.username})"),
        comments=escape(mark.text),
        keywords=f"{mark.export_code}, {mark.masking}",
        category=mark.warning,
        created=mark.at,
        custom={
            "FirstLine export ID": mark.export_code,
            "FirstLine exported by": mark.username,
            "FirstLine unmasked": mark.unmasked,
        },
    )
    with SheetWriter(
        out if not isinstance(out, os.PathLike) else os.fspath(out),
        str(_("Residents")),
        widths=[column.width for column in cols],
        freeze=(WATERMARK_ROWS + 1, 1),
        print_header=f"&L{_header_footer_text(mark.warning)}&R{_header_footer_text(mark.export_code)}",
        print_footer=f"&L{_header_footer_text(f'{mark.username} · {mark.local_time}')}&R&P / &N",
        properties=properties,
    ) as sheet:
        for line in mark.lines:
            sheet.row([escape(line)], STYLE_WARNING)
        sheet.row([column.label for column in cols], STYLE_HEADER)
        for cells in rows_of(prepared.queryset, mark.unmasked):
            sheet.row(cells)
        return sheet.rows_written - WATERMARK_ROWS - 1


def xlsx_file(prepared: Prepared) -> IO[bytes]:
    """The workbook in an anonymous temporary file (already unlinked), rewound for reading."""
    handle = tempfile.TemporaryFile(dir=export_dir())  # noqa: SIM115 - the caller streams and closes it
    try:
        write_xlsx(prepared, handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return handle


class _Lines(io.StringIO):
    def take(self) -> str:
        text = self.getvalue()
        self.seek(0)
        self.truncate()
        return text


def csv_chunks(prepared: Prepared) -> Iterator[bytes]:
    """The csv as UTF-8 with a byte-order mark (so that Excel reads Chinese), in chunks of rows."""
    mark = prepared.watermark
    buffer = _Lines()
    writer = csv.writer(buffer)
    writer.writerow([escape(mark.text)])
    writer.writerow([column.label for column in columns()])
    yield ("\ufeff" + buffer.take()).encode("utf-8")
    pending = 0
    for cells in rows_of(prepared.queryset, mark.unmasked):
        writer.writerow(cells)
        pending += 1
        if pending == CSV_CHUNK_ROWS:
            yield buffer.take().encode("utf-8")
            pending = 0
    if pending:
        yield buffer.take().encode("utf-8")


def write_file(prepared: Prepared, path: Path) -> None:
    """Write the export to ``path``, readable by its owner only (CLI)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        if prepared.export.format == Export.Format.CSV:
            for chunk in csv_chunks(prepared):
                out.write(chunk)
        else:
            write_xlsx(prepared, out)
    path.chmod(0o600)
