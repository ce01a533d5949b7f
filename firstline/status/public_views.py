"""Pages without an account — the household check-in and the gate's self-declaration — and the workers'
pages behind them: the letters to residents with their codes, the gate posters, the declarations queue.

*Self check-in.* ``/checkin/`` takes the code printed on the household's letter (a
QR code fills it in from the address's fragment). A right code opens a household
session: the session holds only the ``HouseholdLogin`` id and the time it was
opened, and lapses after ``HOUSEHOLD_SESSION_SECONDS`` or as soon as the code is
revoked. Members are shown by a masked name (张*), never an ID number or phone.
Wrong codes are counted per client address in the database; past ``CODE_ATTEMPTS``
in ``CODE_WINDOW_SECONDS`` a wrong code from that address is answered "too many"
and also spends a budget shared by every address over its limit (``OVERFLOW_CODES``),
while a right code still opens: a carrier's shared address is not held back by
strangers' typos. Once the shared budget is spent, addresses over their own limit
are refused outright until the window ends; that bounds guessing from any number of
addresses to a few hundred codes per ten minutes (of about 10¹² codes).

*Self-declaration.* ``/declare/<gate>/`` (or ``/declare/c/<community>/``) stores a
``Declaration`` through ``declarations.do_submit_declaration``; its values travel in
the POST body only, never in a URL, and the thank-you page knows only whether the
person came from a risk area or had a fever.

The workers' pages follow the ledger's rules: scoped lookups (404 outside scope),
``edit_ledger`` checked before a form is shown and again by the action.
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstline.accounts import limits
from firstline.accounts.household_codes import (
    current_logins,
    do_issue_household_codes,
    do_revoke_household_code,
    find_household_login,
)
from firstline.accounts.models import HouseholdLogin
from firstline.audit.log import client_ip
from firstline.people.models import Resident, Status
from firstline.places.models import Building, Community, Gate, Household
from firstline.scoping import get_visible_or_404, require, user_can
from firstline.sealing import mask_name as masked_name
from firstline.status import letters
from firstline.status.actions import CheckInConflictError, clean_symptoms, clean_temperature, do_record_checkin
from firstline.status.declarations import (
    do_accept_declaration,
    do_dismiss_declaration,
    do_submit_declaration,
    guessed_id_type,
)
from firstline.status.models import Declaration, Symptom
from firstline.status.public_forms import (
    AcceptForm,
    CheckInForm,
    CodeForm,
    DeclarationForm,
    DismissForm,
    LettersForm,
)
from firstline.status.rules import rules_for

HOUSEHOLD_SESSION_KEY = "household_login"
HOUSEHOLD_SESSION_SECONDS = 4 * 3600
CODE_ATTEMPTS = 10  # wrong codes per client address …
CODE_WINDOW_SECONDS = 600  # … in this many seconds
OVERFLOW_CODES = 200  # wrong codes from all addresses over their limit, together, in the same window
OVERFLOW_KEY = "public:code:over-limit-addresses"
DECLARATIONS_PER_WINDOW = 20  # declarations sent from one address in CODE_WINDOW_SECONDS
EXPECTED = (Status.HOME_ISOLATION, Status.OBSERVATION)
THANKS_KEY = "declaration_thanks"


# --- limits per client address ------------------------------------------------------------------
#
# Counted in the database (firstline.accounts.limits): every process shares the counts.


def _limit_key(request: HttpRequest, bucket: str) -> str:
    return f"public:{bucket}:{client_ip(request) or 'unknown'}"


def over_limit(request: HttpRequest, bucket: str, limit: int, window: int = CODE_WINDOW_SECONDS) -> bool:
    return not limits.peek(_limit_key(request, bucket), limit=limit, window=window).allowed


def take_attempt(request: HttpRequest, bucket: str, limit: int, window: int = CODE_WINDOW_SECONDS) -> bool:
    """Count one attempt; whether it is still within the limit (one atomic step, so no two processes overrun it)."""
    return limits.take(_limit_key(request, bucket), limit=limit, window=window).allowed


def _code_guess_allowed(request: HttpRequest) -> bool:
    """Whether a code from this address is looked up (see ``checkin``)."""
    if not over_limit(request, "code", CODE_ATTEMPTS):
        return True
    return limits.peek(OVERFLOW_KEY, limit=OVERFLOW_CODES, window=CODE_WINDOW_SECONDS).allowed


# --- self check-in ------------------------------------------------------------------------------


def household_login_of(request: HttpRequest) -> HouseholdLogin | None:
    """The household session's login, while it is young enough and its code is not revoked."""
    held = request.session.get(HOUSEHOLD_SESSION_KEY)
    if not isinstance(held, dict):
        return None
    if time.time() - float(held.get("at", 0)) > HOUSEHOLD_SESSION_SECONDS:
        request.session.pop(HOUSEHOLD_SESSION_KEY, None)
        return None
    login = (
        HouseholdLogin.objects.select_related("household__building", "household__entrance", "household__community")
        .filter(pk=int(held.get("id") or 0), revoked_at__isnull=True)
        .first()
    )
    if login is None:
        request.session.pop(HOUSEHOLD_SESSION_KEY, None)
    return login


@never_cache
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest) -> HttpResponse:
    """Enter the household code. Nothing is stored for a wrong code but the count of attempts."""
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        too_many = _("Too many wrong codes from this connection. Wait ten minutes and try again.")
        if not _code_guess_allowed(request):
            form.add_error(None, too_many)
            status = 429
        else:
            login = find_household_login(form.cleaned_data["code"])
            if login is None:
                if take_attempt(request, "code", CODE_ATTEMPTS):
                    form.add_error("code", _("This code is not valid. Check the letter: 8 letters and digits."))
                else:  # this address is over its limit: its wrong codes also spend the shared budget
                    limits.take(OVERFLOW_KEY, limit=OVERFLOW_CODES, window=CODE_WINDOW_SECONDS)
                    form.add_error(None, too_many)
                    status = 429
            else:
                request.session.cycle_key()
                request.session[HOUSEHOLD_SESSION_KEY] = {"id": login.pk, "at": time.time()}
                return redirect("public:checkin_household")
    current = household_login_of(request)
    context = {"form": form, "current": current.household if current else None}
    return render(request, "status/public/checkin.html", context, status=status)


def _members(login: HouseholdLogin) -> list[Resident]:
    members = list(
        Resident.objects.filter(household_id=login.household_id, left_at__isnull=True)
        .only("code", "name", "status", "relation_to_head", "household_id")
        .order_by("id")
    )
    for resident in members:
        resident.masked_name = masked_name(resident.name)  # type: ignore[attr-defined]
        resident.expected = resident.status in EXPECTED  # type: ignore[attr-defined]
    return sorted(members, key=lambda resident: not resident.expected)  # type: ignore[attr-defined]


def _check_values(form: CheckInForm, readings: list[tuple[Resident, Any, list[str], Any]]) -> bool:
    """Every typed value checked before anything is stored: one wrong temperature stops the whole form."""
    ok = True
    for resident, temperature, symptoms, _client_id in readings:
        try:
            clean_temperature(temperature)
            clean_symptoms(symptoms)
        except ValidationError as error:
            for messages_ in error.message_dict.values():
                form.add_error(f"temperature_{resident.code}", messages_)
            ok = False
    return ok


@never_cache
@require_http_methods(["GET", "POST"])
def checkin_household(request: HttpRequest) -> HttpResponse:
    """The household's members with a temperature box each; sending it records one check-in per member."""
    login = household_login_of(request)
    if login is None:
        messages.info(request, _("Enter your household code to check in."))
        return redirect("public:checkin")
    members = _members(login)
    form = CheckInForm(request.POST if request.method == "POST" else None, members=members)
    if request.method == "POST" and form.is_valid():
        readings = form.readings()
        if not readings:
            form.add_error(None, _("Enter the temperature of at least one member."))
        elif _check_values(form, readings):
            results = []
            for resident, temperature, symptoms, client_id in readings:
                try:
                    reading, _created = do_record_checkin(
                        None,
                        resident,
                        client_id=client_id,
                        temperature=temperature,
                        symptoms=symptoms,
                        household_login=login,
                        request=request,
                    )
                except CheckInConflictError as conflict:
                    reading = conflict.checkin
                    messages.warning(
                        request,
                        _("%(name)s: this form was already sent with other values; the first values were kept.")
                        % {"name": resident.masked_name},  # type: ignore[attr-defined]
                    )
                except PermissionDenied:
                    return redirect("public:checkin")
                results.append({"name": resident.masked_name, "checkin": reading})  # type: ignore[attr-defined]
            fever = any(result["checkin"].is_fever for result in results)
            context = {"household": login.household, "results": results, "fever": fever}
            return render(request, "status/public/checkin_done.html", context)
    context = {
        "household": login.household,
        "form": form,
        "rows": form.rows(),
        "any_expected": any(getattr(member, "expected", False) for member in members),
    }
    return render(request, "status/public/checkin_household.html", context)


@require_POST
def checkin_leave(request: HttpRequest) -> HttpResponse:
    request.session.pop(HOUSEHOLD_SESSION_KEY, None)
    return redirect("public:checkin")


# --- self-declaration ---------------------------------------------------------------------------


def _declare(request: HttpRequest, community: Community, gate: Gate | None) -> HttpResponse:
    form = DeclarationForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        valid = form.is_valid()
        if valid and not take_attempt(request, "declare", DECLARATIONS_PER_WINDOW):
            form.add_error(None, _("Too many declarations from this connection. Wait ten minutes and try again."))
            status = 429
        elif valid:
            try:
                declaration = do_submit_declaration(community, form.cleaned_data, gate=gate, request=request)
            except ValidationError as error:
                form.add_action_errors(error)
            else:
                request.session[THANKS_KEY] = {
                    "community": community.name,
                    "from_risk_area": declaration.from_risk_area,
                    "fever": declaration.temperature is not None
                    and rules_for(community.pk).is_fever(declaration.temperature),
                }
                return redirect("public:declare_thanks")
    context = {"form": form, "community": community, "gate": gate}
    return render(request, "status/public/declare.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def declare_gate(request: HttpRequest, gate: str) -> HttpResponse:
    # A gate's name and community are printed on its poster: not scoped, not personal.
    place = get_object_or_404(Gate.objects.select_related("community"), code=gate)
    return _declare(request, place.community, place)


@never_cache
@require_http_methods(["GET", "POST"])
def declare_community(request: HttpRequest, community: str) -> HttpResponse:
    return _declare(request, get_object_or_404(Community, code=community), None)


@never_cache
@require_GET
def declare_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "status/public/declare_thanks.html", {"thanks": request.session.get(THANKS_KEY) or {}})


# --- the declarations queue ---------------------------------------------------------------------


def _community_for_ledger(request: HttpRequest, community: str) -> Community:
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    require(request.user, "edit_ledger", place)
    return place


def _symptom_labels(declaration: Declaration) -> list[str]:
    labels = dict(Symptom.choices)
    return [str(labels.get(symptom, symptom)) for symptom in declaration.symptoms]


@never_cache
@login_required
def declarations(request: HttpRequest, community: str) -> HttpResponse:
    """New self-declarations of the community, oldest first, and the ones handled lately."""
    place = _community_for_ledger(request, community)
    visible = Declaration.objects.visible_to(request.user, "edit_ledger").filter(community=place)
    waiting = list(
        visible.filter(state=Declaration.State.NEW).select_related("gate", "resident").order_by("created_at")
    )
    handled = list(
        visible.exclude(state=Declaration.State.NEW).select_related("handled_by").order_by("-handled_at")[:20]
    )
    for declaration in waiting:
        declaration.symptom_labels = _symptom_labels(declaration)  # type: ignore[attr-defined]
    context = {"community": place, "waiting": waiting, "handled": handled}
    return render(request, "status/public/declarations.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def declaration(request: HttpRequest, community: str, code: str) -> HttpResponse:
    """One declaration: accept it (the arrival is registered, the rules applied) or dismiss it with a reason."""
    place = _community_for_ledger(request, community)
    item = get_visible_or_404(
        Declaration.objects.visible_to(request.user, "edit_ledger")
        .filter(community=place)
        .select_related("gate", "resident__household__building", "resident__household__entrance"),
        code=code,
    )
    buildings = [
        building
        for building in Building.objects.visible_to(request.user).filter(community=place).select_related("grid")
        if user_can(request.user, "edit_ledger", building)
    ]
    chosen = next((b for b in buildings if b.code == request.GET.get("building", "")), None)
    households = (
        list(
            Household.objects.visible_to(request.user, "edit_ledger")
            .filter(building=chosen)
            .select_related("building", "entrance")
        )
        if chosen is not None
        else []
    )
    accept = AcceptForm(households=households, initial={"id_type": guessed_id_type(item)})
    dismiss = DismissForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "accept":
            accept = AcceptForm(request.POST, households=households)
            if accept.is_valid():
                household = next((h for h in households if h.code == accept.cleaned_data["household"]), None)
                try:
                    result = do_accept_declaration(
                        request.user,
                        item,
                        household=household,
                        id_type=accept.cleaned_data["id_type"],
                        request=request,
                    )
                except ValidationError as error:
                    accept.add_action_errors(error)
                else:
                    if result.order is not None:
                        messages.warning(request, _("The arrival was registered: home isolation ordered."))
                    else:
                        messages.success(request, _("The arrival was registered."))
                    return redirect("people:resident", code=result.resident.code)
        elif action == "dismiss":
            dismiss = DismissForm(request.POST)
            if dismiss.is_valid():
                try:
                    do_dismiss_declaration(request.user, item, dismiss.cleaned_data["reason"], request=request)
                except ValidationError as error:
                    dismiss.add_action_errors(error)
                else:
                    messages.success(request, _("The declaration was dismissed."))
                    return redirect("public:declarations", community=place.code)
    item.symptom_labels = _symptom_labels(item)  # type: ignore[attr-defined]
    context = {
        "community": place,
        "declaration": item,
        "buildings": buildings,
        "chosen": chosen,
        "accept": accept,
        "dismiss": dismiss,
        "id_type_label": dict(Resident.IdType.choices),
    }
    return render(request, "status/public/declaration.html", context)


# --- letters and posters ------------------------------------------------------------------------


@never_cache
@login_required
def letters_overview(request: HttpRequest, community: str) -> HttpResponse:
    """The buildings whose letters the user may print, and the community's posters."""
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    buildings = [
        building
        for building in Building.objects.visible_to(request.user)
        .filter(community=place)
        .select_related("grid")
        .annotate(
            household_count=Count("households", distinct=True),
            coded=Count(
                "households",
                filter=Q(households__logins__revoked_at__isnull=True, households__logins__isnull=False),
                distinct=True,
            ),
        )
        if user_can(request.user, "edit_ledger", building)
    ]
    posters = user_can(request.user, "edit_ledger", place)
    if not buildings and not posters:
        raise PermissionDenied
    gates = list(Gate.objects.filter(community=place).order_by("name")) if posters else []
    context = {"community": place, "buildings": buildings, "posters": posters, "gates": gates}
    return render(request, "status/letters/overview.html", context)


def _building(request: HttpRequest, code: str) -> Building:
    building = get_visible_or_404(Building.objects.visible_to(request.user).select_related("community"), code=code)
    require(request.user, "edit_ledger", building)
    return building


def _checkin_base(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("public:checkin"))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # letters carry login codes
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def building_letters(request: HttpRequest, code: str) -> HttpResponse:
    """A building's households and their codes: issue codes, print the letters (a job), one household's letter."""
    building = _building(request, code)
    households = list(
        Household.objects.visible_to(request.user, "edit_ledger")
        .filter(building=building)
        .select_related("building", "entrance")
        .order_by("entrance__number", "floor", "room", "id")
    )
    form = LettersForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        one = next((h for h in households if h.code == request.POST.get("household")), None)
        if action in {"new_code", "letter", "revoke"} and one is None:
            raise Http404
        if action == "issue" and households:
            issued = do_issue_household_codes(request.user, households, place=building, request=request)
            messages.success(request, _("New codes were issued to %(count)s households.") % {"count": len(issued)})
        elif action == "new_code" and one is not None:
            do_issue_household_codes(request.user, [one], place=one, request=request)
            messages.success(request, _("A new code was issued to %(address)s.") % {"address": one.address})
        elif action == "revoke" and one is not None:
            do_revoke_household_code(request.user, one, request=request)
            messages.success(request, _("The code of %(address)s was withdrawn.") % {"address": one.address})
        elif action == "letter" and one is not None and form.is_valid():
            text = letters.LetterText(form.cleaned_data["hotline"], form.cleaned_data["note"])
            letters.do_print_letters(
                request.user, [one], place=one, base=_checkin_base(request), text=text, request=request
            )
            pdf = letters.letters_pdf(building.community, [one], _checkin_base(request), text)
            return _pdf(pdf, f"letter-{one.code}.pdf")
        elif action == "print" and households and form.is_valid():
            text = letters.LetterText(form.cleaned_data["hotline"], form.cleaned_data["note"])
            token = letters.start_letters(
                request.user, building, households, base=_checkin_base(request), text=text, request=request
            )
            return redirect("public:letters_job", code=building.code, token=token)
        return redirect("public:building_letters", code=building.code)
    logins = current_logins(households)
    for household in households:
        login = logins.get(household.pk)
        household.login = login  # type: ignore[attr-defined]
    context = {"building": building, "community": building.community, "households": households, "form": form}
    return render(request, "status/letters/building.html", context)


def _job(request: HttpRequest, building: Building, token: str) -> dict[str, Any]:
    job = letters.read_job(token)
    if job is None or job.get("building") != building.pk:
        raise Http404
    return job


@never_cache
@login_required
@require_GET
def letters_job(request: HttpRequest, code: str, token: str) -> HttpResponse:
    """The progress of a building's letters; the page polls itself until the PDF is ready."""
    building = _building(request, code)
    job = _job(request, building, token)
    total = job.get("total") or 0
    percent = int(100 * job.get("done", 0) / total) if total else 100
    context = {"building": building, "community": building.community, "job": job, "percent": percent}
    template = "status/letters/job.html#progress" if request.headers.get("HX-Request") else "status/letters/job.html"
    return render(request, template, context)


@login_required
@require_GET
def letters_download(request: HttpRequest, code: str, token: str) -> HttpResponseBase:
    building = _building(request, code)
    job = _job(request, building, token)
    return letters.FILES.download(job, token, f"letters-{building.code}.pdf")


@login_required
@require_GET
def gate_poster(request: HttpRequest, code: str) -> HttpResponse:
    """A gate's A4 poster with the QR code of its self-declaration page (``edit_ledger`` over the community)."""
    gate = get_visible_or_404(Gate.objects.visible_to(request.user).select_related("community"), code=code)
    url = request.build_absolute_uri(reverse("public:declare_gate", kwargs={"gate": gate.code}))
    pdf = letters.do_print_poster(request.user, gate.community, gate, url, request=request)
    return _pdf(pdf, f"poster-{gate.code}.pdf")


@login_required
@require_GET
def community_poster(request: HttpRequest, community: str) -> HttpResponse:
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    url = request.build_absolute_uri(reverse("public:declare_community", kwargs={"community": place.code}))
    pdf = letters.do_print_poster(request.user, place, None, url, request=request)
    return _pdf(pdf, f"poster-{place.code}.pdf")
