"""The accounts' jobs on the queue's clock."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from firstline.accounts import limits


@db_periodic_task(crontab(minute="17"))
def purge_rate_counts() -> None:
    """Every hour: the counts of limit windows that have ended are deleted."""
    limits.purge()
