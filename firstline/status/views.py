"""Battle map pages: thin views over ``status.map``.

The community's map is for whoever holds ``view_ledger`` somewhere in it (a grid
worker sees her grid's cells; the households come through the scope door); a
community the user cannot see at all is a 404, one they see only by name (a gate
guard's) a 403. The colour filter works in the page (``map.js``) and, without
JavaScript, through the ``colour`` parameter; the care-flag filter is a query.
The printed map is made on the job queue and downloaded by the user who asked
for it only. The street's map counts what the user may count (``view_aggregates``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from firstline.audit.actions import role_in_community
from firstline.people.queries import FLAG_LABELS
from firstline.places.models import Community
from firstline.scoping import get_visible_or_404
from firstline.status.map import (
    DEFAULT_PAPER,
    FILTERS,
    PAPER_SIZES,
    battle_map,
    do_request_map_print,
    own_print_or_404,
    street_rows,
)


def _community(request: HttpRequest, code: str) -> Community:
    """The community, if the user may see the map of some of it (else 404 unseen, 403 seen by name only)."""
    place = get_visible_or_404(Community.objects.visible_to(request.user).select_related("street"), code=code)
    if not role_in_community(request.user, "view_ledger", place):
        raise PermissionDenied
    return place


@require_GET
@login_required
def community_map(request: HttpRequest, community: str) -> HttpResponse:
    """The battle map of the community as far as the user sees it, with its legend and filters."""
    place = _community(request, community)
    colour = request.GET.get("colour", "")
    the_map = battle_map(request.user, place, flag=request.GET.get("flag", ""))
    context: dict[str, Any] = {
        "community": place,
        "map": the_map,
        "colour": colour if colour in FILTERS else "",
        "flags": FLAG_LABELS.items(),
    }
    return render(request, "status/map.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def map_print(request: HttpRequest, community: str) -> HttpResponse:
    """Choose the paper and ask for the printed map (made on the job queue)."""
    place = _community(request, community)
    if request.method == "POST":
        item = do_request_map_print(request.user, place, request.POST.get("paper", ""), request=request)
        return redirect("status:map_print_job", community=place.code, code=item.code)
    return render(
        request,
        "status/map_print_new.html",
        {"community": place, "papers": PAPER_SIZES, "default_paper": DEFAULT_PAPER},
    )


@never_cache
@require_GET
@login_required
def map_print_job(request: HttpRequest, community: str, code: str) -> HttpResponse:
    """One printed map: waiting (an htmx fragment polls while it is made), ready to download, or failed."""
    place = _community(request, community)
    item = own_print_or_404(request.user, place, code)
    if getattr(request, "htmx", False) and (item.ready or item.failed):
        return HttpResponseClientRefresh()
    template = "status/map_print_job.html#state" if getattr(request, "htmx", False) else "status/map_print_job.html"
    return render(request, template, {"community": place, "item": item})


@never_cache
@require_GET
@login_required
def map_print_file(request: HttpRequest, community: str, code: str) -> FileResponse:
    place = _community(request, community)
    item = own_print_or_404(request.user, place, code)
    if not item.ready:
        raise Http404
    response = FileResponse(
        item.pdf_path.open("rb"),
        as_attachment=True,
        filename=f"map-{place.code}-{item.paper}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@login_required
def street_map(request: HttpRequest, street: str) -> HttpResponse:
    """The communities of a street the user sees, each with its residents by colour; none seen is a 404."""
    communities = list(
        Community.objects.visible_to(request.user).filter(street__code=street).select_related("street").order_by("id")
    )
    if not communities:
        raise Http404
    return render(
        request,
        "status/street_map.html",
        {"street": communities[0].street, "rows": street_rows(request.user, communities)},
    )
