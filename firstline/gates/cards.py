"""Passes on screen and on paper: the QR code, the short code as printed, and a building's sheet of cards.

A card carries what the gate needs and no more: the QR code of the token, the short
code under it (typed when the camera cannot read), the kind, the masked name
(张*), the building and entrance (单元; not the room), the validity dates and the
community's name. No ID number, no phone, no full name.

A sheet is ten cards to an A4 page (two columns of five), laid out by WeasyPrint
with Noto Sans CJK like the letters to residents (``status.letters``). A building's
sheet is made by a job on the queue (``render_cards``) which reports its progress
in a JSON file under ``DATA_DIR/cards/`` beside the PDF it writes, the way the
letters do; the page polls it. Tests run the job at once.
"""

from __future__ import annotations

import os
import secrets
import time
from typing import Any

import segno
from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from huey.contrib.djhuey import db_task

from firstline.audit.log import record
from firstline.gates.actions import token_for
from firstline.gates.models import Pass
from firstline.jobs import JobFiles
from firstline.places.models import Building
from firstline.scoping import require
from firstline.status.letters import qr_data_uri

PER_PAGE = 10  # two columns of five cards on A4
CHUNK = 100  # cards laid out per step of a job (the progress moves between steps)
KEPT_HOURS = 24


def format_short_code(code: str) -> str:
    """``K3F9X2Q`` → ``K3F9 X2Q``: a group of four and a group of three are easier to read out."""
    return f"{code[:4]} {code[4:]}" if len(code) > 4 else code


def qr_svg(token: str) -> str:
    """The token's QR code as inline SVG (for pages; ``qr_data_uri`` for paper)."""
    return segno.make(token, error="m").svg_inline(omitsize=True, border=2, svgclass="qr", lineclass="qrline")


def sheet_passes(building: Building, kind: str, now: Any = None) -> QuerySet[Pass]:
    """The passes a building's sheet shows: active, not yet expired, of one kind, in address order."""
    return (
        Pass.objects.filter(
            building=building, kind=kind, state=Pass.State.ACTIVE, valid_until__gt=now or timezone.now()
        )
        .select_related("household__entrance")
        .order_by("household__entrance__number", "household__floor", "household__room", "household_id", "id")
    )


def card_rows(passes: list[Pass], building: Building) -> list[dict[str, Any]]:
    keys: dict[int, Any] = {}
    rows = []
    for item in passes:
        entrance = item.household.entrance if item.household is not None else None
        rows.append(
            {
                "code": item.code,
                "qr": qr_data_uri(token_for(item, keys)),
                "short_code": format_short_code(item.short_code),
                "kind": item.get_kind_display(),
                "masked_name": item.masked_name,
                "plate": item.plate,
                "entrance": entrance.number if entrance is not None else None,
                "valid_from": timezone.localtime(item.valid_from).date(),
                "valid_until": timezone.localtime(item.valid_until).date(),
            }
        )
    return rows


def cards_html(building: Building, rows: list[dict[str, Any]]) -> str:
    pages = [rows[start : start + PER_PAGE] for start in range(0, len(rows), PER_PAGE)]
    context = {"building": building, "community": building.community, "pages": pages}
    return render_to_string("gates/cards.html", context)


# --- the job: a building's sheet of cards ---------------------------------------------------------


# The job's files (``firstline.jobs.JobFiles``), under the names the pages use.
FILES = JobFiles("cards", hours=KEPT_HOURS)
cards_dir = FILES.folder
job_path = FILES.job_path
pdf_path = FILES.output_path
read_job = FILES.read
_write_job = FILES.write
purge_old_cards = FILES.purge


def do_print_cards(actor: Any, building: Building, kind: str, request: Any = None) -> str:
    """Queue the sheet of a building's active passes of ``kind`` (``edit_ledger`` over the building), audited.

    Returns the job's token; the job reads the passes when it runs.
    """
    role = require(actor, "edit_ledger", building)
    if kind not in Pass.Kind.values:
        kind = Pass.Kind.OUTING
    count = sheet_passes(building, kind).count()
    purge_old_cards()
    token = secrets.token_hex(12)
    _write_job(
        {
            "token": token,
            "user": actor.pk,
            "building": building.pk,
            "kind": kind,
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            "state": "queued",
            "done": 0,
            "total": count,
            "pages": 0,
            "seconds": None,
        }
    )
    record(
        "export",
        actor=actor,
        role=role,
        object_type="pass_cards",
        object_code=building.code,
        community_id=building.community_id,
        detail={"kind": kind, "passes": count},
        request=request,
    )
    render_cards(token)
    return token


def make_cards_pdf(building: Building, kind: str, progress: Any = None) -> tuple[bytes, int, int]:
    """The sheet as PDF bytes, with the number of cards and pages; ``progress(done, total)`` after each step."""
    from weasyprint import HTML  # imported on use: it loads fonts and layout code (~0.3 s)

    passes = list(sheet_passes(building, kind))
    documents = []
    for start in range(0, len(passes), CHUNK):
        part = passes[start : start + CHUNK]
        html = cards_html(building, card_rows(part, building))
        documents.append(HTML(string=html, base_url=str(settings.BASE_DIR)).render())
        if progress is not None:
            progress(start + len(part), len(passes))
    if not documents:  # a sheet that says there is nothing to print, rather than no file
        documents.append(HTML(string=cards_html(building, []), base_url=str(settings.BASE_DIR)).render())
    pages = [page for document in documents for page in document.pages]
    return documents[0].copy(pages).write_pdf(), len(passes), len(pages)


@db_task()
def render_cards(token: str) -> None:
    """Lay out a building's cards, ``CHUNK`` at a time, into one PDF (see the module docstring)."""
    job = read_job(token)
    if job is None or job["state"] != "queued":
        return
    started = time.monotonic()
    building = Building.objects.select_related("community").get(pk=job["building"])
    job["state"] = "rendering"
    _write_job(job)

    def progress(done: int, total: int) -> None:
        job.update(done=done, total=total)
        _write_job(job)

    with FILES.failing(job), translation.override(job["language"]):
        pdf, count, pages = make_cards_pdf(building, job["kind"], progress)
        scratch = pdf_path(token).with_suffix(".part")
        scratch.write_bytes(pdf)
        os.replace(scratch, pdf_path(token))
    job.update(state="done", done=count, total=count, pages=pages, seconds=round(time.monotonic() - started, 2))
    _write_job(job)
