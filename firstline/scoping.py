"""The one door to scoped data.

A user sees what their *active* memberships reach, and nothing else: a user with
no membership sees nothing (fail closed), and so does a membership whose role
lacks the capability asked for. Each scoped model declares ``SCOPE``, a map from
place level to the field holding that level's id on the row (rows carry the ids
of all their ancestors, so the filter is one indexed equality per membership).

Place models (``SCOPE_ANCESTORS = True``) are also visible from below: a grid
worker sees the name of her community, so that she can navigate to her grid.
Personal-data models are visible only from their own level or above.

Views and APIs never call ``Model.objects.get`` on scoped data; they call
``get_visible_or_404`` (out of scope and nonexistent look the same: 404).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db import connection, models
from django.http import Http404
from django.utils import timezone

from firstline import prepared

if TYPE_CHECKING:
    from firstline.accounts.models import Membership

LEVELS = ("street", "community", "grid", "building", "gate")
M = TypeVar("M", bound=models.Model)


def active_memberships(user: Any) -> list[Membership]:
    """The user's memberships valid now, cached on the user object for this request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_firstline_memberships", None)
    if cached is None:
        from firstline.accounts.models import Membership

        cached = _active_memberships(Membership, user.pk)
        user._firstline_memberships = cached
    return cached


def _active_memberships(membership: type[Membership], user_id: int) -> list[Membership]:
    """``list(Membership.objects.active().filter(user=user))``, its SQL written once.

    Read on every API request; compiling the queryset cost more than running it
    (``firstline.prepared`` says why, with the numbers). Keep in step with ``MembershipQuerySet.active``.
    """
    now = prepared.param(membership, "starts_at", timezone.now())
    rows = prepared.fetch(_memberships_sql(membership, connection.vendor), [user_id, now, now])
    return [prepared.instance(membership, row) for row in rows]


@functools.cache
def _memberships_sql(membership: type[Membership], vendor: str) -> str:
    ends_at = prepared.column(membership, "ends_at")
    return (
        f"SELECT {prepared.columns(membership)} FROM {prepared.table(membership)}"  # noqa: S608 (names from _meta)
        f" WHERE {prepared.column(membership, 'user')} = %s AND {prepared.column(membership, 'revoked_at')} IS NULL"
        f" AND {prepared.column(membership, 'starts_at')} <= %s AND ({ends_at} IS NULL OR {ends_at} > %s)"
    )


def forget_memberships(user: Any) -> None:
    if hasattr(user, "_firstline_memberships"):
        del user._firstline_memberships


def memberships_with(user: Any, capability: str | None) -> list[Membership]:
    return [m for m in active_memberships(user) if capability is None or m.can(capability)]


def scope_filter(model: type[models.Model], memberships: list[Membership], prefix: str = "") -> models.Q | None:
    """A Q that matches the rows of ``model`` reached by ``memberships``, or None for nothing."""
    scope: dict[str, str] = model.SCOPE  # type: ignore[attr-defined]
    ancestors: bool = getattr(model, "SCOPE_ANCESTORS", False)
    query: models.Q | None = None
    for membership in memberships:
        level = membership.level
        if level in scope:
            field = scope[level]
        elif ancestors:
            shared = [lvl for lvl in LEVELS if lvl in scope and membership.place_id_at(lvl) is not None]
            if not shared:
                continue
            level = shared[-1]
            field = scope[level]
        else:
            continue
        part = models.Q(**{prefix + field: membership.place_id_at(level)})
        query = part if query is None else query | part
    return query


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: Any, capability: str | None = "view_ledger") -> Self:
        """Rows the user may see with ``capability`` (place models ignore it: names are not personal)."""
        if getattr(self.model, "SCOPE_ANCESTORS", False):
            capability = None
        query = scope_filter(self.model, memberships_with(user, capability))
        if query is None:
            return self.none()
        return self.filter(query)


def get_visible_or_404(queryset: models.QuerySet[M], **lookup: Any) -> M:
    """One scoped row, or 404 whether it does not exist or is out of scope."""
    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, MultipleObjectsReturned, ValueError):
        raise Http404 from None


def user_can(user: Any, capability: str, obj: models.Model) -> bool:
    """Whether one of the user's active memberships gives ``capability`` over ``obj``."""
    return bool(role_for(user, capability, obj))


def role_for(user: Any, capability: str, obj: models.Model) -> str:
    """The role under which the user holds ``capability`` over ``obj`` (for the audit log)."""
    scope: dict[str, str] = obj.SCOPE  # type: ignore[attr-defined]
    for membership in memberships_with(user, capability):
        field = scope.get(membership.level)
        if field is not None and getattr(obj, field) == membership.place_id_at(membership.level):
            return membership.role
    return ""


def require(user: Any, capability: str, obj: models.Model) -> str:
    """Raise PermissionDenied unless the user holds ``capability`` over ``obj``; return the role."""
    from django.core.exceptions import PermissionDenied

    role = role_for(user, capability, obj)
    if not role:
        raise PermissionDenied
    return role
