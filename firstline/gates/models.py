"""Passes and the keys that sign them.

A pass is a row here and a compact signed token (``gates.tokens``) printed as a QR
code: the token carries no name and no ID number, only ids and a validity window,
so that a guard's phone can check it offline against the public keys and the
revocation list it synced last.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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

    class Presence(models.TextChoices):
        IN = "in", _("inside")
        OUT = "out", _("out")

    class State(models.TextChoices):
        ACTIVE = "active", _("valid")
        SUSPENDED = "suspended", _("suspended (household under isolation)")
        REVOKED = "revoked", _("revoked")

    KIND_NUMBERS = {Kind.OUTING: 1, Kind.WORKER: 2, Kind.VEHICLE: 3, Kind.VISITOR: 4}

    code = CodeField()
    serial = models.BigIntegerField(unique=True, editable=False)  # the random pass id inside the token
    # Printed under the QR code and typed when the camera cannot read it: the serial's top 35 bits
    # in Crockford base32 (``tokens.short_code``), unique within the community.
    short_code = models.CharField(_("short code"), max_length=8, blank=True, editable=False)
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
    # Where the holder is, as the gates saw it: the one state a scan changes (out → in → out ...).
    presence = models.CharField(_("presence"), max_length=3, choices=Presence.choices, default=Presence.IN)
    presence_changed_at = models.DateTimeField(null=True, blank=True)
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
        constraints = [
            models.UniqueConstraint(
                fields=["community", "short_code"], condition=~Q(short_code=""), name="pass_short_code_unique"
            )
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


class GateRules(models.Model):
    """A community's rules at its gates; an empty field keeps the deployment's default (settings.GATES)."""

    community = models.OneToOneField("places.Community", on_delete=models.CASCADE, related_name="gate_rules")
    outing_people = models.PositiveSmallIntegerField(_("people of a household out per period"), null=True, blank=True)
    outing_every_days = models.PositiveSmallIntegerField(_("outing period (days)"), null=True, blank=True)
    outing_hours = models.PositiveSmallIntegerField(_("hours out at most"), null=True, blank=True)
    list_max_age_hours = models.PositiveSmallIntegerField(
        _("hours before a gate phone's revocation list is too old"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("gate rules")
        verbose_name_plural = _("gate rules")


class PassRequest(models.Model):
    """A resident's request for a pass, approved (a pass is issued) or declined by community staff."""

    class State(models.TextChoices):
        PENDING = "pending", _("waiting")
        APPROVED = "approved", _("approved")
        DECLINED = "declined", _("declined")

    code = CodeField()
    resident = models.ForeignKey("people.Resident", on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey("places.Household", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="+", db_index=False)
    building = models.ForeignKey("places.Building", on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Pass.Kind.choices, default=Pass.Kind.OUTING)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=200, blank=True)
    issued = models.ForeignKey(Pass, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "building_id"}

    class Meta:
        verbose_name = _("pass request")
        verbose_name_plural = _("pass requests")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["community", "state"], name="passrequest_state_idx")]


class Shift(models.Model):
    """轮流值守: who guards a gate from when to when, and the note they hand over."""

    code = CodeField()
    gate = models.ForeignKey("places.Gate", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    guard = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    handover_note = models.TextField(_("handover note"), max_length=1000, blank=True)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "gate": "gate_id"}

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["gate_id", "starts_at"]
        indexes = [
            models.Index(fields=["gate", "starts_at"], name="shift_gate_idx"),
            models.Index(fields=["guard", "starts_at"], name="shift_guard_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start")]


class Scan(models.Model):
    """One pass shown at a gate, as the gate phone recorded it (sent once or many times, stored once).

    ``client_id`` is made on the phone; the same id with the same payload is the same scan,
    with another payload a ``GateConflict``. ``verdict`` is what the rules say now that the
    server knows everything: the phone's own verdict offline may have been kinder.
    """

    class Direction(models.TextChoices):
        IN = "in", pgettext_lazy("direction", "in")
        OUT = "out", pgettext_lazy("direction", "out")

    class Verdict(models.TextChoices):
        PASSED = "passed", _("passed")
        FLAGGED = "flagged", _("passed, flagged")
        REFUSED = "refused", _("refused")

    client_id = models.UUIDField(unique=True)
    payload_hash = models.CharField(max_length=64)
    pass_obj = models.ForeignKey(Pass, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans")
    serial = models.BigIntegerField(null=True, blank=True)
    gate = models.ForeignKey("places.Gate", on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    household = models.ForeignKey(
        "places.Household", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1, null=True, blank=True)
    scanned_at = models.DateTimeField(_("scanned at"))
    received_at = models.DateTimeField(auto_now_add=True)
    verdict = models.CharField(_("verdict"), max_length=8, choices=Verdict.choices)
    reason = models.CharField(max_length=32, blank=True)  # a refusal reason of tokens.verify, or the rule that flagged
    flags = models.JSONField(default=list, blank=True)  # passback, over_quota, fever, late_return, typed
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey(Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reading = models.ForeignKey("status.CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "gate": "gate_id"}

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-scanned_at", "-id"]
        indexes = [
            models.Index(fields=["gate", "scanned_at"], name="scan_gate_idx"),
            models.Index(fields=["pass_obj", "scanned_at"], name="scan_pass_idx"),
            models.Index(fields=["household", "scanned_at"], name="scan_household_idx"),
        ]


class Outing(models.Model):
    """One time out of the compound on an outing pass: out at a gate, due back, back (or overdue → a task)."""

    pass_obj = models.ForeignKey(Pass, on_delete=models.CASCADE, related_name="outings")
    household = models.ForeignKey("places.Household", on_delete=models.CASCADE, null=True, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, null=True, related_name="+", db_index=False)
    building = models.ForeignKey(
        "places.Building", on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    out_scan = models.ForeignKey(Scan, on_delete=models.PROTECT, related_name="+")
    back_scan = models.ForeignKey(Scan, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    out_at = models.DateTimeField()
    due_back_at = models.DateTimeField()
    back_at = models.DateTimeField(null=True, blank=True)
    overdue_task = models.ForeignKey("tasks.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "grid": "grid_id", "building": "building_id"}

    class Meta:
        verbose_name = _("outing")
        verbose_name_plural = _("outings")
        indexes = [
            models.Index(fields=["household", "out_at"], name="outing_household_idx"),
            models.Index(fields=["back_at", "due_back_at"], name="outing_due_idx"),
        ]


class Visit(models.Model):
    """A visitor or a vehicle registered at a gate (no pass): who, from where, to whom, temperature."""

    class Kind(models.TextChoices):
        VISITOR = "visitor", _("visitor")
        VEHICLE = "vehicle", _("vehicle")

    client_id = models.UUIDField(unique=True)
    payload_hash = models.CharField(max_length=64)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    gate = models.ForeignKey("places.Gate", on_delete=models.PROTECT, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    direction = models.CharField(_("direction"), max_length=3, choices=Scan.Direction.choices, default="in")
    name = models.CharField(_("name"), max_length=50, blank=True)  # the visitor, or the driver
    phone_sealed = models.BinaryField(null=True, blank=True, editable=False)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True, editable=False)
    origin = models.CharField(_("coming from"), max_length=100, blank=True)
    host = models.CharField(_("visiting"), max_length=100, blank=True, help_text=_("household visited (address)"))
    host_household = models.ForeignKey(
        "places.Household", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    plate = models.CharField(_("plate"), max_length=16, blank=True)
    cargo = models.CharField(_("cargo"), max_length=100, blank=True)
    temperature = models.DecimalField(_("temperature"), max_digits=3, decimal_places=1, null=True, blank=True)
    at = models.DateTimeField(_("at"))
    received_at = models.DateTimeField(auto_now_add=True)
    flags = models.JSONField(default=list, blank=True)  # fever, from_risk_area
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    shift = models.ForeignKey(Shift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "gate": "gate_id"}

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["gate", "at"], name="visit_gate_idx")]


class GateConflict(models.Model):
    """A scan or visit sent again under a known client id with another payload: kept, never applied."""

    client_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=8)  # scan or visit
    payload = models.JSONField()  # as sent (a token, ids, a temperature; a visit's phone is masked)
    gate = models.ForeignKey("places.Gate", on_delete=models.CASCADE, related_name="+")
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+", db_index=False)
    received_at = models.DateTimeField(auto_now_add=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id", "gate": "gate_id"}
