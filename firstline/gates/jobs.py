"""The gate rules that run on the clock: outings not back in time become tasks; signing keys rotate.

Idempotent like the status jobs (``status/jobs.py``): an outing opens its task once
(``Task.dedupe_key`` and ``Outing.overdue_task``), however often the job runs. The
Huey schedule is in ``status/tasks.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.gates.actions import rotate_keys
from firstline.gates.models import Outing, RevocationList, SigningKey
from firstline.tasks.actions import open_task
from firstline.tasks.models import Task


def flag_overdue_outings(now: datetime | None = None) -> int:
    """Open outings past their due time become a task (once each, ``overdue:<outing>``). Returns how many."""
    now = now or timezone.now()
    opened = 0
    overdue = Outing.objects.filter(back_at__isnull=True, due_back_at__lt=now, overdue_task__isnull=True)
    for outing in overdue.select_related("pass_obj__resident__household"):
        resident = outing.pass_obj.resident
        if resident is None:
            continue
        with transaction.atomic():
            task = open_task(
                Task.Kind.OVERDUE_RETURN,
                resident=resident,
                note=_("Went out at %(out)s, due back at %(due)s: not back yet.")
                % {
                    "out": timezone.localtime(outing.out_at).strftime("%m-%d %H:%M"),
                    "due": timezone.localtime(outing.due_back_at).strftime("%H:%M"),
                },
                source=f"outing:{outing.id}",
                dedupe_key=f"overdue:{outing.id}",
                at=now,
            )
            Outing.objects.filter(pk=outing.pk).update(overdue_task=task)
        opened += 1
    return opened


def rotate_keys_when_due(now: datetime | None = None) -> bool:
    """A new signing key when the one signing is older than ``GATES["key_days"]``; the old one keeps
    verifying its passes until they have all expired (``actions.rotate_keys``). Old revocation lists go too:
    a community keeps its newest and those of the last two days. Returns whether a key was rotated."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=2)
    for community_id, newest in RevocationList.objects.values_list("community_id").annotate(newest=Max("version")):
        RevocationList.objects.filter(community_id=community_id, version__lt=newest, issued_at__lt=cutoff).delete()
    current = SigningKey.objects.filter(signs_until__isnull=True).order_by("-key_id").first()
    if current is None or now - current.created_at < timedelta(days=settings.GATES["key_days"]):
        return False
    rotate_keys(now)
    return True
