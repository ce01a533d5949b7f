"""The rules on the job queue's clock (Huey periodic tasks; see ``status/jobs.py`` and ``gates/jobs.py``)."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from firstline.gates import jobs as gate_jobs
from firstline.status import daily, jobs, letters, map  # noqa: F401 (their jobs must be known to the consumer)
from firstline.tasks.actions import escalate_overdue


@db_periodic_task(crontab(minute="*/10"))
def missed_checkins() -> None:
    """Every ten minutes: check-in windows that closed without a check-in become visit tasks."""
    jobs.find_missed_checkins()


@db_periodic_task(crontab(minute="*/15"))
def silent_referrals() -> None:
    jobs.find_silent_referrals()


@db_periodic_task(crontab(minute="5"))
def releases_due() -> None:
    jobs.find_releases_due()


@db_periodic_task(crontab(minute="*/10"))
def overdue_tasks() -> None:
    """Overdue tasks climb one level of the chain of responsibility."""
    escalate_overdue()


@db_periodic_task(crontab(minute="*/10"))
def overdue_outings() -> None:
    """Every ten minutes: residents not back from an outing in time become a task."""
    gate_jobs.flag_overdue_outings()


@db_periodic_task(crontab(minute="30"))
def rotate_pass_keys() -> None:
    """Every hour: the pass signing key is replaced when it is due; old revocation lists are pruned."""
    gate_jobs.rotate_keys_when_due()
