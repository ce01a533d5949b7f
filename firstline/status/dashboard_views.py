"""The dashboard pages: thin views over ``status.dashboard`` (reads) and ``status.charts`` (layout).

A community's page has a row per grid (村民小组 in a village), a street's a row per
community; both show the totals, today's changes and the 30-day trend. A place out
of sight is a 404; a place in sight where the user may count nothing is a 403.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from firstline.people.models import STATUS_COLOURS, Status
from firstline.status import dashboard
from firstline.status.charts import Series, TrendChart, trend_chart

RECENT_DAYS = 7  # days in the table under the chart


def _chart(board: dashboard.Dashboard) -> TrendChart:
    days = [entry.day for entry in board.trend]
    series = [
        Series(str(label), STATUS_COLOURS[value], [e.colours.of(value) if e.colours else None for e in board.trend])
        for value, label in Status.choices
    ]
    middle = len(days) // 2
    ticks = {
        0: date_format(days[0], "MONTH_DAY_FORMAT"),
        middle: date_format(days[middle], "MONTH_DAY_FORMAT"),
        len(days) - 1: _("today"),
    }
    return trend_chart(days, series, ticks)


def _context(board: dashboard.Dashboard, **extra: Any) -> dict[str, Any]:
    return {
        "board": board,
        "chart": _chart(board),
        "recent": list(reversed(board.trend[-RECENT_DAYS:])),
        "statuses": Status.choices,
        **extra,
    }


@login_required
def community_dashboard(request: HttpRequest, community: str) -> HttpResponse:
    """Residents of a community by colour, per grid, with today's changes and the trend."""
    place = dashboard.community_for_dashboard(request.user, community)
    board = dashboard.community_dashboard(request.user, place)
    return render(request, "status/dashboard_community.html", _context(board, community=place))


@login_required
def street_dashboard(request: HttpRequest, street: str) -> HttpResponse:
    """Residents of a street by colour, per community the user counts, with today's changes and the trend."""
    place = dashboard.street_for_dashboard(request.user, street)
    board = dashboard.street_dashboard(request.user, place)
    return render(request, "status/dashboard_street.html", _context(board, street=place))
