"""Printed paper: the letter to residents (致居民的信) and the gate's self-declaration poster, as PDF.

A letter is one A4 page per household: the community's text (what to do, the
check-in windows, the fever threshold, the hotline when the worker gives one),
the household's address — never a name or an ID number — its login code and a QR
code that opens the self check-in page with the code filled in. The code travels
in the URL's fragment (``/checkin/#K7P3-Q9MX``): a browser never sends a fragment
to the server, so the code does not reach an access log.

WeasyPrint lays out about 60 pages a second here (``docs/letters.md``), so a
building of 300 households takes seconds: letters for a building are rendered by a
job on the queue (``render_letters``), which reports its progress in a small JSON
file under ``DATA_DIR/letters/`` beside the PDF it writes; the page polls it. Tests
run the job at once. Files older than ``KEPT_HOURS`` are deleted when a new job starts.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from huey.contrib.djhuey import db_task

from firstline.accounts.household_codes import code_of, current_logins, do_issue_household_codes, format_code
from firstline.audit.log import record
from firstline.jobs import JobFiles
from firstline.places.models import Building, Community, Gate, Household
from firstline.scoping import require
from firstline.status.rules import rules_for

CHUNK = 50  # households laid out per step of a job (the progress moves between steps)
KEPT_HOURS = 24


def qr_data_uri(text: str) -> str:
    """A QR code as an SVG data URI: crisp at any print size, laid out the same by WeasyPrint and browsers."""
    return segno.make(text, error="m").svg_data_uri(omitsize=True, border=2)


def checkin_url(base: str, code: str) -> str:
    """The address a letter's QR code opens: ``base`` is the absolute URL of the check-in page."""
    return f"{base}#{format_code(code)}"


def _hours(start: int, end: int) -> str:
    return f"{start % 24}:00–{end % 24}:00"


@dataclass(frozen=True)
class LetterText:
    """What a worker may add when printing: the community's hotline and a short note of its own."""

    hotline: str = ""
    note: str = ""


def letter_context(community: Community, text: LetterText) -> dict[str, Any]:
    rules = rules_for(community.pk)
    windows = [_hours(start, end) for start, end in rules.checkin_windows]
    return {
        "community": community,
        "morning": windows[0] if windows else "",
        "evening": windows[1] if len(windows) > 1 else "",
        "fever_threshold": Decimal(rules.fever_threshold).quantize(Decimal("0.1")),
        "hotline": text.hotline,
        "note": text.note,
        "today": timezone.localdate(),
    }


def letters_html(
    community: Community, households: list[Household], codes: dict[int, str], base: str, text: LetterText
) -> str:
    pages = []
    for household in households:
        code = codes[household.pk]
        url = checkin_url(base, code)
        pages.append({"address": household.address, "code": format_code(code), "url": url, "qr": qr_data_uri(url)})
    context = {**letter_context(community, text), "pages": pages, "checkin_base": base}
    return render_to_string("status/letters/letters.html", context)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported on use: it loads fonts and cairo-free layout code (~0.3 s)

    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def _households(households: list[Household]) -> list[Household]:
    ids = [household.pk for household in households]
    return list(
        Household.objects.filter(pk__in=ids)
        .select_related("building", "entrance")
        .order_by("building_id", "entrance__number", "floor", "room", "id")
    )


def household_codes(households: list[Household]) -> dict[int, str]:
    return {household_id: code_of(login) for household_id, login in current_logins(households).items()}


def do_print_letters(
    actor: Any, households: list[Household], *, place: Any, base: str, text: LetterText, request: Any = None
) -> dict[int, str]:
    """Prepare letters for ``households``: those without a code get one; the printing is audited.

    Returns household id → code. The PDF itself is made by ``letters_pdf`` (one
    household, in the request) or by the ``render_letters`` job (a building).
    """
    role = ""
    for household in households:
        role = require(actor, "edit_ledger", household)
    do_issue_household_codes(actor, households, only_missing=True, place=place, request=request)
    record(
        "export",
        actor=actor,
        role=role,
        object_type="letters",
        object_code=place.code,
        community_id=households[0].community_id if households else None,
        detail={"households": len(households)},
        request=request,
    )
    return household_codes(households)


def letters_pdf(community: Community, households: list[Household], base: str, text: LetterText) -> bytes:
    """The letters of ``households`` (which all have an open code) as one PDF, in the active language."""
    ordered = _households(households)
    return html_to_pdf(letters_html(community, ordered, household_codes(ordered), base, text))


def poster_pdf(community: Community, gate: Gate | None, url: str) -> bytes:
    context = {"community": community, "gate": gate, "url": url, "qr": qr_data_uri(url)}
    return html_to_pdf(render_to_string("status/letters/poster.html", context))


def do_print_poster(actor: Any, community: Community, gate: Gate | None, url: str, request: Any = None) -> bytes:
    """The gate's (or the community's) self-declaration poster; printing it is audited."""
    role = require(actor, "edit_ledger", community)
    record(
        "export",
        actor=actor,
        role=role,
        object_type="poster",
        object_code=gate.code if gate is not None else community.code,
        community_id=community.pk,
        request=request,
    )
    return poster_pdf(community, gate, url)


# --- the job: a building's letters ------------------------------------------------------------


# The job's files (``firstline.jobs.JobFiles``), under the names the pages use.
FILES = JobFiles("letters", hours=KEPT_HOURS)
letters_dir = FILES.folder
job_path = FILES.job_path
pdf_path = FILES.output_path
read_job = FILES.read
_write_job = FILES.write
purge_old_letters = FILES.purge


def start_letters(
    actor: Any, building: Building, households: list[Household], *, base: str, text: LetterText, request: Any = None
) -> str:
    """Prepare a building's letters (codes, audit) and queue the PDF; returns the job's token."""
    do_print_letters(actor, households, place=building, base=base, text=text, request=request)
    purge_old_letters()
    token = secrets.token_hex(12)
    _write_job(
        {
            "token": token,
            "user": actor.pk,
            "building": building.pk,
            "households": [household.pk for household in households],
            "base": base,
            "hotline": text.hotline,
            "note": text.note,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            "state": "queued",
            "done": 0,
            "total": len(households),
            "seconds": None,
        }
    )
    render_letters(token)
    return token


@db_task()
def render_letters(token: str) -> None:
    """Lay out a building's letters, ``CHUNK`` households at a time, into one PDF (see the module docstring)."""
    from weasyprint import HTML

    job = read_job(token)
    if job is None or job["state"] != "queued":
        return
    started = time.monotonic()
    building = Building.objects.select_related("community").get(pk=job["building"])
    households = _households(list(Household.objects.filter(pk__in=job["households"], building=building)))
    text = LetterText(hotline=job["hotline"], note=job["note"])
    job.update(state="rendering", total=len(households))
    _write_job(job)
    with FILES.failing(job), translation.override(job["language"]):
        codes = household_codes(households)
        documents = []
        for start in range(0, len(households), CHUNK):
            part = households[start : start + CHUNK]
            html = letters_html(building.community, part, codes, job["base"], text)
            documents.append(HTML(string=html, base_url=str(settings.BASE_DIR)).render())
            job["done"] = start + len(part)
            _write_job(job)
        job["state"] = "writing"
        _write_job(job)
        pages = [page for document in documents for page in document.pages]
        pdf = documents[0].copy(pages).write_pdf() if documents else b""
        scratch = pdf_path(token).with_suffix(".part")
        scratch.write_bytes(pdf)
        os.replace(scratch, pdf_path(token))
    job.update(state="done", seconds=round(time.monotonic() - started, 2), pages=len(pages))
    _write_job(job)
