"""Jobs of the ledger (Huey, see ``firstline.jobs``): reading an uploaded list and applying it.

Both steps of a web import run here, never in a request: a 100,000-row file takes
seconds to read and to write. Tests run them at once, in-process.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from firstline.accounts.models import User
from firstline.people.importing.apply import apply_job, fail_job, preview_job, purge_stale_uploads
from firstline.people.models import ImportJob


@db_task()
def read_import(code: str) -> None:
    """Read and plan an uploaded file for its preview page."""
    job = ImportJob.objects.select_related("community").filter(code=code, status=ImportJob.Status.PARSING).first()
    if job is not None:
        preview_job(job)


@db_task()
def apply_import(code: str, user_id: int | None) -> None:
    """Apply a confirmed import as the user who confirmed it (their permission is checked again)."""
    actor = User.objects.filter(pk=user_id, is_active=True).first() if user_id is not None else None
    if user_id is not None and actor is None:  # the account was closed since: never run as the console
        job = ImportJob.objects.filter(code=code, status=ImportJob.Status.APPLYING).first()
        if job is not None:
            fail_job(job, PermissionDenied())
        return
    apply_job(code, actor)


@db_periodic_task(crontab(minute="7"))
def purge_import_uploads() -> None:
    """Hourly: uploads are not kept longer than 24 hours."""
    purge_stale_uploads()
