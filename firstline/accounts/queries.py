"""Reads of accounts shared by pages and the API: device tokens a user may see and revoke."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from firstline.accounts.models import ApiToken, Membership


def revocable_by(user: Any) -> QuerySet[ApiToken]:
    """The tokens ``user`` may see and revoke: their own, and those of anyone holding a live role
    where ``user`` may ``grant`` (the team a community administrator manages)."""
    team = Membership.objects.visible_to(user, "grant").active().values("user_id")
    return ApiToken.objects.filter(Q(user_id=user.pk) | Q(user_id__in=team)).select_related("user")


def devices_for(user: Any) -> list[ApiToken]:
    """The live tokens of ``user`` and their team: their own first, then by user, the most recently used first."""
    now = timezone.now()
    tokens = revocable_by(user).filter(revoked_at__isnull=True, expires_at__gt=now)
    return sorted(
        tokens,
        key=lambda token: (
            token.user_id != user.pk,
            token.user.get_username(),
            -(token.last_used_at or token.created_at).timestamp(),
        ),
    )
