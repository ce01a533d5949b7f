"""The gate rules that run on the clock: outings not back in time become tasks.

Idempotent like the status jobs (``status/jobs.py``): an outing opens its task once
(``Task.dedupe_key`` and ``Outing.overdue_task``), however often the job runs. The
Huey schedule is in ``status/tasks.py``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.gates.models import Outing
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
