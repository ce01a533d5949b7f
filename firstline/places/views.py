"""The hierarchy web UI: the buildings of a community and the bulk creation of households."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from firstline.places.actions import do_bulk_create_households
from firstline.places.forms import BulkHouseholdsForm
from firstline.places.models import Building, Community, Grid, Household
from firstline.scoping import get_visible_or_404, require, user_can


@login_required
def community_buildings(request: HttpRequest, community: str) -> HttpResponse:
    """The grids and buildings the user sees, with the households the user may count."""
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    households = dict(
        Household.objects.visible_to(request.user, "view_aggregates")
        .filter(community=place)
        .order_by()
        .values("building_id")
        .annotate(n=Count("id"))
        .values_list("building_id", "n")
    )
    grids: dict[int, tuple[Grid, list[Building]]] = {
        grid.id: (grid, []) for grid in Grid.objects.visible_to(request.user).filter(community=place)
    }
    for building in Building.objects.visible_to(request.user).filter(community=place):
        if building.grid_id in grids:
            building.household_count = households.get(building.id, 0)  # type: ignore[attr-defined]
            building.can_manage = user_can(request.user, "manage_places", building)  # type: ignore[attr-defined]
            grids[building.grid_id][1].append(building)
    return render(request, "places/community_buildings.html", {"community": place, "grids": grids.values()})


@login_required
def building_households(request: HttpRequest, code: str) -> HttpResponse:
    """Create all households of a building at once (``manage_places``)."""
    building = get_visible_or_404(Building.objects.visible_to(request.user).select_related("community"), code=code)
    require(request.user, "manage_places", building)
    if request.method == "POST":
        form = BulkHouseholdsForm(request.POST)
        if form.is_valid():
            try:
                created = do_bulk_create_households(request.user, building, **form.cleaned_data, request=request)
            except ValidationError as error:
                form.add_action_errors(error)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d household was created.", "%(count)d households were created.", len(created))
                    % {"count": len(created)},
                )
                return redirect("places:building_households", code=building.code)
    else:
        form = BulkHouseholdsForm(
            initial={"floors": building.floors, "entrances": building.entrances.count() or 1, "rooms_per_floor": 2}
        )
    households = Household.objects.visible_to(request.user, "manage_places").filter(building=building)
    return render(
        request,
        "places/building_households.html",
        {
            "building": building,
            "community": building.community,
            "form": form,
            "household_count": households.count(),
        },
    )
