"""Every write to tasks: opened by rules or by hand, assigned along the chain of responsibility, escalated.

The chain: building leader → grid worker (or grid leader) → community worker (or
administrator) → street officer. A task is assigned to the person holding the first
role of its level at its place (the one with the fewest open tasks when several do);
when nobody does, it climbs until somebody does. Overdue tasks climb one level.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.accounts.models import Membership, User
from firstline.accounts.roles import Role
from firstline.audit.log import record
from firstline.places.models import Building, Community, Grid
from firstline.scoping import role_for
from firstline.tasks.models import Task, TaskEvent

LEVELS = (Task.Level.BUILDING, Task.Level.GRID, Task.Level.COMMUNITY, Task.Level.STREET)
# Who answers at each level, in order of preference.
CHAIN: dict[str, tuple[str, ...]] = {
    Task.Level.BUILDING: (Role.BUILDING_LEADER,),
    Task.Level.GRID: (Role.GRID_WORKER, Role.GRID_LEADER),
    Task.Level.COMMUNITY: (Role.COMMUNITY_WORKER, Role.COMMUNITY_ADMIN),
    Task.Level.STREET: (Role.STREET_OFFICER,),
}
PLACE_FIELD: dict[str, str] = {
    Task.Level.BUILDING: "building_id",
    Task.Level.GRID: "grid_id",
    Task.Level.COMMUNITY: "community_id",
    Task.Level.STREET: "street_id",
}


def _holders(task: Task, level: str, at: datetime) -> list[User]:
    place_id = getattr(task, PLACE_FIELD[level])
    if place_id is None:
        return []
    for role in CHAIN[level]:
        user_ids = list(
            Membership.objects.active(at)
            .filter(role=role, level=level, **{PLACE_FIELD[level]: place_id}, user__is_active=True)
            .values_list("user_id", flat=True)
        )
        if user_ids:
            return list(
                User.objects.filter(id__in=user_ids)
                .annotate(open_tasks=Count("tasks", filter=Q(tasks__state=Task.State.OPEN)))
                .order_by("open_tasks", "id")
            )
    return []


def _assign(task: Task, level: str, at: datetime) -> None:
    """Give ``task`` to the first holder at ``level`` or above; unassigned at ``level`` when nobody holds one."""
    for candidate in LEVELS[LEVELS.index(level) :]:
        holders = _holders(task, candidate, at)
        if holders:
            task.level, task.assignee = candidate, holders[0]
            return
    task.level, task.assignee = level, None


def due_hours(task: Task) -> int:
    from firstline.status.rules import rules_for

    rules = rules_for(task.community_id)
    return rules.urgent_task_due_hours if task.urgent else rules.task_due_hours


def open_task(
    kind: str,
    *,
    resident: Any = None,
    household: Any = None,
    place: Any = None,
    level: str = Task.Level.GRID,
    urgent: bool = False,
    note: str = "",
    source: str = "",
    dedupe_key: str | None = None,
    created_by: Any = None,
    at: datetime | None = None,
    due_at: datetime | None = None,
) -> Task:
    """Open a task about a resident, a household or a place; with ``dedupe_key``, at most once.

    Called by rules (no permission check: the rule decided) and by ``do_create_task``.
    Returns the existing task when ``dedupe_key`` was used before.
    """
    at = at or timezone.now()
    if dedupe_key:
        existing = Task.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
    anchor = resident or household or place
    task = Task(
        kind=kind,
        resident=resident,
        household=household if household is not None else getattr(resident, "household", None),
        urgent=urgent,
        note=note,
        source=source,
        dedupe_key=dedupe_key,
        created_by=created_by,
        created_at=at,
    )
    task.street_id = anchor.street_id
    task.community_id = anchor.id if isinstance(anchor, Community) else anchor.community_id
    task.grid_id = anchor.id if isinstance(anchor, Grid) else getattr(anchor, "grid_id", None)
    task.building_id = anchor.id if isinstance(anchor, Building) else getattr(anchor, "building_id", None)
    # To whoever holds the role now: a reading synced late may have been taken before their shift began.
    _assign(task, level, max(at, timezone.now()))
    task.due_at = due_at or at + timedelta(hours=due_hours(task))
    try:
        with transaction.atomic():
            task.save()
            TaskEvent.objects.create(
                task=task, kind=TaskEvent.Kind.CREATED, at=at, by=created_by, assignee=task.assignee, level=task.level
            )
    except IntegrityError:
        if dedupe_key:  # opened at the same moment by another worker of the queue
            return Task.objects.get(dedupe_key=dedupe_key)
        raise
    return task


def do_create_task(actor: Any, kind: str, *, resident: Any = None, note: str = "", urgent: bool = False) -> Task:
    """A task opened by hand about a resident in the actor's scope, assigned along the chain."""
    role = role_for(actor, "work_tasks", resident)
    if not role:
        raise PermissionDenied
    if kind not in Task.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of task.")})
    task = open_task(kind, resident=resident, urgent=urgent, note=note.strip(), created_by=actor)
    record("create", actor=actor, role=role, obj=task, community_id=task.community_id)
    return task


def _may_work_on(actor: Any, task: Task) -> str:
    if task.assignee_id is not None and task.assignee_id == getattr(actor, "id", None):
        role = role_for(actor, "work_tasks", task)
        return role or "assignee"
    role = role_for(actor, "work_tasks", task)
    if not role:
        raise PermissionDenied
    return role


def do_complete_task(actor: Any, task: Task, note: str = "", request: Any = None, at: datetime | None = None) -> Task:
    """Mark a task done with what was done. The assignee or anyone working tasks at its place may."""
    role = _may_work_on(actor, task)
    if not task.is_open:
        raise ValidationError({"state": _("This task is already closed.")})
    at = at or timezone.now()
    with transaction.atomic():
        task.state, task.done_at, task.done_by, task.done_note = Task.State.DONE, at, actor, note.strip()[:300]
        task.save(update_fields=["state", "done_at", "done_by", "done_note"])
        TaskEvent.objects.create(task=task, kind=TaskEvent.Kind.DONE, at=at, by=actor, note=task.done_note)
        record("update", actor=actor, role=role, obj=task, detail={"state": "done"}, request=request)
    return task


def close_tasks(query: Q, note: str, *, by: Any = None, at: datetime | None = None) -> int:
    """Close open tasks matching ``query`` because what they asked for has happened (a rule's own bookkeeping)."""
    at = at or timezone.now()
    closed = 0
    for task in Task.objects.filter(query, state=Task.State.OPEN):
        task.state, task.done_at, task.done_by, task.done_note = Task.State.DONE, at, by, note[:300]
        task.save(update_fields=["state", "done_at", "done_by", "done_note"])
        TaskEvent.objects.create(task=task, kind=TaskEvent.Kind.DONE, at=at, by=by, note=task.done_note)
        closed += 1
    return closed


def escalate_overdue(now: datetime | None = None) -> int:
    """Move every overdue open task one level up the chain, with a new due time. Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    overdue = Task.objects.filter(state=Task.State.OPEN, due_at__lt=now).exclude(level=Task.Level.STREET)
    for task in overdue.order_by("due_at", "id"):
        before = (task.level, task.assignee_id)
        _assign(task, LEVELS[LEVELS.index(task.level) + 1], now)
        if (task.level, task.assignee_id) == before:
            continue
        task.escalations += 1
        task.due_at = now + timedelta(hours=due_hours(task))
        with transaction.atomic():
            task.save(update_fields=["level", "assignee", "escalations", "due_at"])
            TaskEvent.objects.create(
                task=task, kind=TaskEvent.Kind.ESCALATED, at=now, assignee=task.assignee, level=task.level
            )
        moved += 1
    return moved
