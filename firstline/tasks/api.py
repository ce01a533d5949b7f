"""Tasks API: the caller's inbox and "done with a note", over ``tasks.queries`` and ``tasks.actions``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from firstline.accounts.api import Error
from firstline.audit.actions import do_hand_out_records
from firstline.schemas import FreeText
from firstline.scoping import get_visible_or_404
from firstline.tasks.actions import do_complete_task
from firstline.tasks.models import Task
from firstline.tasks.queries import TASK_RELATED, inbox_for

router = Router(tags=["tasks"])


class TaskOut(Schema):
    code: str
    kind: str
    state: str
    urgent: bool
    due_at: datetime
    overdue: bool
    level: str = Field(description="building, grid, community or street")
    assignee: str | None = Field(description="username, or null while unassigned")
    escalations: int
    note: str
    source: str = Field(description="what caused it, e.g. referral:AB12CD")
    resident: str | None = Field(description="resident code")
    resident_name: str | None
    address: str | None
    done_at: datetime | None
    done_note: str


class DoneIn(Schema):
    note: FreeText = Field("", max_length=300, description="what was done")


def task_item(task: Task, now: datetime) -> dict[str, Any]:
    return {
        "code": task.code,
        "kind": task.kind,
        "state": task.state,
        "urgent": task.urgent,
        "due_at": task.due_at,
        "overdue": task.is_open and task.due_at < now,
        "level": task.level,
        "assignee": task.assignee.get_username() if task.assignee else None,
        "escalations": task.escalations,
        "note": task.note,
        "source": task.source,
        "resident": task.resident.code if task.resident else None,
        "resident_name": task.resident.name if task.resident else None,
        "address": task.household.address if task.household else None,
        "done_at": task.done_at,
        "done_note": task.done_note,
    }


@router.get("/tasks", response={200: list[TaskOut]}, summary="My inbox: assigned to me, then unassigned at my place")
def list_tasks(request: HttpRequest) -> Any:
    now = timezone.now()
    tasks = list(inbox_for(request.user))
    # The inbox is the worker's own work, asked for again and again: audited, not counted as taken out.
    do_hand_out_records(request.user, "tasks", len(tasks), counted=False, request=request)
    return [task_item(task, now) for task in tasks]


@router.post(
    "/tasks/{code}/done",
    response={200: TaskOut, 400: Error, 403: Error, 404: Error},
    summary="Mark a task done with a note",
)
def complete_task(request: HttpRequest, code: str, done: DoneIn) -> Any:
    task = get_visible_or_404(
        Task.objects.visible_to(request.user, "work_tasks").select_related(*TASK_RELATED), code=code
    )
    do_complete_task(request.user, task, done.note, request=request)
    return task_item(task, timezone.now())
