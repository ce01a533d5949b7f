"""The pass pages: staff list, look at, issue and revoke passes, decide residents' requests and print
a building's cards; a household sees its members' passes and asks for one.

Staff pages follow the ledger's rules: scoped lookups (404 outside scope),
``edit_ledger`` checked before a form is shown and again by the action, and opening a
pass (its masked holder and its QR code) is audited like opening a resident. The QR
code is shown only to whoever may issue the pass: it is the credential itself.

The household's page (``/checkin/passes/``) lives behind the household session of
the self check-in (``status.public_views``): the code on the letter, never a name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstline.audit.log import record
from firstline.gates import cards
from firstline.gates.actions import (
    do_approve_request,
    do_decline_request,
    do_issue_pass,
    do_request_pass,
    do_revoke_pass,
    token_for,
)
from firstline.gates.forms import ApproveForm, DeclineForm, IssueForm, RequestForm, RevokeForm, SheetForm
from firstline.gates.models import Pass, PassRequest
from firstline.people.models import Resident
from firstline.places.models import Building, Community, Gate
from firstline.scoping import get_visible_or_404, memberships_with, require, role_for, user_can
from firstline.sealing import mask_name
from firstline.status.models import IsolationOrder
from firstline.status.public_views import household_login_of

PAGE_SIZE = 50
RELATED = ("building", "household__building", "household__entrance", "community")


def _home_community(user: Any) -> Community | None:
    """The community whose ledger links the navigation shows, when the user works in exactly one."""
    communities = list(Community.objects.visible_to(user)[:2])
    return communities[0] if len(communities) == 1 else None


def _gates(community_id: int) -> list[Gate]:
    # A gate's name is printed on its poster: not personal, the community's gates are all offered.
    return list(Gate.objects.filter(community_id=community_id).order_by("name"))


def _isolated_households(household_ids: set[int]) -> set[int]:
    return set(
        IsolationOrder.objects.filter(
            resident__household_id__in=household_ids, kind=IsolationOrder.Kind.HOME, released_at__isnull=True
        ).values_list("resident__household_id", flat=True)
    )


# --- staff: the list and one pass ------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def pass_list(request: HttpRequest) -> HttpResponse:
    """The passes in scope, filtered by kind, state and building, with counts by state."""
    if not memberships_with(request.user, "view_ledger"):
        raise PermissionDenied
    buildings = list(Building.objects.visible_to(request.user).select_related("grid").order_by("grid_id", "name"))
    visible = Pass.objects.visible_to(request.user)
    kind = request.GET.get("kind", "")
    state = request.GET.get("state", "")
    building = next((b for b in buildings if b.code == request.GET.get("building")), None)
    narrowed = visible
    if kind in Pass.Kind.values:
        narrowed = narrowed.filter(kind=kind)
    if building is not None:
        narrowed = narrowed.filter(building=building)
    counts = dict(narrowed.order_by().values("state").annotate(n=Count("id")).values_list("state", "n"))
    shown = narrowed.filter(state=state) if state in Pass.State.values else narrowed
    page = Paginator(shown.select_related(*RELATED), PAGE_SIZE).get_page(request.GET.get("page"))
    filters = {"kind": kind, "state": state, "building": building.code if building else ""}
    printable = [b for b in buildings if user_can(request.user, "edit_ledger", b)]
    context = {
        "page": page,
        "filters": filters,
        "query": urlencode({key: value for key, value in filters.items() if value}),
        "counts": [
            {"state": value, "label": label, "n": counts.get(value, 0), "query": urlencode({**filters, "state": value})}
            for value, label in Pass.State.choices
        ],
        "total": sum(counts.values()),
        "kinds": Pass.Kind.choices,
        "states": Pass.State.choices,
        "buildings": buildings,
        "printable": printable,
        "community": _home_community(request.user),
        "pending": PassRequest.objects.visible_to(request.user, "edit_ledger")
        .filter(state=PassRequest.State.PENDING)
        .count(),
    }
    return render(request, "gates/pass_list.html", context)


def _pass(request: HttpRequest, code: str) -> Pass:
    return get_visible_or_404(Pass.objects.visible_to(request.user).select_related(*RELATED, "gate"), code=code)


def _detail(request: HttpRequest, item: Pass, form: RevokeForm | None = None, status: int = 200) -> HttpResponse:
    role = role_for(request.user, "view_ledger", item)
    record("read", actor=request.user, role=role, obj=item, request=request)
    can_edit = user_can(request.user, "edit_ledger", item)
    context = {
        "item": item,
        "community": item.community,
        "short_code": cards.format_short_code(item.short_code),
        "qr": cards.qr_svg(token_for(item)) if can_edit and item.state != Pass.State.REVOKED else "",
        "can_edit": can_edit,
        "form": form or RevokeForm(),
    }
    return render(request, "gates/pass_detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def pass_detail(request: HttpRequest, code: str) -> HttpResponse:
    """One pass: its QR code and short code (for those who may issue it), holder (masked), validity, state."""
    return _detail(request, _pass(request, code))


@never_cache
@login_required
@require_POST
def pass_revoke(request: HttpRequest, code: str) -> HttpResponse:
    item = _pass(request, code)
    require(request.user, "edit_ledger", item)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            do_revoke_pass(request.user, item, form.cleaned_data["reason"], request=request)
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, _("The pass was revoked. Gates refuse it from their next sync."))
            return redirect("passes:detail", code=item.code)
    return _detail(request, item, form, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def pass_issue(request: HttpRequest, code: str) -> HttpResponse:
    """Issue a pass to a resident (the form also sits on the resident's page)."""
    resident = get_visible_or_404(
        Resident.objects.visible_to(request.user).select_related("community", "household__building"), code=code
    )
    require(request.user, "edit_ledger", resident)
    gates = _gates(resident.community_id)
    form = IssueForm(request.POST if request.method == "POST" else None, gates=gates)
    if request.method == "POST" and form.is_valid():
        try:
            item, _token = do_issue_pass(
                request.user,
                resident,
                form.cleaned_data["kind"],
                days=form.cleaned_data["days"],
                gate=form.chosen_gate(),
                plate=form.cleaned_data["plate"],
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            if item.state == Pass.State.SUSPENDED:
                messages.warning(request, _("The pass was issued suspended: the household is under isolation."))
            else:
                messages.success(request, _("The pass was issued."))
            return redirect("passes:detail", code=item.code)
    context = {
        "resident": resident,
        "masked_name": mask_name(resident.name),
        "community": resident.community,
        "form": form,
    }
    return render(request, "gates/pass_issue.html", context, status=400 if form.errors else 200)


# --- staff: residents' requests -------------------------------------------------------------------


def _request_rows(requests: list[PassRequest]) -> list[PassRequest]:
    isolated = _isolated_households({item.household_id for item in requests})
    gates: dict[int, list[Gate]] = {}
    for item in requests:
        item.masked_name = mask_name(item.resident.name)  # type: ignore[attr-defined]
        item.isolated = item.kind == Pass.Kind.OUTING and item.household_id in isolated  # type: ignore[attr-defined]
        if item.community_id not in gates:
            gates[item.community_id] = _gates(item.community_id)
        item.approve_form = ApproveForm(gates=gates[item.community_id], prefix=item.code)  # type: ignore[attr-defined]
        item.decline_form = DeclineForm(prefix=item.code)  # type: ignore[attr-defined]
    return requests


def _queue(user: Any) -> Any:
    return PassRequest.objects.visible_to(user, "edit_ledger").select_related(
        "resident", "household__building", "household__entrance", "issued", "decided_by"
    )


@never_cache
@login_required
@require_GET
def request_queue(request: HttpRequest) -> HttpResponse:
    """Residents' requests waiting for a decision, oldest first, and the ones decided lately."""
    if not memberships_with(request.user, "edit_ledger"):
        raise PermissionDenied
    waiting = _request_rows(list(_queue(request.user).filter(state=PassRequest.State.PENDING).order_by("requested_at")))
    decided = list(_queue(request.user).exclude(state=PassRequest.State.PENDING).order_by("-decided_at")[:20])
    for item in decided:
        item.masked_name = mask_name(item.resident.name)  # type: ignore[attr-defined]
    context = {"waiting": waiting, "decided": decided, "community": _home_community(request.user)}
    return render(request, "gates/requests.html", context)


@never_cache
@login_required
@require_POST
def request_decide(request: HttpRequest, code: str) -> HttpResponse:
    """Approve (a pass is issued) or decline (with a note) one request; htmx swaps its row."""
    item = get_visible_or_404(_queue(request.user), code=code)
    _request_rows([item])
    action = request.POST.get("action")
    done = ""
    if action == "approve":
        form = ApproveForm(request.POST, gates=_gates(item.community_id), prefix=item.code)
        item.approve_form = form  # type: ignore[attr-defined]
        if form.is_valid():
            try:
                do_approve_request(request.user, item, form.cleaned_data["days"], form.chosen_gate(), request=request)
                done = _("Approved: the pass was issued.")
            except ValidationError as error:
                form.add_action_errors(error)
    elif action == "decline":
        decline = DeclineForm(request.POST, prefix=item.code)
        item.decline_form = decline  # type: ignore[attr-defined]
        if decline.is_valid():
            try:
                do_decline_request(request.user, item, decline.cleaned_data["note"], request=request)
                done = _("Declined.")
            except ValidationError as error:
                decline.add_action_errors(error)
    else:
        raise Http404
    if not request.headers.get("HX-Request"):
        if done:
            messages.success(request, done)
        else:
            messages.error(request, _("The request was not decided: see the form."))
        return redirect("passes:requests")
    item.refresh_from_db()
    item.masked_name = mask_name(item.resident.name)  # type: ignore[attr-defined]
    context = {"item": item, "done": done}
    return render(request, "gates/requests.html#row", context, status=200 if done else 400)


# --- staff: a building's sheet of cards ------------------------------------------------------------


def _building(request: HttpRequest, code: str) -> Building:
    building = get_visible_or_404(Building.objects.visible_to(request.user).select_related("community"), code=code)
    require(request.user, "edit_ledger", building)
    return building


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def sheet(request: HttpRequest, code: str) -> HttpResponse:
    """Choose the kind of pass and print the building's cards (a job; the next page shows its progress)."""
    building = _building(request, code)
    form = SheetForm(request.POST if request.method == "POST" else request.GET or None)
    if request.method == "POST" and form.is_valid():
        token = cards.do_print_cards(request.user, building, form.cleaned_data["kind"], request=request)
        return redirect("passes:sheet_job", code=building.code, token=token)
    counts = dict(
        Pass.objects.filter(building=building, state=Pass.State.ACTIVE, valid_until__gt=timezone.now())
        .order_by()
        .values("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    kinds = [{"kind": value, "label": label, "n": counts.get(value, 0)} for value, label in Pass.Kind.choices]
    context = {"building": building, "community": building.community, "form": form, "kinds": kinds}
    return render(request, "gates/sheet.html", context)


def _job(request: HttpRequest, building: Building, token: str) -> dict[str, Any]:
    job = cards.read_job(token)
    if job is None or job.get("building") != building.pk or job.get("user") != request.user.pk:
        raise Http404
    return job


@never_cache
@login_required
@require_GET
def sheet_job(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """The progress of a sheet of cards; the page polls itself until the PDF is ready."""
    building = _building(request, code)
    job = _job(request, building, token)
    total = job.get("total") or 0
    percent = int(100 * job.get("done", 0) / total) if total else (100 if job.get("state") == "done" else 0)
    context = {
        "building": building,
        "community": building.community,
        "job": job,
        "percent": percent,
        "kind": dict(Pass.Kind.choices).get(str(job.get("kind")), ""),
    }
    template = "gates/sheet_job.html#progress" if request.headers.get("HX-Request") else "gates/sheet_job.html"
    return render(request, template, context)


@login_required
@require_GET
def sheet_download(request: HttpRequest, code: str, token: str) -> HttpResponseBase:
    building = _building(request, code)
    job = _job(request, building, token)
    return cards.FILES.download(job, token, f"passes-{building.code}.pdf")  # the cards are credentials


# --- the household: my passes ------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def household_passes(request: HttpRequest) -> HttpResponse:
    """我的通行证: each member's passes (QR code and short code) and the household's requests."""
    login = household_login_of(request)
    if login is None:
        messages.info(request, _("Enter your household code to see your passes."))
        return redirect("public:checkin")
    members = list(
        Resident.objects.filter(household_id=login.household_id, left_at__isnull=True)
        .only("code", "name", "relation_to_head", "household_id", "left_at")
        .order_by("id")
    )
    for member in members:
        member.masked_name = mask_name(member.name)  # type: ignore[attr-defined]
    form = RequestForm(request.POST if request.method == "POST" else None, members=members)
    if request.method == "POST" and form.is_valid():
        member = form.members[form.cleaned_data["member"]]
        try:
            do_request_pass(
                login,
                member,
                form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
                plate=form.cleaned_data["plate"],
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        except PermissionDenied:
            return redirect("public:checkin")
        else:
            messages.success(request, _("Your request was sent. The community will answer it here."))
            return redirect("passes:mine")
    now = timezone.now()
    passes = list(
        Pass.objects.filter(household_id=login.household_id, resident__in=members, valid_until__gt=now).order_by(
            "resident_id", "-valid_until"
        )
    )
    keys: dict[int, Any] = {}
    by_member: dict[int, list[Pass]] = {}
    for item in passes:
        item.short = cards.format_short_code(item.short_code)  # type: ignore[attr-defined]
        item.qr = cards.qr_svg(token_for(item, keys)) if item.state != Pass.State.REVOKED else ""  # type: ignore[attr-defined]
        by_member.setdefault(item.resident_id or 0, []).append(item)
    for member in members:
        member.passes = by_member.get(member.pk, [])  # type: ignore[attr-defined]
    names = {member.pk: member.masked_name for member in members}  # type: ignore[attr-defined]
    requests = list(PassRequest.objects.filter(household_id=login.household_id).order_by("-requested_at")[:10])
    for item in requests:
        item.masked_name = names.get(item.resident_id, "*")  # type: ignore[attr-defined]
    context = {"household": login.household, "members": members, "form": form, "requests": requests}
    return render(request, "gates/household_passes.html", context, status=400 if form.errors else 200)
