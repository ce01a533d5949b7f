"""Ledger import on the web: upload → preview → confirm → progress → result.

Importing is a community-level operation: every view requires ``edit_ledger`` over
the community itself, which community administrators and community workers bound
to the community hold. A grid worker's membership does not reach the community:
she gets 403 (as on the team page), because an import may touch any building. A job
is looked up through ``ImportJob.objects.visible_to`` within the community, so a
job of another community is a 404.

Reading and applying a file run as jobs (``people.tasks``); the page polls one
fragment (htmx, every second) while a job runs and reloads itself when it is over.
The uploaded file is never served back; the problem report holds masked values only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from firstline.audit.log import record
from firstline.forms import ActionForm
from firstline.people.importing.apply import (
    do_confirm_import,
    do_discard_import,
    do_upload_import,
    is_stalled,
    read_progress,
    translated,
)
from firstline.people.importing.reader import CONTROL_BYTES, OLE_MAGIC, ZIP_MAGIC
from firstline.people.importing.report import report_bytes
from firstline.people.models import ImportJob, ImportProblem, ImportRow, Movement, Resident
from firstline.people.tasks import apply_import, read_import
from firstline.places.models import Community
from firstline.scoping import get_visible_or_404, require

ACCEPTED = (".xlsx", ".xls", ".ods", ".csv")
SHOWN_PROBLEMS = 100
SHOWN_RESIDENTS = 50


def _label(model: Any, name: str) -> Any:
    return model._meta.get_field(name).verbose_name


# The canonical fields of the parser, in words (for "header → field" on the preview).
FIELD_LABELS: dict[str, Any] = {
    "name": _label(Resident, "name"),
    "sex": _label(Resident, "sex"),
    "age": gettext_lazy("age"),
    "birth_date": _label(Resident, "birth_date"),
    "id_type": _label(Resident, "id_type"),
    "id_number": _label(Resident, "id_number_masked"),
    "phone": _label(Resident, "phone_masked"),
    "domicile": _label(Resident, "domicile"),
    "address": gettext_lazy("address"),
    "compound": gettext_lazy("compound"),
    "building": gettext_lazy("building"),
    "entrance": gettext_lazy("entrance"),
    "room": gettext_lazy("room"),
    "person_type": _label(Resident, "person_type"),
    "relation_to_head": _label(Resident, "relation_to_head"),
    "workplace": _label(Resident, "workplace"),
    "notes": _label(Resident, "notes"),
    "origin": _label(Movement, "origin"),
    "destination": _label(Movement, "destination"),
    "arrived_on": _label(Movement, "arrived_on"),
    "departed_on": _label(Movement, "departed_on"),
    "transport": _label(Movement, "transport"),
    "trip_number": _label(Movement, "trip_number"),
    "carriage": gettext_lazy("carriage"),
    "seat": gettext_lazy("seat"),
    "companions": gettext_lazy("travelling with"),
    "temperature": gettext_lazy("temperature"),
    "symptoms": gettext_lazy("symptoms"),
    "measures": gettext_lazy("measures taken"),
    "isolation_place": gettext_lazy("isolation place"),
    "isolation_start": gettext_lazy("isolation start"),
    "isolation_end": gettext_lazy("isolation end"),
    "batch": gettext_lazy("batch"),
}
CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "sex": dict(Resident.Sex.choices),
    "id_type": dict(Resident.IdType.choices),
    "person_type": dict(Resident.PersonType.choices),
    "relation_to_head": dict(Resident.Relation.choices),
    "transport": dict(Movement.Transport.choices),
}


class ImportForm(ActionForm):
    file = forms.FileField(label=gettext_lazy("Spreadsheet"))
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("Where the list comes from, e.g. the district command office."),
    )
    batch = forms.CharField(
        label=gettext_lazy("Batch"),
        max_length=100,
        required=False,
        help_text=gettext_lazy("The batch number written on the list, if any."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("An .xlsx, .xls, .ods or .csv file of at most %(size)s MB.") % {
            "size": settings.IMPORT_MAX_BYTES // (1024 * 1024)
        }
        self.fields["file"].widget.attrs["accept"] = ",".join(ACCEPTED)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise ValidationError(too_big())
        head = upload.read(4096)
        upload.seek(0)
        if Path(upload.name).suffix.lower() not in ACCEPTED or not looks_like_a_spreadsheet(head):
            raise ValidationError(_("This is not a spreadsheet: choose an .xlsx, .xls, .ods or .csv file."))
        return upload


def too_big() -> str:
    return _("The file is larger than %(size)s MB: split the list into several files.") % {
        "size": settings.IMPORT_MAX_BYTES // (1024 * 1024)
    }


def looks_like_a_spreadsheet(head: bytes) -> bool:
    """A workbook (zip or OLE container) or text: the full check is the parser's, in the job."""
    if head.startswith((ZIP_MAGIC, OLE_MAGIC[:4])):
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return bool(head) and len(head.translate(None, CONTROL_BYTES)) == len(head)


def _community(request: HttpRequest, code: str) -> Community:
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=code)
    require(request.user, "edit_ledger", place)
    return place


def _job(request: HttpRequest, place: Community, code: str) -> ImportJob:
    jobs = ImportJob.objects.visible_to(request.user, "edit_ledger").filter(community=place)
    job = get_visible_or_404(jobs.select_related("community", "created_by"), code=code)
    return job


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def import_upload(request: HttpRequest, community: str) -> HttpResponse:
    """The upload form, and the community's recent imports."""
    place = _community(request, community)
    status = 200
    if request.method == "POST":
        if int(request.META.get("CONTENT_LENGTH") or 0) > settings.IMPORT_MAX_BYTES + 64 * 1024:
            form = ImportForm()  # too big to read at all: refused before the upload is taken in
            messages.error(request, too_big())
            status = 413
        else:
            form = ImportForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data
                job = do_upload_import(request.user, place, data["file"], data["source"], data["batch"])
                read_import(job.code)
                return redirect("people:import_job", community=place.code, code=job.code)
    else:
        form = ImportForm()
    jobs = ImportJob.objects.visible_to(request.user, "edit_ledger").filter(community=place)
    return render(
        request,
        "people/import_upload.html",
        {"community": place, "form": form, "jobs": jobs.select_related("created_by")[:10]},
        status=status,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def import_job(request: HttpRequest, community: str, code: str) -> HttpResponse:
    """One import: its progress (an htmx fragment while a job runs), preview and choice, or result."""
    place = _community(request, community)
    job = _job(request, place, code)
    if request.method == "POST":
        return _decide(request, job)
    running = job.status in (ImportJob.Status.PARSING, ImportJob.Status.APPLYING)
    if getattr(request, "htmx", False):
        if not running:
            return HttpResponseClientRefresh()  # done: show the whole result page
        return render(request, "people/import_job.html#progress", _progress_context(job))
    context: dict[str, Any] = {"community": place, "job": job, **_progress_context(job)}
    if job.status == ImportJob.Status.PREVIEWED:
        context.update(_preview_context(job))
    elif job.status in (ImportJob.Status.APPLIED, ImportJob.Status.REFUSED):
        context.update(_result_context(job))
    elif job.status == ImportJob.Status.FAILED:
        context["failure"] = translated(job.failure)
    return render(request, "people/import_job.html", context)


def _decide(request: HttpRequest, job: ImportJob) -> HttpResponse:
    action = request.POST.get("action", "")
    try:
        if action in ("apply_all", "apply_valid", "resume"):
            if do_confirm_import(request.user, job, accept_valid=action == "apply_valid" or job.accept_valid):
                apply_import(job.code, request.user.pk)
            else:
                messages.info(request, _("This import is no longer waiting for a decision."))
        elif action == "discard":
            do_discard_import(request.user, job)
        else:
            messages.error(request, _("Choose what to do with this file."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("people:import_job", community=job.community.code, code=job.code)


def _progress_context(job: ImportJob) -> dict[str, Any]:
    progress = read_progress(job.code) if job.status == ImportJob.Status.APPLYING else None
    percent = None
    if progress and progress.get("total"):
        percent = min(100, int(100 * progress.get("done", 0) / progress["total"]))
    stalled = job.status == ImportJob.Status.APPLYING and is_stalled(job)
    return {"job": job, "progress": progress, "percent": percent, "stalled": stalled}


def _columns(job: ImportJob) -> tuple[list[dict[str, Any]], list[str]]:
    mapped = [
        {"header": column["header"], "field": column["field"], "label": FIELD_LABELS.get(column["field"], "")}
        for column in job.columns
        if column["field"]
    ]
    unmapped = [column["header"] for column in job.columns if not column["field"]]
    return mapped, unmapped


def _preview_context(job: ImportJob) -> dict[str, Any]:
    mapped, unmapped = _columns(job)
    fields = list(dict.fromkeys(column["field"] for column in mapped))
    rows = []
    for row in job.preview:
        cells = []
        for name in fields:
            value = row["fields"].get(name, "")
            cells.append((FIELD_LABELS.get(name, name), CHOICE_LABELS.get(name, {}).get(value, value)))
        rows.append({"row": row["row"], "ok": row["ok"], "cells": cells})
    return {
        "mapped": mapped,
        "unmapped": unmapped,
        "preview_rows": rows,
        **_problems_context(job),
    }


def _problems_context(job: ImportJob) -> dict[str, Any]:
    problems = job.problems.exclude(code="possible_duplicate")
    duplicates = job.problems.filter(code="possible_duplicate")
    return {
        "problems": list(problems[:SHOWN_PROBLEMS]),
        "problem_count": problems.count(),
        "duplicate_rows": list(duplicates.values_list("row", flat=True)[:SHOWN_PROBLEMS]),
        "shown_problems": SHOWN_PROBLEMS,
    }


def _result_context(job: ImportJob) -> dict[str, Any]:
    lines = ImportRow.objects.filter(job=job).select_related("resident").order_by("row")
    return {
        **_problems_context(job),
        "created_lines": list(lines.filter(outcome=ImportRow.Outcome.CREATED)[:SHOWN_RESIDENTS]),
        "updated_lines": list(lines.filter(outcome=ImportRow.Outcome.UPDATED)[:SHOWN_RESIDENTS]),
        "duplicate_lines": list(lines.filter(outcome=ImportRow.Outcome.POSSIBLE_DUPLICATE)[:SHOWN_RESIDENTS]),
        "shown_residents": SHOWN_RESIDENTS,
    }


@never_cache
@require_GET
@login_required
def import_report(request: HttpRequest, community: str, code: str) -> HttpResponse:
    """The problem report (xlsx): masked values, problems in Chinese and English. Downloading it is audited."""
    place = _community(request, community)
    job = _job(request, place, code)
    problems = ImportProblem.objects.filter(job=job).order_by("row", "id")
    content = report_bytes(problems, title=f"{job.filename} · {job.code}")
    record(
        "read",
        actor=request.user,
        role=require(request.user, "edit_ledger", place),
        object_type="import_report",
        object_code=job.code,
        community_id=place.id,
        detail={"problems": job.problems.count()},
        request=request,
    )
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="import-{job.code}-problems.xlsx"'
    return response
