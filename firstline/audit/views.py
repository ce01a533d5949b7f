"""Export pages: thin views over ``audit.queries`` (reads) and ``audit.actions`` (writes).

An export is requested from the resident list with its filters, then downloaded
by its requester (POST: a link preview or prefetch never fetches a ledger). Other
people's exports are 404, approver or not; approvers see the pending exports of
their community on the Exports page and approve or refuse them there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from firstline.audit.actions import (
    can_approve,
    can_unmask_all,
    do_approve_export,
    do_download_export,
    do_refuse_export,
    do_request_export,
    over_threshold,
    role_in_community,
    taken_out_today,
)
from firstline.audit.exports import csv_chunks, xlsx_file
from firstline.audit.forms import DecisionForm, ExportForm
from firstline.audit.models import Export
from firstline.audit.queries import (
    decidable_export_or_404,
    describe_filters,
    export_rows,
    filters_from,
    own_export_or_404,
    own_exports,
    pending_exports,
    stored_filters,
)
from firstline.people.queries import search_kind
from firstline.people.views import UNMASKED_HEADER
from firstline.places.models import Community
from firstline.scoping import get_visible_or_404

LIST_FILTERS = ("grid", "building", "flag", "person_type", "status")


def _community(request: HttpRequest, code: str) -> Community:
    return get_visible_or_404(Community.objects.visible_to(request.user), code=code)


def _residents_url(community: Community, filters: dict[str, str]) -> str:
    """The resident list with the same filters (a name search included, never an ID number or phone)."""
    params = {name: value for name, value in filters.items() if name in LIST_FILTERS}
    if filters.get("q") and search_kind(filters["q"]) == "name":
        params["q"] = filters["q"]
    url = reverse("people:residents", kwargs={"community": community.code})
    return f"{url}?{urlencode(params)}" if params else url


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def export_new(request: HttpRequest, community: str) -> HttpResponse:
    """The export of the resident list with its filters: count, format, masking, reason → request."""
    place = _community(request, community)
    if not role_in_community(request.user, "view_ledger", place):
        raise PermissionDenied
    params = request.POST if request.method == "POST" else request.GET
    filters = filters_from(params)
    if filters.q and search_kind(filters.q) != "name":  # never echoed back, not even in a hidden field
        messages.info(
            request, _("For privacy, search for an ID number or phone with the search box, not in the address.")
        )
        return redirect("people:residents", community=place.code)
    kept = stored_filters(filters)
    rows = export_rows(request.user, place.id, kept, timezone.now())
    count = rows.count()
    may_unmask = bool(count) and can_unmask_all(request.user, rows)
    # The unmask box is offered only to who may use it; the action refuses anyone else who sends it.
    form = ExportForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            export = do_request_export(
                request.user,
                place,
                filters,
                format=form.cleaned_data["format"],
                unmasked=form.cleaned_data["unmasked"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            if export.state == Export.State.READY:
                messages.success(request, _("The export is ready to download."))
            return redirect("audit:export", code=export.code)  # a pending export says so on its page
    approver = can_approve(request.user, place)
    context: dict[str, Any] = {
        "community": place,
        "form": form,
        "count": count,
        "filters": describe_filters(request.user, place, kept),
        "hidden": sorted(kept.items()),
        "limit": settings.EXPORT_APPROVAL_ROWS,
        "over_limit": count > settings.EXPORT_APPROVAL_ROWS and not approver,
        "over_daily": count <= settings.EXPORT_APPROVAL_ROWS and over_threshold(request.user, count) and not approver,
        "taken_today": taken_out_today(request.user),
        "may_unmask": may_unmask,
        "unmask_needs_approval": may_unmask and not approver,
        "back": _residents_url(place, kept),
    }
    return render(request, "audit/export_new.html", context)


@login_required
def exports(request: HttpRequest, community: str) -> HttpResponse:
    """The user's own exports of the community and, for approvers, the exports waiting for them."""
    place = _community(request, community)
    mine = list(own_exports(request.user, place)[:50])
    pending = list(pending_exports(request.user, place)) if can_approve(request.user, place) else []
    for item in pending:
        item.filter_words = describe_filters(request.user, place, item.filters)  # type: ignore[attr-defined]
    return render(
        request,
        "audit/exports.html",
        {"community": place, "mine": mine, "pending": pending, "decision_form": DecisionForm()},
    )


@never_cache
@login_required
def export(request: HttpRequest, code: str) -> HttpResponse:
    """One of the user's exports: its state and, once ready, the download button."""
    item = own_export_or_404(request.user, code)
    return render(
        request,
        "audit/export.html",
        {
            "community": item.community,
            "export": item,
            "filters": describe_filters(request.user, item.community, item.filters),
            "back": _residents_url(item.community, item.filters),
        },
    )


@require_POST
@login_required
def export_download(request: HttpRequest, code: str) -> HttpResponseBase:
    """The file, built now from the ledger through the requester's scope (csv streamed, xlsx from a temp file)."""
    item = own_export_or_404(request.user, code)
    try:
        prepared = do_download_export(request.user, item, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("audit:export", code=item.code)
    response: HttpResponseBase
    if item.format == Export.Format.CSV:
        response = StreamingHttpResponse(csv_chunks(prepared), content_type=prepared.content_type)
        response["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'  # a public code: ASCII
    else:
        response = FileResponse(
            xlsx_file(prepared), as_attachment=True, filename=prepared.filename, content_type=prepared.content_type
        )
    if item.unmasked:
        response[UNMASKED_HEADER] = "1"
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def export_decide(request: HttpRequest, code: str) -> HttpResponse:
    """Approve or refuse a pending export of the approver's community (a refusal says why)."""
    item = decidable_export_or_404(request.user, code)
    form = DecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Choose whether to approve or refuse the export."))
        if form.cleaned_data["decision"] == "approve":
            do_approve_export(request.user, item, form.cleaned_data["reason"], request=request)
            messages.success(request, _("The export was approved; its requester can download it now."))
        else:
            do_refuse_export(request.user, item, form.cleaned_data["reason"], request=request)
            messages.success(request, _("The export was refused."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("audit:exports", community=item.community.code)
