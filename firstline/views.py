"""Site-wide views: health check and the start page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from firstline.places.models import Community
from firstline.scoping import active_memberships


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send the user to the community they work in; list the choices if there are several."""
    communities = list(Community.objects.visible_to(request.user).order_by("name"))
    if len(communities) == 1:
        return redirect("people:overview", community=communities[0].code)
    return render(request, "home.html", {"communities": communities, "memberships": active_memberships(request.user)})
