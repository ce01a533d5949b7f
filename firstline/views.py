"""Site-wide views: health check and the start page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from firstline.places.models import Community
from firstline.scoping import active_memberships, memberships_with


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
    """Send a worker to the task inbox, a gate guard to the gates; others to their community, or the choices."""
    if memberships_with(request.user, "work_tasks"):
        return redirect("tasks:inbox")
    if memberships_with(request.user, "guard_gate") and not memberships_with(request.user, "view_ledger"):
        return redirect("duty:gates")  # a gate guard sees no ledger: the gates they guard
    communities = list(Community.objects.visible_to(request.user).order_by("name"))
    if len(communities) == 1:
        return redirect("people:overview", community=communities[0].code)
    return render(request, "home.html", {"communities": communities, "memberships": active_memberships(request.user)})
