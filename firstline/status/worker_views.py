"""The worker's screens of the four colours: a resident's status section, arrivals, risk areas, rules.

Thin views over ``status.actions``. Every scoped row comes through
``get_visible_or_404``; write views check the capability before showing a form and
the actions check it again. The status section of the resident page is one
fragment (``status/worker/_status.html``): its buttons post with htmx and get the
fragment back, with the refusal's message when an action refused (nothing changed);
without JavaScript they post, are redirected back and see the message on top.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_htmx.middleware import HtmxDetails

from firstline.people.actions import ExactSearchRefused
from firstline.people.models import STATUS_COLOURS, Movement, Resident
from firstline.people.queries import ResidentFilter, residents_for, search_kind
from firstline.places.models import Building, Community, Household, Street
from firstline.scoping import get_visible_or_404, memberships_with, require, user_can
from firstline.status.actions import (
    NEXT_STATES,
    CheckInConflictError,
    do_add_risk_area,
    do_close_observation,
    do_end_risk_area,
    do_extend_isolation,
    do_order_isolation,
    do_record_checkin,
    do_refer,
    do_register_arrival,
    do_release_isolation,
    do_set_community_rules,
    do_update_referral,
    may_manage_risk_areas,
)
from firstline.status.forms import (
    MOVEMENT_NAMES,
    ArrivalForm,
    ExtendForm,
    IsolationForm,
    NoteForm,
    ReadingForm,
    ReferralForm,
    ReferralStepForm,
    RiskAreaForm,
    RulesForm,
    renamed,
)
from firstline.status.models import (
    CheckIn,
    CommunityRules,
    IsolationOrder,
    Observation,
    Referral,
    RiskArea,
    StatusChange,
    Symptom,
)
from firstline.status.rules import default_rules, risk_area_for, rules_for


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


RECENT_CHECKINS = 10
HISTORY_ROWS = 30
CANDIDATES = 20


def _resident(request: HtmxHttpRequest, code: str) -> Resident:
    queryset = Resident.objects.visible_to(request.user).select_related(
        "community", "grid", "household__building", "household__entrance"
    )
    return get_visible_or_404(queryset, code=code)


def _next(request: HtmxHttpRequest) -> str:
    """Where a plain (non-htmx) post goes back to: a local address the form named, if any."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


def taken_now() -> datetime:
    """Now, to the minute: a double tap on a reading form sends the same payload, so it is recorded once."""
    return timezone.now().replace(second=0, microsecond=0)


def _errors(error: ValidationError) -> list[str]:
    return list(error.messages)


def _form_errors(form: Any) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]


# --- the status section of the resident page ----------------------------------------------------


def referral_moves(referral: Referral) -> list[tuple[str, Any]]:
    """The buttons that move ``referral`` on before its outcome: (state, label)."""
    labels = dict(Referral.State.choices)
    return [(state, labels[state]) for state in NEXT_STATES.get(referral.state, ()) if state != Referral.State.OUTCOME]


def referral_outcomes(referral: Referral) -> list[tuple[str, Any]]:
    """The outcome buttons, when an outcome may come next."""
    if Referral.State.OUTCOME not in NEXT_STATES.get(referral.state, ()):
        return []
    if referral.state == Referral.State.OUTCOME:  # admitted or positive: the next step is the return home
        return [(Referral.Outcome.RETURNED_HOME.value, Referral.Outcome.RETURNED_HOME.label)]
    return list(Referral.Outcome.choices)


def with_steps(referral: Referral) -> Referral:
    referral.moves = referral_moves(referral)  # type: ignore[attr-defined]
    referral.outcomes = referral_outcomes(referral)  # type: ignore[attr-defined]
    return referral


SYMPTOM_LABELS = dict(Symptom.choices)


def status_context(request: HttpRequest, resident: Resident) -> dict[str, Any]:
    """What the status section shows about ``resident`` and which of its buttons the user gets."""
    user = request.user
    today = timezone.localdate()
    orders = list(
        IsolationOrder.objects.visible_to(user)
        .filter(resident=resident, released_at__isnull=True)
        .order_by("starts_at")
    )
    for order in orders:
        order.days_left = (order.planned_end - today).days  # type: ignore[attr-defined]
    referrals = [
        with_steps(referral)
        for referral in Referral.objects.visible_to(user)
        .filter(resident=resident, closed_at__isnull=True)
        .order_by("requested_at")
    ]
    observation = Observation.objects.visible_to(user).filter(resident=resident, closed_at__isnull=True).first()
    changes = list(
        StatusChange.objects.visible_to(user)
        .filter(resident=resident)
        .select_related("changed_by")
        .order_by("-changed_at", "-id")[:HISTORY_ROWS]
    )
    for change in changes:
        change.from_colour = STATUS_COLOURS.get(change.from_status, "")  # type: ignore[attr-defined]
        change.to_colour = STATUS_COLOURS.get(change.to_status, "")  # type: ignore[attr-defined]
    checkins = list(
        CheckIn.objects.visible_to(user).filter(resident=resident).order_by("-taken_at", "-id")[:RECENT_CHECKINS]
    )
    for checkin in checkins:
        checkin.symptom_labels = [SYMPTOM_LABELS.get(code, code) for code in checkin.symptoms]  # type: ignore[attr-defined]
    return {
        "resident": resident,
        "orders": orders,
        "observation": observation,
        "observation_target": rules_for(resident.community_id).observation_checkins if observation else None,
        "referrals": referrals,
        "changes": changes,
        "checkins": checkins,
        "can_edit": user_can(user, "edit_ledger", resident),
        "can_record": user_can(user, "record_health", resident),
        "can_task": user_can(user, "work_tasks", resident),
        "reading_form": ReadingForm(auto_id="checkin-%s"),
        "referral_form": ReferralForm(auto_id="refer-%s"),
        "isolation_form": IsolationForm(auto_id="isolate-%s"),
    }


def _section(
    request: HtmxHttpRequest, resident: Resident, *, errors: list[str] | None = None, notice: str = ""
) -> HttpResponse:
    resident.refresh_from_db(fields=["status"])
    context = status_context(request, resident)
    context.update(errors=errors or [], notice=notice, oob=True)
    return render(request, "status/worker/_status.html", context)


def _answer(
    request: HtmxHttpRequest, resident: Resident, *, errors: list[str] | None = None, notice: str = ""
) -> HttpResponse:
    """htmx: the section again; otherwise back where the form came from, with the message on top."""
    if request.htmx:
        return _section(request, resident, errors=errors, notice=notice)
    if errors:
        messages.error(request, " ".join(errors))
    elif notice:
        messages.success(request, notice)
    return redirect(_next(request) or reverse("people:resident", kwargs={"code": resident.code}))


def _form_page(request: HtmxHttpRequest, resident: Resident, form: Any, title: str, action: str) -> HttpResponse:
    """The form on a page of its own (without htmx; a refused htmx post gets the section and its message)."""
    if request.method == "POST" and request.htmx:
        return _section(request, resident, errors=_form_errors(form))
    return render(
        request,
        "status/worker/form.html",
        {
            "resident": resident,
            "community": resident.community,
            "form": form,
            "title": title,
            "action": action,
            "next": _next(request),
        },
    )


@never_cache
@login_required
def checkin_new(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """A worker records a check-in taken for the resident (by phone or at the door)."""
    resident = _resident(request, code)
    require(request.user, "record_health", resident)
    form = ReadingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _checkin, created = do_record_checkin(
                request.user,
                resident,
                client_id=form.cleaned_data["client_id"],
                temperature=form.cleaned_data["temperature"],
                symptoms=form.cleaned_data["symptoms"],
                taken_at=taken_now(),
                note=form.cleaned_data["note"],
                request=request,
            )
        except CheckInConflictError:
            return _answer(request, resident, errors=[_("This form was already sent with other values: reload it.")])
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            return _answer(request, resident, notice=_("The check-in was recorded.") if created else "")
    action = reverse("screening:checkin_new", kwargs={"code": resident.code})
    return _form_page(request, resident, form, _("Record a check-in"), action)


@never_cache
@login_required
def referral_new(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Refer the resident: fever clinic, testing, designated hospital or central isolation."""
    resident = _resident(request, code)
    require(request.user, "edit_ledger", resident)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_refer(
                request.user,
                resident,
                data["destination"],
                reason=data["reason"],
                facility=data["facility"],
                note=data["note"],
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            return _answer(request, resident, notice=_("The referral was recorded."))
    action = reverse("screening:referral_new", kwargs={"code": resident.code})
    return _form_page(request, resident, form, _("Refer"), action)


@never_cache
@login_required
def isolation_new(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Order home or central isolation (e.g. a close contact named by the health department)."""
    resident = _resident(request, code)
    require(request.user, "edit_ledger", resident)
    form = IsolationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            do_order_isolation(
                request.user,
                resident,
                kind=data["kind"],
                planned_end=data["planned_end"],
                site=data["site"],
                note=data["note"],
                request=request,
            )
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            return _answer(request, resident, notice=_("The isolation was ordered."))
    action = reverse("screening:isolation_new", kwargs={"code": resident.code})
    return _form_page(request, resident, form, _("Order isolation"), action)


def _order(request: HtmxHttpRequest, code: str) -> IsolationOrder:
    queryset = IsolationOrder.objects.visible_to(request.user).select_related("resident")
    return get_visible_or_404(queryset, code=code)


@require_POST
@login_required
def isolation_extend(request: HtmxHttpRequest, code: str) -> HttpResponse:
    order = _order(request, code)
    require(request.user, "edit_ledger", order)
    form = ExtendForm(request.POST)
    if not form.is_valid():
        return _answer(request, order.resident, errors=[_("Give the new planned end and the reason.")])
    try:
        do_extend_isolation(
            request.user, order, form.cleaned_data["until"], form.cleaned_data["reason"], request=request
        )
    except ValidationError as error:
        return _answer(request, order.resident, errors=_errors(error))
    return _answer(request, order.resident, notice=_("The isolation was extended."))


@require_POST
@login_required
def isolation_release(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Release from isolation: refused before the planned end, with the reason shown."""
    order = _order(request, code)
    require(request.user, "edit_ledger", order)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        do_release_isolation(request.user, order, note=note, request=request)
    except ValidationError as error:
        return _answer(request, order.resident, errors=_errors(error))
    return _answer(request, order.resident, notice=_("Released from isolation."))


@require_POST
@login_required
def referral_update(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """One step of a referral: in transit, arrived, or the outcome."""
    referral = get_visible_or_404(Referral.objects.visible_to(request.user).select_related("resident"), code=code)
    require(request.user, "edit_ledger", referral)
    form = ReferralStepForm(request.POST)
    if not form.is_valid():
        return _answer(request, referral.resident, errors=[_("Choose the next step of the referral.")])
    data = form.cleaned_data
    try:
        do_update_referral(
            request.user,
            referral,
            data["state"],
            outcome=data["outcome"],
            facility=data["facility"],
            note=data["note"],
            request=request,
        )
    except ValidationError as error:
        return _answer(request, referral.resident, errors=_errors(error))
    return _answer(request, referral.resident, notice=_("The referral was updated."))


@require_POST
@login_required
def observation_close(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """End an observation early, with the reason."""
    observation = get_visible_or_404(Observation.objects.visible_to(request.user).select_related("resident"), code=code)
    require(request.user, "edit_ledger", observation)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        do_close_observation(request.user, observation, note, request=request)
    except ValidationError as error:
        return _answer(request, observation.resident, errors=_errors(error))
    return _answer(request, observation.resident, notice=_("The observation was ended."))


# --- arrivals -----------------------------------------------------------------------------------


def _community(request: HtmxHttpRequest, code: str) -> Community:
    return get_visible_or_404(Community.objects.visible_to(request.user), code=code)


def _may_register_arrivals(request: HtmxHttpRequest, community: Community) -> None:
    if not any(
        m.community_id == community.id or (m.level == "street" and m.street_id == community.street_id)
        for m in memberships_with(request.user, "edit_ledger")
    ):
        raise PermissionDenied


@never_cache
@login_required
def arrival_new(request: HtmxHttpRequest, community: str) -> HttpResponse:
    """The phone form for an arrival: find the resident (or put a new person in a household), then the trip.

    The same address answers htmx's two look-ups: a POST with ``lookup=residents``
    (residents in scope by name, or by exact ID number or phone: POSTed, so such a
    value never sits in a URL) and ``?building=`` (that building's households).
    """
    place = _community(request, community)
    _may_register_arrivals(request, place)
    looking_up = request.method == "POST" and request.POST.get("lookup") == "residents"
    q = (request.POST.get("q") or "").strip()[:60] if looking_up else ""
    if looking_up and request.htmx:
        return render(
            request, "status/worker/arrival_new.html#candidates", {"candidates": _candidates(request, place, q), "q": q}
        )
    building_code = request.POST.get("building") or request.GET.get("building") or ""
    if request.htmx and "building" in request.GET:
        return render(
            request,
            "status/worker/arrival_new.html#households",
            {"households": _households(request, place, building_code)},
        )
    form = ArrivalForm(None if looking_up else request.POST or None, initial={"arrival_date": timezone.localdate()})
    chosen = None
    if request.method == "POST" and not looking_up and form.is_valid():
        data = form.cleaned_data
        try:
            if data["resident"]:
                chosen = _resident(request, data["resident"])
                if chosen.community_id != place.id:
                    raise Http404
                result = do_register_arrival(request.user, form.trip(), resident=chosen, request=request)
            else:
                household = None
                if data["household"]:
                    household = get_visible_or_404(
                        Household.objects.visible_to(request.user).filter(community=place), code=data["household"]
                    )
                if household is None or not data["name"].strip():
                    raise ValidationError(
                        {"resident": _("Choose a resident, or a household and the new person's details.")}
                    )
                result = do_register_arrival(
                    request.user, form.trip(), household=household, person=form.person(), request=request
                )
        except ValidationError as error:
            form.add_action_errors(renamed(error, MOVEMENT_NAMES))
        else:
            return redirect("screening:arrival", community=place.code, code=result.movement.code)
    elif request.method == "POST" and request.POST.get("resident"):
        chosen = Resident.objects.visible_to(request.user).filter(code=request.POST["resident"]).first()
    candidates = _candidates(request, place, q)
    if chosen is not None and chosen not in candidates:
        candidates.insert(0, chosen)
    return render(
        request,
        "status/worker/arrival_new.html",
        {
            "community": place,
            "form": form,
            "q": q if search_kind(q) == "name" else "",  # an ID number or phone is not sent back
            "candidates": candidates,
            "chosen": chosen,
            "buildings": Building.objects.visible_to(request.user).filter(community=place).order_by("name"),
            "building_code": building_code,
            "households": _households(request, place, building_code),
        },
    )


def _candidates(request: HtmxHttpRequest, community: Community, q: str) -> list[Resident]:
    """Residents in scope matching ``q``: part of a name, or an exact ID number or phone (the list's own search)."""
    if not q:
        return []
    try:
        return list(
            residents_for(request.user, ResidentFilter(q=q), request=request).filter(community=community)[:CANDIDATES]
        )
    except ExactSearchRefused as refused:
        messages.error(request, refused.message)
        return []


def _households(request: HtmxHttpRequest, community: Community, building_code: str) -> list[Household]:
    if not building_code:
        return []
    return list(
        Household.objects.visible_to(request.user)
        .filter(community=community, building__code=building_code)
        .select_related("building", "entrance")
    )


def month_day(day: date) -> str:
    return formats.date_format(day, "MONTH_DAY_FORMAT")


@never_cache
@login_required
def arrival(request: HtmxHttpRequest, community: str, code: str) -> HttpResponse:
    """What the rules did with an arrival, in one plain sentence."""
    place = _community(request, community)
    movement = get_visible_or_404(
        Movement.objects.visible_to(request.user).filter(community=place, direction=Movement.Direction.ARRIVAL),
        code=code,
    )
    resident = _resident(request, movement.resident.code)
    area = risk_area_for(resident.street_id, movement.origin, movement.arrived_on)
    order = (
        IsolationOrder.objects.visible_to(request.user)
        .filter(resident=resident, released_at__isnull=True, kind=IsolationOrder.Kind.HOME)
        .first()
    )
    windows = len(rules_for(resident.community_id).checkin_windows)
    if area is not None and order is not None:
        summary = _(
            "From the risk area %(area)s: home isolation until %(date)s, with %(count)s health check-ins a day."
        ) % {"area": area.name, "date": month_day(order.planned_end), "count": windows}
    elif area is not None:
        summary = _("From the risk area %(area)s, but the isolation period has passed since the arrival: recorded.") % {
            "area": area.name
        }
    else:
        summary = _("Not from a risk area: recorded.")
    return render(
        request,
        "status/worker/arrival.html",
        {
            "community": place,
            "movement": movement,
            "resident": resident,
            "area": area,
            "order": order,
            "summary": summary,
        },
    )


# --- risk areas (street) and rules (community) --------------------------------------------------


def _street_for_rules(request: HtmxHttpRequest, code: str) -> tuple[Street, bool]:
    """The street and whether the user keeps its list; 404 outside, 403 inside without ``manage_rules``."""
    street = get_object_or_404(Street, code=code)
    memberships = [m for m in memberships_with(request.user, None) if m.street_id == street.id]
    if not memberships:
        raise Http404
    if not any(m.can("manage_rules") for m in memberships):
        raise PermissionDenied
    return street, bool(may_manage_risk_areas(request.user, street.id))


@never_cache
@login_required
def risk_areas(request: HtmxHttpRequest, street: str) -> HttpResponse:
    """The street's risk areas (疫区): kept by the street, read by its community administrators."""
    place, can_manage = _street_for_rules(request, street)
    form = RiskAreaForm(request.POST or None)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                area = do_add_risk_area(
                    request.user,
                    place,
                    name=data["name"],
                    keywords=data["keywords"],
                    active_from=data["active_from"],
                    active_until=data["active_until"],
                    request=request,
                )
            except ValidationError as error:
                form.add_action_errors(error)
            else:
                messages.success(request, _("%(area)s was added to the risk areas.") % {"area": area.name})
                return redirect("screening:risk_areas", street=place.code)
    today = timezone.localdate()
    areas = list(RiskArea.objects.filter(street=place) | RiskArea.objects.filter(street__isnull=True))
    for area in areas:
        area.is_active = area.active_from <= today and (area.active_until is None or area.active_until >= today)  # type: ignore[attr-defined]
    areas.sort(key=lambda area: (not area.is_active, area.name))  # type: ignore[attr-defined]
    return render(
        request,
        "status/worker/risk_areas.html",
        {"street": place, "areas": areas, "form": form, "can_manage": can_manage},
    )


@require_POST
@login_required
def risk_area_end(request: HtmxHttpRequest, street: str, code: str) -> HttpResponse:
    place, can_manage = _street_for_rules(request, street)
    area = get_object_or_404(RiskArea, code=code, street=place)
    if not can_manage:
        raise PermissionDenied
    try:
        do_end_risk_area(request.user, area, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(area)s is no longer a risk area: arrivals from today are not isolated.") % {"area": area.name}
        )
    return redirect("screening:risk_areas", street=place.code)


@never_cache
@login_required
def community_rules(request: HtmxHttpRequest, community: str) -> HttpResponse:
    """The community's screening rules: an empty box keeps the default, which is shown."""
    place = _community(request, community)
    require(request.user, "manage_rules", place)
    defaults = default_rules()
    current = CommunityRules.objects.filter(community=place).first()
    initial = {name: getattr(current, name) for name in RulesForm.FIELDS} if current else {}
    form = RulesForm(request.POST or None, initial=initial, defaults=defaults)
    if request.method == "POST" and form.is_valid():
        try:
            do_set_community_rules(request.user, place, form.cleaned_data, request=request)
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, _("The rules were saved."))
            return redirect("screening:community_rules", community=place.code)
    return render(
        request,
        "status/worker/rules.html",
        {"community": place, "form": form, "rules": rules_for(place.id), "defaults": defaults},
    )
