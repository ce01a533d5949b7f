"""Ledger exports: request, approve, refuse, download — each checked, atomic and audited.

The policy, in the order a request meets it:

- An export is the resident list the user sees (``residents_for`` with the same
  filters) in one community: whoever may see residents there (``view_ledger``) may
  export them, masked, and never anything beyond their scope.
- Unmasked (full ID numbers and phones) needs the ``unmask`` capability over every
  row of the export and a reason; otherwise it is refused and nothing is recorded.
- An export needs the approval of a community administrator (``approve_exports``
  over the community: community administrators and street officers) when it holds
  more than ``settings.EXPORT_APPROVAL_ROWS`` rows, or when it is unmasked at any
  size: a full list of ID numbers and phones is exactly the spreadsheet that leaked
  in January 2020. An approver's own exports need no second approval (they are the
  last line anyway); the audit log shows who exported what. Nobody approves their
  own export, and a refusal needs a reason.
- A ready export may be downloaded by its requester, and only by them, for
  ``EXPORT_TTL`` after it became ready. Each download re-checks the requester's
  scope (and unmask capability) at that moment and rebuilds the file from the live
  ledger, limited to the residents in the ledger when it was requested; if the list
  has grown since (residents moved into the requester's scope), the download is
  refused and a new request is needed. No file is stored.
- Every request, approval, refusal and download is one ``export`` event in the
  audit log, with the row count, format and masking, never a personal value.

What a user takes out is also counted per local day, across exports and API list
pages (``TAKEOUT``, in the database so that it holds across processes), against
the same threshold: nine exports of a few hundred rows each, or a grid paged out
through the API, add up. Beyond the threshold an API page is refused (429, with
``Retry-After``: the next local day) and an export needs approval, as a large one
does. A ready export counts its rows when requested, an approved one when approved.
Every API page of personal records is one ``list`` event with its count
(``do_hand_out_records``).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.accounts import limits
from firstline.audit.exports import Prepared, watermark_for
from firstline.audit.log import record
from firstline.audit.models import Export
from firstline.audit.queries import export_rows, rows_of_export, stored_filters
from firstline.people.models import Resident
from firstline.people.queries import ResidentFilter, search_kind
from firstline.places.models import Community
from firstline.scoping import memberships_with, require, scope_filter, user_can

logger = logging.getLogger(__name__)

EXPORT_TTL = timedelta(hours=24)


def role_in_community(user: Any, capability: str, community: Community) -> str:
    """The role under which ``user`` holds ``capability`` somewhere in ``community`` (or above it), or ""."""
    for membership in memberships_with(user, capability):
        if membership.community_id == community.id or (
            membership.level == "street" and membership.street_id == community.street_id
        ):
            return membership.role
    return ""


def can_approve(user: Any, community: Community) -> bool:
    return user_can(user, "approve_exports", community)


def can_unmask_all(user: Any, rows: QuerySet[Resident]) -> bool:
    """Whether ``user`` holds ``unmask`` over every resident of ``rows``."""
    reach = scope_filter(Resident, memberships_with(user, "unmask"))
    return reach is not None and not rows.exclude(reach).exists()


def _takeout_key(user: Any) -> str:
    return f"takeout:user:{user.pk}"


def taken_out_today(user: Any) -> int:
    """How many personal records ``user`` took out today (exports and API list pages)."""
    return limits.peek(_takeout_key(user), limit=settings.EXPORT_APPROVAL_ROWS, window=limits.DAY).count


def over_threshold(user: Any, rows: int) -> bool:
    """Whether ``rows`` more records would take ``user`` over the approval threshold, alone or with today's."""
    return rows > settings.EXPORT_APPROVAL_ROWS or taken_out_today(user) + rows > settings.EXPORT_APPROVAL_ROWS


def needs_approval(user: Any, community: Community, rows: int, unmasked: bool) -> bool:
    if can_approve(user, community):
        return False
    return unmasked or over_threshold(user, rows)


def _count_takeout(user: Any, rows: int) -> None:
    limits.take(_takeout_key(user), limit=settings.EXPORT_APPROVAL_ROWS, window=limits.DAY, amount=rows)


def do_hand_out_records(
    actor: Any,
    what: str,
    rows: int,
    *,
    counted: bool = True,
    community_id: int | None = None,
    request: Any = None,
) -> None:
    """Clear one API page of ``rows`` personal records (``what``: residents, household, tasks…) for ``actor``.

    One ``list`` event per page, with the count. A ``counted`` page goes against the
    day's take-out: if it would take ``actor`` over the approval threshold, it raises
    ``limits.Refused`` (429 with ``Retry-After``), counts nothing and hands nothing
    out; the refusal is audited too.
    """
    limit = settings.EXPORT_APPROVAL_ROWS
    detail: dict[str, Any] = {"what": what, "rows": rows}
    refused = None
    with transaction.atomic(savepoint=False):  # the count and its event together
        if counted:
            allowance = limits.take_within(_takeout_key(actor), limit=limit, window=limits.DAY, amount=rows)
            detail["taken_today"] = allowance.count
            if not allowance.allowed:
                refused = allowance
                detail.update(rows=0, refused=rows, limit=limit)
        record("list", actor=actor, community_id=community_id, detail=detail, request=request)
    if refused is not None:
        raise limits.Refused(
            _(
                "You have taken out %(taken)s records today; the limit is %(limit)s a day. "
                "Ask for an export, which a community administrator approves, or try again tomorrow."
            )
            % {"taken": refused.count, "limit": limit},
            retry_after=refused.retry_after,
        )


def _detail(export: Export, step: str, **extra: Any) -> dict[str, Any]:
    """What the audit log keeps of an export: counts, format, masking and filter codes — no personal value."""
    return {
        "step": step,
        "rows": export.row_count,
        "format": export.format,
        "masked": not export.unmasked,
        "state": export.state,
        "filters": {name: value for name, value in export.filters.items() if name != "q"},
        "name_search": "q" in export.filters,
        **extra,
    }


def do_request_export(
    actor: Any,
    community: Community,
    filters: ResidentFilter,
    *,
    format: str = Export.Format.XLSX,
    unmasked: bool = False,
    reason: str = "",
    request: Any = None,
) -> Export:
    """Ask for an export of the residents ``actor`` sees in ``community`` with ``filters``.

    Returns the export, ``ready`` at once or ``pending`` approval (see the module
    docstring). Raises PermissionDenied (nothing created, nothing recorded) without
    ``view_ledger`` in the community or, for an unmasked export, without ``unmask``
    over every row; ValidationError for a missing reason, an ID number or phone
    search, an unknown format or an empty list.
    """
    role = role_in_community(actor, "view_ledger", community)
    if not role:
        raise PermissionDenied
    if format not in Export.Format.values:
        raise ValidationError({"format": _("Choose the format of the file.")})
    reason = (reason or "").strip()
    if filters.q and search_kind(filters.q) != "name":
        raise ValidationError(
            _("An export cannot be narrowed by an ID number or phone search: clear the search box first.")
        )
    now = timezone.now()
    kept = stored_filters(filters)
    rows = export_rows(actor, community.id, kept, now)
    if unmasked:
        if not can_unmask_all(actor, rows):
            raise PermissionDenied
        if not reason:
            raise ValidationError({"reason": _("Say why you need full ID numbers and phones.")})
    count = rows.count()
    if not count:
        raise ValidationError(_("No resident matches these filters: there is nothing to export."))
    pending = needs_approval(actor, community, count, unmasked)
    export = Export(
        street_id=community.street_id,
        community=community,
        requested_by=actor,
        requested_at=now,
        format=format,
        unmasked=unmasked,
        reason=reason,
        filters=kept,
        row_count=count,
        state=Export.State.PENDING if pending else Export.State.READY,
        expires_at=None if pending else now + EXPORT_TTL,
    )
    own_approval = not pending and (unmasked or over_threshold(actor, count))
    if own_approval:  # an approver's own large or unmasked export: their approval is their request
        export.decided_by, export.decided_at = actor, now
    with transaction.atomic():
        export.save()
        if not pending:
            _count_takeout(actor, count)
        record(
            "export",
            actor=actor,
            role=role,
            obj=export,
            reason=reason,
            detail=_detail(export, "request", own_approval=own_approval),
            request=request,
        )
    return export


def _decide(actor: Any, export: Export, state: str, reason: str, request: Any) -> Export:
    role = require(actor, "approve_exports", export)
    if export.requested_by_id == actor.pk:
        raise ValidationError(_("Nobody approves or refuses their own export."))
    if state == Export.State.REFUSED and not reason:
        raise ValidationError({"reason": _("Say why this export is refused.")})
    with transaction.atomic():
        current = Export.objects.select_for_update().get(pk=export.pk)
        if current.state != Export.State.PENDING:
            raise ValidationError(_("This export was already decided."))
        now = timezone.now()
        export.state, export.decided_by, export.decided_at = state, actor, now
        export.decision_reason = reason
        export.expires_at = now + EXPORT_TTL if state == Export.State.READY else None
        export.save(update_fields=["state", "decided_by", "decided_at", "decision_reason", "expires_at"])
        if state == Export.State.READY:
            _count_takeout(export.requested_by, export.row_count)
        step = "approve" if state == Export.State.READY else "refuse"
        record(
            "export", actor=actor, role=role, obj=export, reason=reason, detail=_detail(export, step), request=request
        )
    return export


def do_approve_export(actor: Any, export: Export, reason: str = "", request: Any = None) -> Export:
    """Approve a pending export (``approve_exports`` over its community); its requester may then download it."""
    return _decide(actor, export, Export.State.READY, (reason or "").strip(), request)


def do_refuse_export(actor: Any, export: Export, reason: str, request: Any = None) -> Export:
    """Refuse a pending export, saying why (the requester sees the reason)."""
    return _decide(actor, export, Export.State.REFUSED, (reason or "").strip(), request)


def do_download_export(actor: Any, export: Export, request: Any = None) -> Prepared:
    """Clear a download of ``export`` by its requester and audit it; the caller writes the file from the result.

    The rows are the requester's scope *now*: a membership taken away since the
    request takes its rows out of the file (and an unmasked export needs ``unmask``
    over every row still).
    """
    if export.requested_by_id != getattr(actor, "pk", None):
        raise PermissionDenied
    if export.state == Export.State.PENDING:
        raise ValidationError(_("This export is waiting for approval by a community administrator."))
    if export.state == Export.State.REFUSED:
        raise ValidationError(_("This export was refused."))
    now = timezone.now()
    if export.is_expired(now):
        raise ValidationError(_("This export has expired: request a new one."))
    role = role_in_community(actor, "view_ledger", export.community)
    if not role:
        raise PermissionDenied
    rows = rows_of_export(actor, export)
    if export.unmasked and not can_unmask_all(actor, rows):
        raise PermissionDenied
    count = rows.count()
    if not count:
        raise ValidationError(_("No resident matches these filters: there is nothing to export."))
    if count > export.row_count:
        raise ValidationError(_("The list has grown since this export was requested: request a new export."))
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(downloads=F("downloads") + 1, last_downloaded_at=now)
        export.refresh_from_db(fields=["downloads", "last_downloaded_at"])
        record(
            "export",
            actor=actor,
            role=role,
            obj=export,
            reason=export.reason,
            detail=_detail(export, "download", rows=count, download=export.downloads),
            request=request,
        )
    return Prepared(export=export, queryset=rows, watermark=watermark_for(export, count, now))


@dataclass
class Anchored:
    anchor: dict[str, Any]
    written: list[str]
    sent_to_parent: bool
    parent_failed: bool = False


def do_anchor_chain(also: list[str] | None = None, url: str | None = None) -> Anchored:
    """Sign the chain head and keep it outside the database (``audit.anchors``).

    Written to ``$DATA_DIR/audit/anchors.jsonl``, to every ``also`` path (and
    ``settings.AUDIT_ANCHOR_ALSO``), and POSTed to the parent deployment at ``url``
    (default ``settings.AUDIT_ANCHOR_URL``). A head that fails its own MAC, or whose
    newest event is not the one it names, is not anchored: that would bless a cut chain.
    """
    from firstline.audit import anchors
    from firstline.audit.log import head_mac
    from firstline.audit.models import AuditEvent, AuditHead

    head = AuditHead.objects.filter(id=1).first()
    count, last_id, last_digest = (head.count, head.last_id, head.last_digest) if head else (0, 0, "")
    if head is not None:
        newest_event = AuditEvent.objects.order_by("-id").first()
        if (
            not hmac.compare_digest(head.mac, head_mac(last_id, last_digest, count))
            or newest_event is None
            or newest_event.id != last_id
            or newest_event.digest != last_digest
        ):
            raise ValidationError(
                _("The audit log does not match its head. Run “firstline audit verify” and report what it finds.")
            )
    body = anchors.signed(count, last_id, last_digest, timezone.now().isoformat())
    targets = [anchors.default_path(), *(Path(p) for p in [*settings.AUDIT_ANCHOR_ALSO, *(also or [])])]
    written = []
    for target in targets:
        anchors.append(target, body)
        written.append(str(target))
    url = settings.AUDIT_ANCHOR_URL if url is None else url
    sent = failed = False
    if url:
        try:
            sent = 200 <= anchors.post(url, settings.AUDIT_ANCHOR_TOKEN, body) < 300
        except (OSError, ValueError) as error:  # URLError, HTTPError, a bad URL; the local anchors stand
            logger.warning("audit anchor not sent to the parent deployment: %s", type(error).__name__)
        failed = not sent
    return Anchored(anchor=body, written=written, sent_to_parent=sent, parent_failed=failed)
