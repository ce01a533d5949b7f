"""Grants and revocations of memberships (temporary grants: R15); device tokens issued and revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
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


def do_issue_token(user: Any, request: Any = None, *, name: str = "", scope: str = ApiToken.Scope.WORKER) -> str:
    """A device token for the API; only its hash is kept."""
    with transaction.atomic():
        token, key = ApiToken.issue(user, name=name.strip()[:60], scope=scope)
        record(
            "token",
            actor=user,
            obj=token,
            detail={"expires_at": token.expires_at.isoformat(), "scope": token.scope},
            request=request,
        )
    return key


def may_revoke_token(actor: Any, token: ApiToken) -> bool:
    """Its own user, or whoever may ``grant`` over a place where the token's user holds a live role."""
    if token.user_id == actor.pk:
        return True
    return Membership.objects.visible_to(actor, "grant").active().filter(user_id=token.user_id).exists()


def do_revoke_token(actor: Any, token: ApiToken, *, why: str = "", request: Any = None) -> ApiToken:
    """Revoke one device token: by its user (``user``, or ``logout`` from the device), or by a team administrator.

    Raises PermissionDenied for anyone else; an already revoked token stays as it was.
    """
    if not may_revoke_token(actor, token):
        raise PermissionDenied
    why = why or (ApiToken.Why.USER if token.user_id == actor.pk else ApiToken.Why.ADMIN)
    with transaction.atomic():
        revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor, revoked_why=why
        )
        if revoked:
            record("revoke", actor=actor, obj=token, detail={"why": why, "user": token.user.code}, request=request)
    token.refresh_from_db(fields=["revoked_at", "revoked_by", "revoked_why"])
    return token


def do_revoke_all_tokens(user: Any, why: str, *, actor: Any = None, request: Any = None) -> int:
    """Revoke every live token of ``user`` (a password change, a deactivation); returns how many."""
    with transaction.atomic():
        revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=actor, revoked_why=why
        )
        if revoked:
            record(
                "revoke",
                actor=actor,
                object_type="apitoken",
                detail={"why": why, "user": user.code, "tokens": revoked},
                request=request,
            )
    return revoked
