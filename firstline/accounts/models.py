from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from firstline.accounts.roles import LEVELS_FOR_ROLE, Role, role_can
from firstline.places.models import CodeField
from firstline.scoping import ScopedQuerySet


class User(AbstractUser):
    code = CodeField()
    full_name = models.CharField(_("full name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def display_name(self) -> str:
        return self.full_name or self.username


class MembershipQuerySet(ScopedQuerySet):
    def active(self, at=None) -> MembershipQuerySet:
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=at).filter(
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at)
        )


class Membership(models.Model):
    """A role at one place for a window of time. The place's ancestors are stored too."""

    class Level(models.TextChoices):
        STREET = "street", _("street")
        COMMUNITY = "community", _("community")
        GRID = "grid", _("grid")
        BUILDING = "building", _("building")
        GATE = "gate", _("gate")

    code = CodeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    street = models.ForeignKey("places.Street", on_delete=models.CASCADE, related_name="+")
    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    grid = models.ForeignKey("places.Grid", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    building = models.ForeignKey("places.Building", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    gate = models.ForeignKey("places.Gate", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    starts_at = models.DateTimeField(_("valid from"), default=timezone.now)
    ends_at = models.DateTimeField(_("valid until"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "building_id"}

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        indexes = [models.Index(fields=["user", "revoked_at"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} @ {self.place}"

    @property
    def is_temporary(self) -> bool:
        return self.ends_at is not None and self.granted_by_id is not None

    @property
    def place(self):
        return getattr(self, self.level)

    def place_id_at(self, level: str) -> int | None:
        return getattr(self, f"{level}_id")

    def can(self, capability: str) -> bool:
        return role_can(self.role, capability)

    def bind(self, place) -> None:
        """Point this membership at ``place`` and fill in the ids of its ancestors."""
        from firstline.places.models import Building, Community, Gate, Grid, Street

        self.street_id = self.community_id = self.grid_id = self.building_id = self.gate_id = None  # type: ignore[assignment]
        if isinstance(place, Street):
            self.level, self.street_id = "street", place.id
        elif isinstance(place, Community):
            self.level, self.street_id, self.community_id = "community", place.street_id, place.id
        elif isinstance(place, Grid):
            self.level, self.street_id, self.community_id = "grid", place.street_id, place.community_id
            self.grid_id = place.id
        elif isinstance(place, Building):
            self.level, self.street_id, self.community_id = "building", place.street_id, place.community_id
            self.grid_id, self.building_id = place.grid_id, place.id
        elif isinstance(place, Gate):
            self.level, self.street_id, self.community_id = "gate", place.street_id, place.community_id
            self.gate_id = place.id
        else:
            raise TypeError("a membership binds to a street, community, grid, building or gate")
        if self.level not in LEVELS_FOR_ROLE.get(self.role, ()):
            raise ValueError(f"role {self.role} cannot be bound at level {self.level}")


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token for a device (gate phone, worker's phone, app). Only its hash is stored.

    Its ``scope`` says what the device may do: a ``gate`` token reaches only the gate
    endpoints (sync, scans, visits, the gate's history), whatever its user's roles; a
    ``worker`` token reaches what its user's roles allow. A token ends when it
    expires or is revoked (by its user, by an administrator of its user's team, or
    by a password change or deactivation of its user); ``revoked_why`` keeps which.
    """

    class Scope(models.TextChoices):
        WORKER = "worker", _("worker's device: everything the user's roles allow")
        GATE = "gate", _("gate phone: the gate only")

    class Why(models.TextChoices):
        USER = "user", _("revoked by its user")
        ADMIN = "admin", _("revoked by an administrator")
        LOGOUT = "logout", _("logged out on the device")
        PASSWORD = "password", _("the password was changed")
        DEACTIVATED = "deactivated", _("the account was deactivated")

    code = CodeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("device name"), max_length=60, blank=True)
    scope = models.CharField(_("scope"), max_length=8, choices=Scope.choices, default=Scope.WORKER)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_why = models.CharField(max_length=12, choices=Why.choices, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_open_idx")]

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now

    @classmethod
    def issue(cls, user, days: int | None = None, *, name: str = "", scope: str = Scope.WORKER) -> tuple[ApiToken, str]:
        key = "flt_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            scope=scope,
            key_hash=hash_token(key),
            expires_at=timezone.now() + timedelta(days=days or settings.API_TOKEN_DAYS),
        )
        return token, key


class HouseholdLogin(models.Model):
    """The code printed on a household's letter: its members check in from a phone with it, no account needed.

    The code is sealed (so a lost letter can be reprinted) and found by its blind
    index; a new code revokes the old one. It opens only the check-in page of its
    own household.
    """

    household = models.ForeignKey("places.Household", on_delete=models.CASCADE, related_name="logins")
    code_sealed = models.BinaryField(editable=False)
    code_index = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("household login code")
        verbose_name_plural = _("household login codes")
        indexes = [models.Index(fields=["household", "revoked_at"], name="householdlogin_open_idx")]


class RateCount(models.Model):
    """How often one key (a user's exact searches, an address's login failures…) was hit in one window.

    Kept in the database so that a limit holds across every server process
    (``firstline.accounts.limits``); rows of past windows are purged hourly.
    The key is stored as a SHA-256 digest: never a username or an address in clear.
    """

    key_hash = models.CharField(max_length=64)
    window_start = models.BigIntegerField()  # Unix seconds
    window_end = models.BigIntegerField(db_index=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("rate count")
        verbose_name_plural = _("rate counts")
        constraints = [models.UniqueConstraint(fields=["key_hash", "window_start"], name="ratecount_key_window")]
