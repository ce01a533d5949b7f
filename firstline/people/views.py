from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from firstline.places.models import Community
from firstline.scoping import get_visible_or_404


@login_required
def overview(request: HttpRequest, community: str) -> HttpResponse:
    place = get_visible_or_404(Community.objects.visible_to(request.user), code=community)
    return render(request, "people/overview.html", {"community": place})
