"""The ledger web UI: thin views over ``queries`` (reads) and ``actions`` (writes).

Every scoped object is fetched through ``get_visible_or_404`` (out of scope looks
like nonexistent), write views check the capability before showing a form, and
the actions check it again. Full ID numbers and phones appear only in the unmask
fragment, which is marked with ``X-FirstLine-Unmasked`` and never cached.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import push_url
from django_htmx.middleware import HtmxDetails

from firstline.people.actions import (
    PLAIN_FIELDS,
    REVEALABLE_FIELDS,
    SEALED_FIELDS,
    ExactSearchRefused,
    do_create_resident,
    do_unmask,
    do_update_resident,
    read_full_resident,
)
from firstline.people.forms import MovementForm, ResidentForm, resident_field
from firstline.people.idcard import domicile_shown_masked
from firstline.people.models import Movement, Resident, Status
from firstline.people.queries import FLAG_LABELS, ResidentFilter, ledger_counts, residents_for, search_kind
from firstline.places.models import Building, Community, Grid, Household
from firstline.scoping import get_visible_or_404, require, user_can
from firstline.sealing import remask_id_number
from firstline.status.actions import do_record_departure, do_register_arrival
from firstline.status.forms import MOVEMENT_NAMES, renamed
from firstline.status.worker_views import status_context

# Filters that may appear in a URL; the search box may not when it holds an ID number or phone.
URL_FILTERS = ("grid", "building", "flag", "person_type", "status")
UNMASKED_HEADER = "X-FirstLine-Unmasked"


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _resident(request: HttpRequest, code: str) -> Resident:
    queryset = Resident.objects.visible_to(request.user).select_related(
        "community", "grid", "household__building", "household__entrance"
    )
    return get_visible_or_404(queryset, code=code)


def _household(request: HttpRequest, code: str) -> Household:
    queryset = Household.objects.visible_to(request.user).select_related("community", "grid", "building", "entrance")
    return get_visible_or_404(queryset, code=code)


def _with_flag_labels(residents: Iterable[Resident]) -> list[Resident]:
    rows = list(residents)
    for resident in rows:
        resident.flag_labels = [FLAG_LABELS[flag] for flag in resident.flags]  # type: ignore[attr-defined]
    return rows


@login_required
def overview(request: HttpRequest, community: str) -> HttpResponse:
    """Counts of the community as far as the user may count them, each linking to the filtered list."""
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    counts = ledger_counts(request.user, place)
    return render(request, "people/overview.html", {"community": place, "counts": counts})


def _list_url(community: Community, filters: ResidentFilter, page: int) -> str:
    """The address of a list view that is safe to keep in history: no ID number or phone."""
    params = {name: getattr(filters, name) for name in URL_FILTERS if getattr(filters, name)}
    if filters.q and search_kind(filters.q) == "name":
        params["q"] = filters.q
    if page > 1:
        params["page"] = str(page)
    url = reverse("people:residents", kwargs={"community": community.code})
    return f"{url}?{urlencode(params)}" if params else url


@require_http_methods(["GET", "POST"])
@login_required
def residents(request: HtmxHttpRequest, community: str) -> HttpResponse:
    """The resident list. GET takes the filters from the URL; the search form POSTs them.

    An exact search by ID number or phone is honoured only from the POSTed form, so
    such values never sit in a URL, a browser history or a server log. One URL
    serves the page and, for htmx, just the results.
    """
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    params = request.POST if request.method == "POST" else request.GET
    filters = ResidentFilter.from_params(params)
    filters.community = ""  # the community is the page's, filtered by id below
    if request.method == "GET" and filters.q and search_kind(filters.q) != "name":
        messages.info(
            request, _("For privacy, search for an ID number or phone with the search box, not in the address.")
        )
        filters.q = ""
        return redirect(_list_url(place, filters, 1))
    try:
        queryset = residents_for(request.user, filters, request=request).filter(community=place)
    except ExactSearchRefused as refused:
        messages.error(request, refused.message)
        queryset = Resident.objects.none()
    page = Paginator(queryset, settings.LEDGER_PAGE_SIZE).get_page(params.get("page"))
    page.object_list = _with_flag_labels(page.object_list)
    context: dict[str, Any] = {"community": place, "filters": filters, "page": page}

    if request.htmx and not request.htmx.history_restore_request:
        response = render(request, "people/residents.html#results", context)
        push_url(response, _list_url(place, filters, page.number))
    else:
        grids = Grid.objects.visible_to(request.user).filter(community=place).only("code", "name")
        buildings = Building.objects.visible_to(request.user).filter(community=place).select_related("grid")
        context.update(
            grids=grids,
            buildings=buildings.only("code", "name", "grid__name"),
            flags=FLAG_LABELS.items(),
            person_types=Resident.PersonType.choices,
            statuses=Status.choices,
            search_value=filters.q if search_kind(filters.q) == "name" else "",
        )
        response = render(request, "people/residents.html", context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
def household(request: HttpRequest, code: str) -> HttpResponse:
    place = _household(request, code)
    members = Resident.objects.visible_to(request.user).filter(household=place, left_at__isnull=True).order_by("id")
    return render(
        request,
        "people/household.html",
        {
            "household": place,
            "community": place.community,
            "members": _with_flag_labels(members),
            "can_edit": user_can(request.user, "edit_ledger", place),
        },
    )


def age_in_words(age: int | None) -> str:
    return ngettext("%(age)s year", "%(age)s years", age) % {"age": age} if age is not None else ""


def revealable_item(person: Resident, field: str) -> dict[str, Any]:
    """One field of the resident page that shows masked and may be revealed (``do_unmask``)."""
    label: Any
    if field == "birth_date":
        label, masked = _("age"), age_in_words(person.age())
    elif field == "domicile":
        label, masked = resident_field("domicile").verbose_name, domicile_shown_masked(person.domicile)
    else:
        label, masked = resident_field(f"{field}_masked").verbose_name, getattr(person, f"{field}_masked")
    return {"field": field, "label": label, "masked": masked}


def _in_words(value: Any, choices: dict[Any, Any]) -> Any:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value in (None, ""):
        return "—"
    return choices.get(value, value)


def _as_masked(field: str, value: Any) -> Any:
    """A value of the history as a masked view may show it (masks stored before the last-4 rule included)."""
    if field == "id_number" and isinstance(value, str):
        return remask_id_number(value)
    if field == "birth_date" and value:
        return _("(hidden)")
    if field == "domicile" and isinstance(value, str):
        return domicile_shown_masked(value)
    return value


def _version_rows(resident: Resident) -> list[dict[str, Any]]:
    """The resident's history, newest first, with field names and values in words (sealed ones stay masked)."""
    rows = []
    for version in resident.versions.select_related("changed_by"):
        created = bool(version.changes.get("created"))
        changes = []
        for name, change in sorted(version.changes.items()):
            if created or not isinstance(change, list | tuple) or len(change) != 2:
                continue
            try:
                field = resident_field(f"{name}_masked" if name in SEALED_FIELDS else name)
            except FieldDoesNotExist:
                label, choices = name, {}
            else:
                label, choices = field.verbose_name, dict(field.flatchoices) if field.choices else {}
            old, new = (_as_masked(name, value) for value in change)
            changes.append({"label": label, "old": _in_words(old, choices), "new": _in_words(new, choices)})
        rows.append({"version": version, "created": created, "changes": changes})
    return rows


@never_cache
@login_required
def resident(request: HttpRequest, code: str) -> HttpResponse:
    """A resident's full (masked) record. Opening it is audited."""
    person = _resident(request, code)
    read_full_resident(request.user, person, request=request)
    can_unmask = user_can(request.user, "unmask", person)
    sealed = [revealable_item(person, field) for field in REVEALABLE_FIELDS]
    return render(
        request,
        "people/resident.html",
        {
            "resident": person,
            "community": person.community,
            "flag_labels": [FLAG_LABELS[flag] for flag in person.flags],
            "sealed": sealed,
            "can_unmask": can_unmask,
            "can_edit": user_can(request.user, "edit_ledger", person),
            "movements": Movement.objects.visible_to(request.user).filter(resident=person),
            "versions": _version_rows(person),
            **status_context(request, person),
        },
    )


@require_POST
@login_required
def resident_unmask(request: HtmxHttpRequest, code: str) -> HttpResponse:
    """Reveal one sealed field for a stated reason (``do_unmask`` checks the capability and audits it)."""
    person = _resident(request, code)
    field = request.POST.get("field", "")
    reason = request.POST.get("reason", "")
    context: dict[str, Any] = {
        "resident": person,
        "community": person.community,
        "item": revealable_item(person, field)
        if field in REVEALABLE_FIELDS
        else {"field": "", "label": "", "masked": ""},
        "can_unmask": True,
        "reason": reason,
    }
    try:
        context["value"] = do_unmask(request.user, person, field, reason, request=request)
    except ValidationError as error:
        context["errors"] = error.messages
    template = "people/_sealed_field.html" if request.htmx else "people/unmask.html"
    response = render(request, template, context)
    if "value" in context:
        response[UNMASKED_HEADER] = "1"
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@login_required
def resident_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Correct a resident: every change is a new version with a reason."""
    person = _resident(request, code)
    require(request.user, "edit_ledger", person)
    if request.method == "POST":
        form = ResidentForm(request.POST, resident=person)
        if form.is_valid():
            version = person.version
            try:
                do_update_resident(
                    request.user,
                    person,
                    form.action_data(empty_means_unchanged=True),
                    form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as error:
                person.refresh_from_db()  # the action may have changed the instance before refusing
                form.add_action_errors(error)
            else:
                if person.version == version:
                    messages.info(request, _("Nothing was changed."))
                else:
                    messages.success(request, _("The correction was saved."))
                return redirect("people:resident", code=person.code)
    else:
        # The birth date and domicile are not sent back (with the ID's last digits they would rebuild
        # the number): typed again to correct them, empty keeps them (as for the sealed fields).
        initial = {name: getattr(person, name) for name in PLAIN_FIELDS if name not in ("birth_date", "domicile")}
        form = ResidentForm(initial=initial, resident=person)
    return render(
        request, "people/resident_form.html", {"form": form, "resident": person, "community": person.community}
    )


@login_required
def resident_new(request: HttpRequest, code: str) -> HttpResponse:
    """Add a resident to a household."""
    place = _household(request, code)
    require(request.user, "edit_ledger", place)
    if request.method == "POST":
        form = ResidentForm(request.POST)
        if form.is_valid():
            try:
                person = do_create_resident(
                    request.user,
                    place,
                    form.action_data(empty_means_unchanged=False),
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except ValidationError as error:
                form.add_action_errors(error)
            else:
                messages.success(request, _("The resident was added."))
                return redirect("people:resident", code=person.code)
    else:
        form = ResidentForm()
    return render(
        request, "people/resident_form.html", {"form": form, "household": place, "community": place.community}
    )


@login_required
def movement_new(request: HttpRequest, code: str) -> HttpResponse:
    """Record where a resident came from or is going; the screening rules follow (an arrival may isolate)."""
    person = _resident(request, code)
    require(request.user, "edit_ledger", person)
    if request.method == "POST":
        form = MovementForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["direction"] == Movement.Direction.ARRIVAL:
                    result = do_register_arrival(request.user, arrival_data(data), resident=person, request=request)
                else:
                    do_record_departure(request.user, person, data, request=request)
            except ValidationError as error:
                form.add_action_errors(renamed(error, {new: old for old, new in MOVEMENT_NAMES.items()}))
            else:
                if data["direction"] == Movement.Direction.ARRIVAL:
                    return redirect("screening:arrival", community=person.community.code, code=result.movement.code)
                messages.success(request, _("The movement was recorded."))
                return redirect("people:resident", code=person.code)
    else:
        direction = request.GET.get("direction")
        form = MovementForm(initial={"direction": direction} if direction in Movement.Direction.values else None)
    return render(
        request, "people/movement_form.html", {"form": form, "resident": person, "community": person.community}
    )


def arrival_data(movement: dict[str, Any]) -> dict[str, Any]:
    """The ledger's movement fields as ``do_register_arrival`` names them."""
    return {
        "origin": movement["origin"],
        "departure_date": movement["departed_on"],
        "arrival_date": movement["arrived_on"],
        "transport": movement["transport"],
        "trip_no": movement["trip_number"],
        "notes": movement["notes"],
    }
