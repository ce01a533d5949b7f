"""Who gets a task: the chain of responsibility, as it stands when the task is opened."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.scoping import forget_memberships
from firstline.status.actions import do_record_checkin
from firstline.tasks.models import Task


def test_a_late_reading_goes_to_whoever_is_on_duty_now(world):
    """A phone offline for hours syncs a fever taken before the grid worker's shift began: she gets the task."""
    start = timezone.now()
    Membership.objects.filter(user=world.grid_worker).update(starts_at=start - timedelta(minutes=30))
    forget_memberships(world.grid_worker)

    do_record_checkin(
        world.grid_worker, world.resident_a1, client_id=None, temperature="38.5", taken_at=start - timedelta(hours=2)
    )

    task = Task.objects.get(kind=Task.Kind.FEVER)
    assert task.assignee == world.grid_worker and task.level == "grid"
    assert task.created_at == start - timedelta(hours=2)  # the task still tells when the fever was seen
