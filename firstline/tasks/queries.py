"""Reads of tasks shared by the web UI and the API: the inbox, the team view, due times in words.

The inbox of a worker is what is assigned to them plus the unassigned tasks at the
place of one of their memberships, at that membership's level (a grid worker sees
the unassigned grid tasks of her grid, not those of the building leaders under
her). Everything is also cut by ``Task.objects.visible_to(user, "work_tasks")``, so
a task assigned to someone who has since lost the place drops out of their inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from firstline.accounts.roles import Role
from firstline.people.models import Status
from firstline.scoping import memberships_with, scope_filter
from firstline.status.models import IsolationOrder, Referral
from firstline.tasks.actions import PLACE_FIELD
from firstline.tasks.models import Task

# What a task row needs besides itself, fetched in the same query.
TASK_RELATED = ("resident", "household__building", "household__entrance", "assignee")
# Who may see the team view: the people who answer for the tasks of others.
TEAM_ROLES = (Role.STREET_OFFICER, Role.COMMUNITY_ADMIN, Role.GRID_LEADER)
# Kinds a worker may open by hand (the others are opened by rules).
MANUAL_KINDS = (Task.Kind.VISIT, Task.Kind.CALL, Task.Kind.CARE, Task.Kind.OTHER)


def open_tasks_for(user: Any) -> QuerySet[Task]:
    """Open tasks the user may work on: their scope with ``work_tasks`` (nothing without it)."""
    return Task.objects.visible_to(user, "work_tasks").filter(state=Task.State.OPEN)


def inbox_filter(user: Any) -> Q | None:
    """Assigned to ``user``, or unassigned at the place and level of one of their task memberships."""
    memberships = memberships_with(user, "work_tasks")
    if not memberships:
        return None
    query = Q(assignee_id=user.id)
    for membership in memberships:
        field = PLACE_FIELD.get(membership.level)
        if field is not None:
            place = {field: membership.place_id_at(membership.level)}
            query |= Q(assignee__isnull=True, level=membership.level, **place)
    return query


def inbox_for(user: Any) -> QuerySet[Task]:
    """The user's inbox: mine first, then unassigned; urgent first; soonest due first."""
    query = inbox_filter(user)
    if query is None:
        return Task.objects.none()
    return (
        open_tasks_for(user)
        .filter(query)
        .select_related(*TASK_RELATED)
        .order_by(F("assignee_id").asc(nulls_last=True), "-urgent", "due_at", "id")
    )


def inbox_count(user: Any) -> int:
    query = inbox_filter(user)
    return open_tasks_for(user).filter(query).count() if query is not None else 0


def team_memberships(user: Any) -> list[Any]:
    return [m for m in memberships_with(user, "work_tasks") if m.role in TEAM_ROLES]


def team_tasks_for(user: Any) -> QuerySet[Task]:
    """All open tasks under the user's team memberships, by assignee (unassigned last)."""
    query = scope_filter(Task, team_memberships(user))
    if query is None:
        return Task.objects.none()
    return (
        Task.objects.filter(query, state=Task.State.OPEN)
        .select_related(*TASK_RELATED)
        .order_by(
            F("assignee__full_name").asc(nulls_last=True),
            F("assignee_id").asc(nulls_last=True),
            "-urgent",
            "due_at",
            "id",
        )
    )


def duration_words(span: timedelta) -> str:
    """A length of time as a worker says it, rounded: minutes under an hour, hours under two days, then days."""
    minutes = round(span.total_seconds() / 60)
    if minutes < 60:
        count = max(minutes, 1)
        return ngettext("%(count)d minute", "%(count)d minutes", count) % {"count": count}
    hours = round(minutes / 60)
    if hours < 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days = round(hours / 24)
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


@dataclass
class Due:
    text: str
    overdue: bool


def due_in_words(due_at: datetime, now: datetime | None = None) -> Due:
    """ "due in 2 hours" / "overdue by 3 hours"."""
    now = now or timezone.now()
    if due_at < now:
        return Due(_("overdue by %(time)s") % {"time": duration_words(now - due_at)}, True)
    return Due(_("due in %(time)s") % {"time": duration_words(due_at - now)}, False)


def source_code(task: Task, kind: str) -> str:
    """The code in ``task.source`` when it names a ``kind`` (``referral``, ``isolation``…), else ''."""
    prefix, _sep, code = task.source.partition(":")
    return code if prefix == kind else ""


def labels(choices: Any) -> dict[str, str]:
    """Choice labels translated once: ``get_FOO_display`` translates every label of the field on each call."""
    return {value: str(label) for value, label in choices}


def with_sources(tasks: list[Task], user: Any) -> list[Task]:
    """Prepare tasks for a list: the referral or isolation order each came from (one query per kind, in
    scope), the due time in words, and the labels the list shows (translated once for the whole list)."""
    referral_codes = {code for task in tasks if (code := source_code(task, "referral"))}
    order_codes = {code for task in tasks if (code := source_code(task, "isolation"))}
    referrals = (
        {r.code: r for r in Referral.objects.visible_to(user).filter(code__in=referral_codes)} if referral_codes else {}
    )
    orders = (
        {o.code: o for o in IsolationOrder.objects.visible_to(user).filter(code__in=order_codes)} if order_codes else {}
    )
    kinds, levels, statuses = labels(Task.Kind.choices), labels(Task.Level.choices), labels(Status.choices)
    destinations, states = labels(Referral.Destination.choices), labels(Referral.State.choices)
    outcomes, order_kinds = labels(Referral.Outcome.choices), labels(IsolationOrder.Kind.choices)
    now = timezone.now()
    for task in tasks:
        task.due = due_in_words(task.due_at, now)  # type: ignore[attr-defined]
        task.kind_label = kinds.get(task.kind, task.kind)  # type: ignore[attr-defined]
        task.level_label = levels.get(task.level, task.level)  # type: ignore[attr-defined]
        if task.resident is not None:
            task.resident.status_label = statuses.get(task.resident.status, "")  # type: ignore[attr-defined]
        referral = task.referral = referrals.get(source_code(task, "referral"))  # type: ignore[attr-defined]
        if referral is not None:
            referral.destination_label = destinations.get(referral.destination, "")  # type: ignore[attr-defined]
            referral.state_label = states.get(referral.state, "")  # type: ignore[attr-defined]
            referral.outcome_label = outcomes.get(referral.outcome, "")  # type: ignore[attr-defined]
        order = task.order = orders.get(source_code(task, "isolation"))  # type: ignore[attr-defined]
        if order is not None:
            order.kind_label = order_kinds.get(order.kind, "")  # type: ignore[attr-defined]
    return tasks
