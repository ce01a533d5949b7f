"""Passes and the keys that sign them.

A pass is a row here and a compact signed token (``gates.tokens``) printed as a QR
code: the token carries no name and no ID number, only ids and a validity window,
so that a guard's phone can check it offline against the public keys and the
revocation list it synced last.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from firstline.places.models import CodeField
from firstline.scoping import ScopedQuerySet


class SigningKey(models.Model):
    """An Ed25519 key of the deployment. The newest active key signs; every key verifies until it retires."""

    key_id = models.PositiveIntegerField(unique=True)
    public_key = models.BinaryField()
    private_key_sealed = models.BinaryField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    signs_until = models.DateTimeField(null=True, blank=True, help_text="rotated out: signs no more after this")
    verifies_until = models.DateTimeField(null=True, blank=True, help_text="after this, its passes have all expired")

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["-key_id"]


class Pass(models.Model):
    class Kind(models.TextChoices):
        OUTING = "outing", _("resident outing pass")
        WORKER = "worker", _("worker pass")
        VEHICLE = "vehicle", _("vehicle pass")
        VISITOR = "visitor", _("visitor day pass")

    class State(models.TextChoices):
        ACTIVE = "active", _("valid")
        SUSPENDED = "suspended", _("suspended (household under isolation)")
        REVOKED = "revoked", _("revoked")

    KIND_NUMBERS = {Kind.OUTING: 1, Kind.WORKER: 2, Kind.VEHICLE: 3, Kind.VISITOR: 4}

    code = CodeField()
    serial = models.BigIntegerField(unique=True, editable=False)  # the random pass id inside the token
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    household = models.ForeignKey("places.Household", on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    building = models.ForeignKey(
        "places.Building", on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    gate = models.ForeignKey(
        "places.Gate", on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="empty: any gate"
    )
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    masked_name = models.CharField(_("name (masked)"), max_length=20, blank=True)
    rule = models.PositiveSmallIntegerField(default=0)  # the outing rule's number (0: none)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    key_id = models.PositiveIntegerField()
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    state_changed_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "building_id"}

    class Meta:
        verbose_name = _("pass")
        verbose_name_plural = _("passes")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["community", "state", "valid_until"], name="pass_community_idx"),
            models.Index(fields=["household", "state"], name="pass_household_idx"),
        ]


class RevocationList(models.Model):
    """One signed, versioned list of the passes of a community that must be refused (revoked or suspended)."""

    community = models.ForeignKey("places.Community", on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    issued_at = models.DateTimeField()
    serials = models.JSONField(default=list)  # revoked
    suspended = models.JSONField(default=list)  # suspended while the household is under isolation
    key_id = models.PositiveIntegerField()
    signature = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["community", "version"], name="revocation_version_unique")]
        ordering = ["community_id", "-version"]
