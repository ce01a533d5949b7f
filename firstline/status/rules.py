"""The screening rules (DESIGN.md §5): the deployment's defaults, a community's overrides, risk areas, windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from firstline.status.models import CommunityRules, RiskArea


@dataclass(frozen=True)
class Rules:
    fever_threshold: Decimal
    isolation_days: int
    observation_checkins: int
    referral_stale_hours: int
    checkin_windows: tuple[tuple[int, int], ...]
    task_due_hours: int
    urgent_task_due_hours: int

    def is_fever(self, temperature: Decimal | float | str | None) -> bool:
        return temperature is not None and Decimal(str(temperature)) >= self.fever_threshold


def default_rules() -> Rules:
    config: dict[str, Any] = settings.SCREENING
    return Rules(
        fever_threshold=Decimal(str(config["fever_threshold"])),
        isolation_days=int(config["isolation_days"]),
        observation_checkins=int(config["observation_checkins"]),
        referral_stale_hours=int(config["referral_stale_hours"]),
        checkin_windows=tuple((int(start), int(end)) for start, end in config["checkin_windows"]),
        task_due_hours=int(config["task_due_hours"]),
        urgent_task_due_hours=int(config["urgent_task_due_hours"]),
    )


def rules_for(community_id: int) -> Rules:
    """The rules in force in a community: its own values where it set them, the deployment's elsewhere."""
    rules = default_rules()
    own = CommunityRules.objects.filter(community_id=community_id).first()
    if own is None:
        return rules
    return Rules(
        fever_threshold=own.fever_threshold if own.fever_threshold is not None else rules.fever_threshold,
        isolation_days=own.isolation_days or rules.isolation_days,
        observation_checkins=own.observation_checkins or rules.observation_checkins,
        referral_stale_hours=own.referral_stale_hours or rules.referral_stale_hours,
        checkin_windows=rules.checkin_windows,
        task_due_hours=rules.task_due_hours,
        urgent_task_due_hours=rules.urgent_task_due_hours,
    )


def normalise_place(text: str) -> str:
    return "".join((text or "").split())


def risk_area_for(street_id: int, origin: str, on: date | None = None) -> RiskArea | None:
    """The risk area (kept by this street or deployment-wide) that ``origin`` lies in on day ``on``.

    A match is a name or keyword contained in the origin as written: "湖北省武汉市"
    matches "湖北省武汉市江汉区" and, with the keyword 武汉, "武汉".
    """
    origin = normalise_place(origin)
    if not origin:
        return None
    on = on or timezone.localdate()
    areas = (
        RiskArea.objects.filter(Q(street_id=street_id) | Q(street__isnull=True), active_from__lte=on)
        .filter(Q(active_until__isnull=True) | Q(active_until__gte=on))
        .order_by("id")
    )
    for area in areas:
        if any(normalise_place(term) in origin for term in area.terms()):
            return area
    return None


@dataclass(frozen=True)
class Window:
    """One check-in window: [starts_at, ends_at) in local time."""

    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> str:
        return timezone.localtime(self.starts_at).strftime("%Y%m%d%H")


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour % 24)) + timedelta(days=hour // 24))


def windows_on(day: date, rules: Rules) -> list[Window]:
    return [Window(_at(day, start), _at(day, end)) for start, end in rules.checkin_windows]


def window_at(moment: datetime, rules: Rules) -> Window | None:
    """The window ``moment`` falls in, or None between windows."""
    day = timezone.localtime(moment).date()
    for window in windows_on(day, rules):
        if window.starts_at <= moment < window.ends_at:
            return window
    return None


def windows_closed_between(start: datetime, end: datetime, rules: Rules) -> list[Window]:
    """Windows that ended in (start, end]."""
    first = timezone.localtime(start).date() - timedelta(days=1)
    last = timezone.localtime(end).date()
    found: list[Window] = []
    day = first
    while day <= last:
        found.extend(w for w in windows_on(day, rules) if start < w.ends_at <= end)
        day += timedelta(days=1)
    return found
