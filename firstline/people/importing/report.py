"""The problem report of an import: one xlsx row per problem, in Chinese and English.

Columns: the row number as the worker sees it in Excel, the column as headed in the
file, the value (ID numbers and phones masked — the report is meant to travel back
to whoever sent the list), and the problem in zh-Hans and in English. Possible
duplicates are listed too, so that they can be checked by hand. Every cell is
written as text, and text that a spreadsheet would evaluate starts with ``'``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from firstline.audit.exports import escape
from firstline.people.models import ImportProblem
from firstline.xlsx import STYLE_HEADER, STYLE_WARNING, STYLE_WRAP, Properties, SheetWriter

LANGUAGES = ("zh-hans", "en")
HEADERS = (_("Row"), _("Column"), _("Value (masked)"))
PROBLEM_HEADERS = {"zh-hans": _("Problem (Chinese)"), "en": _("Problem (English)")}
WIDTHS = (8, 18, 24, 60, 60)


def _both(label: object) -> str:
    parts = []
    for language in LANGUAGES:
        with translation.override(language):
            parts.append(str(label))
    return parts[0] if parts[0] == parts[1] else " / ".join(parts)


def write_report(problems: Iterable[ImportProblem], target: str | Path | IO[bytes], title: str = "") -> int:
    """Write the report to a path or a binary file object; returns the number of problems written."""
    with translation.override("zh-hans"):
        sheet_name = str(_("Problems"))
    headers = [_both(label) for label in HEADERS]
    for language in LANGUAGES:
        with translation.override(language):
            headers.append(str(PROBLEM_HEADERS[language]))
    with SheetWriter(
        str(target) if isinstance(target, Path) else target,
        sheet_name,
        widths=WIDTHS,
        freeze=(2 if title else 1, 0),
        properties=Properties(title=title or sheet_name, comments="FirstLine"),
    ) as sheet:
        if title:
            sheet.row([escape(title)], STYLE_WARNING)
        sheet.row(headers, STYLE_HEADER)
        above = sheet.rows_written
        for problem in problems:
            sheet.row(
                [problem.row, escape(problem.column), escape(problem.value)]
                + [problem.message(language) for language in LANGUAGES],
                STYLE_WRAP,
            )
        return sheet.rows_written - above


def report_bytes(problems: Iterable[ImportProblem], title: str = "") -> bytes:
    buffer = io.BytesIO()
    write_report(problems, buffer, title)
    return buffer.getvalue()
