"""Grants and revocations of memberships (temporary grants: R15)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.accounts.models import ApiToken, Membership
from firstline.audit.log import record
from firstline.scoping import forget_memberships, require


def do_grant_membership(
    actor: Any, user: Any, role: str, place: Any, *, ends_at: datetime | None, reason: str, request: Any = None
) -> Membership:
    """Give ``user`` a role at ``place``. The actor needs ``grant`` over the place; a reason is required."""
    actor_role = require(actor, "grant", place)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why this permission is granted.")})
    if ends_at is not None and ends_at <= timezone.now():
        raise ValidationError({"ends_at": _("The end time must be in the future.")})
    membership = Membership(user=user, role=role, granted_by=actor, ends_at=ends_at, reason=reason)
    try:
        membership.bind(place)
    except ValueError:
        raise ValidationError({"role": _("This role cannot be given at this level.")}) from None
    with transaction.atomic():
        membership.save()
        record(
            "grant",
            actor=actor,
            role=actor_role,
            obj=membership,
            community_id=membership.community_id,
            reason=reason,
            detail={
                "role": role,
                "level": membership.level,
                "user": user.code,
                "ends_at": ends_at.isoformat() if ends_at else None,
            },
            request=request,
        )
    forget_memberships(user)
    return membership


def do_revoke_membership(actor: Any, membership: Membership, reason: str, request: Any = None) -> Membership:
    actor_role = require(actor, "grant", membership.place)
    with transaction.atomic():
        membership.revoked_at = timezone.now()
        membership.save(update_fields=["revoked_at"])
        record(
            "revoke",
            actor=actor,
            role=actor_role,
            obj=membership,
            community_id=membership.community_id,
            reason=reason,
            request=request,
        )
    forget_memberships(membership.user)
    return membership


def do_issue_token(user: Any, request: Any = None) -> str:
    """A device token for the API; only its hash is kept."""
    with transaction.atomic():
        token, key = ApiToken.issue(user)
        record("token", actor=user, detail={"expires_at": token.expires_at.isoformat()}, request=request)
    return key
