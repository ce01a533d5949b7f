"""The audit chain on the job queue's clock: an anchor when the chain moved and one is due."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task


def anchor_if_due(now: datetime | None = None) -> bool:
    """Anchor the chain when it moved since the newest anchor and that one is at least
    ``AUDIT_ANCHOR_MINUTES`` old; True when an anchor was written."""
    from firstline.audit import anchors
    from firstline.audit.actions import do_anchor_chain
    from firstline.audit.models import AuditHead

    now = now or timezone.now()
    head = AuditHead.objects.filter(id=1).first()
    if head is None or head.count == 0:
        return False
    last = anchors.newest()
    if last is not None:
        if last.count == head.count and last.last_id == head.last_id:
            return False
        if datetime.fromisoformat(last.at) > now - timedelta(minutes=settings.AUDIT_ANCHOR_MINUTES):
            return False
    do_anchor_chain()
    return True


@db_periodic_task(crontab(minute="*"))
def anchor_audit_chain() -> None:
    """Every minute, a look: an anchor is written once the chain moved and one is due."""
    anchor_if_due()
