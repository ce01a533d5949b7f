"""The task screens: a worker's inbox (their home page on the phone), one task, the team view.

Thin views over ``tasks.queries`` (reads) and the actions (writes). A task is
fetched through ``Task.objects.visible_to(user, "work_tasks")``: a task of another
grid, or any task for someone who does not work tasks, is a 404.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from firstline.people.models import Resident
from firstline.places.models import Community
from firstline.scoping import get_visible_or_404, memberships_with, user_can
from firstline.status.actions import CheckInConflictError, do_record_visit
from firstline.status.forms import ReadingForm
from firstline.status.worker_views import taken_now, with_steps
from firstline.tasks.actions import do_complete_task, do_create_task
from firstline.tasks.forms import DoneForm, TaskForm
from firstline.tasks.models import Task
from firstline.tasks.queries import TASK_RELATED, inbox_for, team_memberships, team_tasks_for, with_sources


def _home_community(user: Any) -> Community | None:
    """The community whose ledger links the navigation shows, when the user works in exactly one."""
    communities = list(Community.objects.visible_to(user)[:2])
    return communities[0] if len(communities) == 1 else None


def _task(request: HttpRequest, code: str) -> Task:
    queryset = Task.objects.visible_to(request.user, "work_tasks").select_related(*TASK_RELATED, "community")
    return get_visible_or_404(queryset, code=code)


@never_cache
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """Tasks assigned to me, then the unassigned ones at my place: urgent first, soonest due first."""
    if not memberships_with(request.user, "work_tasks"):
        raise PermissionDenied
    tasks = with_sources(list(inbox_for(request.user)), request.user)
    mine = [task for task in tasks if task.assignee_id == request.user.id]
    return render(
        request,
        "tasks/inbox.html",
        {
            "mine": mine,
            "unassigned": [task for task in tasks if task.assignee_id != request.user.id],
            "open_task_count": len(tasks),
            "community": _home_community(request.user),
            "can_team": bool(team_memberships(request.user)),
        },
    )


@never_cache
@login_required
def team(request: HttpRequest) -> HttpResponse:
    """Every open task under a community administrator, grid leader or street officer, by assignee."""
    if not team_memberships(request.user):
        raise PermissionDenied
    tasks = with_sources(list(team_tasks_for(request.user)), request.user)
    groups = [
        {"assignee": assignee, "tasks": list(rows)} for assignee, rows in groupby(tasks, key=lambda task: task.assignee)
    ]
    return render(
        request,
        "tasks/team.html",
        {
            "groups": groups,
            "count": len(tasks),
            "overdue": sum(1 for task in tasks if task.due.overdue),  # type: ignore[attr-defined,misc]
            "escalated": sum(1 for task in tasks if task.escalations),
            "community": _home_community(request.user),
        },
    )


@never_cache
@login_required
def task(request: HttpRequest, code: str) -> HttpResponse:
    """One task and what to do about it: the shortcut its kind calls for, a visit, or done with a note."""
    item = with_sources([_task(request, code)], request.user)[0]
    referral = getattr(item, "referral", None)
    order = getattr(item, "order", None)
    resident = item.resident
    can_visit = item.is_open and resident is not None and user_can(request.user, "record_health", resident)
    return render(
        request,
        "tasks/task.html",
        {
            "task": item,
            "community": item.community,
            "referral": with_steps(referral) if referral is not None and referral.is_open else None,
            "order": order if order is not None and order.is_open else None,
            "can_edit": resident is not None and user_can(request.user, "edit_ledger", resident),
            "visit_form": ReadingForm(auto_id="visit-%s") if can_visit else None,
            "done_form": DoneForm(auto_id="done-%s"),
            "events": item.events.select_related("by", "assignee"),
            "here": reverse("tasks:task", kwargs={"code": item.code}),
        },
    )


@require_POST
@login_required
def task_visit(request: HttpRequest, code: str) -> HttpResponse:
    """A home visit for the task: the reading is a check-in (the rules apply) and the task is done."""
    item = _task(request, code)
    if item.resident is None:
        raise PermissionDenied
    resident = get_visible_or_404(Resident.objects.visible_to(request.user), pk=item.resident_id)
    form = ReadingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The form was not complete: try again."))
        return redirect("tasks:task", code=item.code)
    try:
        do_record_visit(
            request.user,
            resident,
            temperature=form.cleaned_data["temperature"],
            symptoms=form.cleaned_data["symptoms"],
            note=form.cleaned_data["note"],
            task=item,
            client_id=form.cleaned_data["client_id"],
            taken_at=taken_now(),
            request=request,
        )
    except CheckInConflictError:
        messages.error(request, _("This form was already sent with other values: reload it."))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The visit was recorded and the task is done."))
    return redirect("tasks:task", code=item.code)


@require_POST
@login_required
def task_done(request: HttpRequest, code: str) -> HttpResponse:
    item = _task(request, code)
    form = DoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        do_complete_task(request.user, item, note, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("tasks:task", code=item.code)
    messages.success(request, _("The task is done."))
    return redirect("tasks:inbox")


@never_cache
@login_required
def task_new(request: HttpRequest, code: str) -> HttpResponse:
    """A task opened by hand about a resident; it goes to whoever answers for the resident's place."""
    resident = get_visible_or_404(
        Resident.objects.visible_to(request.user).select_related("community", "household__building"), code=code
    )
    if not user_can(request.user, "work_tasks", resident):
        raise PermissionDenied
    form = TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = do_create_task(
                request.user, data["kind"], resident=resident, note=data["note"], urgent=data["urgent"]
            )
        except ValidationError as error:
            form.add_action_errors(error)
        else:
            messages.success(request, _("The task was created."))
            return redirect("tasks:task", code=created.code)
    return render(request, "tasks/task_new.html", {"form": form, "resident": resident, "community": resident.community})
