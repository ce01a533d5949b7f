"""The rules that run on the clock: missed check-ins, silent referrals, isolations due for release.

Each function takes ``now`` (tests move time) and is idempotent: a rule occurrence
opens its task once (``Task.dedupe_key``), however often the job runs. The Huey
schedule is in ``status/tasks.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.people.models import Resident, Status
from firstline.status.actions import CHECKIN_SOURCES
from firstline.status.models import CheckIn, IsolationOrder, Observation, Referral
from firstline.status.rules import Window, default_rules, rules_for, windows_closed_between
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task

# How far back a run looks for closed windows: a consumer that was down for a day catches up.
CATCH_UP = timedelta(hours=26)


def expected_checkins(window: Window):
    """Residents expected to check in during ``window``: under home isolation or observation since before it."""
    isolated = IsolationOrder.objects.filter(
        resident=OuterRef("pk"),
        kind=IsolationOrder.Kind.HOME,
        starts_at__lte=window.starts_at,
    ).filter(Q(released_at__isnull=True) | Q(released_at__gt=window.ends_at))
    observed = Observation.objects.filter(resident=OuterRef("pk"), opened_at__lte=window.starts_at).filter(
        Q(closed_at__isnull=True) | Q(closed_at__gt=window.ends_at)
    )
    return Resident.objects.filter(left_at__isnull=True).filter(Exists(isolated) | Exists(observed))


def find_missed_checkins(now: datetime | None = None) -> int:
    """For every window closed in the last day: a visit task for each expected resident who did not check in."""
    now = now or timezone.now()
    opened = 0
    for window in windows_closed_between(now - CATCH_UP, now, default_rules()):
        checked_in = CheckIn.objects.filter(
            resident=OuterRef("pk"),
            taken_at__gte=window.starts_at,
            taken_at__lt=window.ends_at,
            source__in=CHECKIN_SOURCES,
        )
        missing = (
            expected_checkins(window).exclude(status=Status.OUT).exclude(Exists(checked_in)).select_related("household")
        )
        for resident in missing:
            key = f"missed:{resident.pk}:{window.key}"
            if Task.objects.filter(dedupe_key=key).exists():
                continue
            open_task(
                Task.Kind.MISSED_CHECKIN,
                resident=resident,
                note=_("No check-in between %(start)s and %(end)s: visit or call.")
                % {
                    "start": timezone.localtime(window.starts_at).strftime("%m-%d %H:%M"),
                    "end": timezone.localtime(window.ends_at).strftime("%H:%M"),
                },
                source=f"window:{window.key}",
                dedupe_key=key,
                at=now,
            )
            opened += 1
    return opened


def find_silent_referrals(now: datetime | None = None) -> int:
    """An open referral with no update for the community's N hours becomes a follow-up task."""
    now = now or timezone.now()
    opened = 0
    pending = Referral.objects.filter(
        closed_at__isnull=True,
        state__in=[Referral.State.REQUESTED, Referral.State.IN_TRANSIT, Referral.State.ARRIVED],
        updated_at__lt=now - timedelta(hours=1),
    ).select_related("resident__household")
    for referral in pending:
        rules = rules_for(referral.community_id)
        if referral.updated_at > now - timedelta(hours=rules.referral_stale_hours):
            continue
        key = f"referral:{referral.code}:{int(referral.updated_at.timestamp())}"
        if Task.objects.filter(dedupe_key=key).exists():
            continue
        open_task(
            Task.Kind.REFERRAL_FOLLOW_UP,
            resident=referral.resident,
            note=_("No news of this referral for %(hours)s hours: find out where the resident is.")
            % {"hours": rules.referral_stale_hours},
            source=f"referral:{referral.code}",
            dedupe_key=key,
            at=now,
        )
        opened += 1
    return opened


def find_releases_due(now: datetime | None = None) -> int:
    """An isolation whose period has passed needs a worker to release it: a task, once per planned end."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    opened = 0
    due = IsolationOrder.objects.filter(released_at__isnull=True, planned_end__lte=today).select_related(
        "resident__household"
    )
    for order in due:
        key = f"release:{order.code}:{order.planned_end.isoformat()}"
        if Task.objects.filter(dedupe_key=key).exists():
            continue
        open_task(
            Task.Kind.RELEASE_DUE,
            resident=order.resident,
            note=_("The isolation period ended on %(date)s: check and release.") % {"date": order.planned_end},
            source=f"isolation:{order.code}",
            dedupe_key=key,
            at=now,
        )
        opened += 1
    return opened
