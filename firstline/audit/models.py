from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from firstline.places.models import CodeField
from firstline.scoping import ScopedQuerySet


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOGOUT = "logout", _("logout")
        TOKEN = "token", _("device token issued")
        READ = "read", _("read full record")
        UNMASK = "unmask", _("unmask")
        SEARCH = "search", _("exact search")
        LIST = "list", _("list of personal records")
        EXPORT = "export", _("export")
        CREATE = "create", _("create")
        UPDATE = "update", _("correct")
        DELETE = "delete", _("remove")
        GRANT = "grant", _("grant")
        REVOKE = "revoke", _("revoke")

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=24, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=40, blank=True)
    object_code = models.CharField(max_length=40, blank=True, db_index=True)
    community_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    reason = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_digest = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["id"]


class AuditHead(models.Model):
    """The single row holding the end of the chain.

    ``mac`` is an HMAC over (last_id, last_digest, count) under a key derived from
    ``FIRSTLINE_AUDIT_KEY``: whoever can write the database but lacks the key cannot
    rewrite the head to match a chain whose newest events they removed.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_digest = models.CharField(max_length=64, default="")
    count = models.BigIntegerField(default=0)
    mac = models.CharField(max_length=64, default="")


class Export(models.Model):
    """One export of the resident ledger: what was asked, by whom, who approved it, how often it was fetched.

    The file is never stored: each download builds it from the live ledger through
    the requester's scope at that moment (``audit.actions.do_download_export``),
    limited to the residents that were in the ledger when the export was requested.
    ``filters`` holds the list filters as public codes and choice values; a name
    search may be among them, an ID number or phone search never is.
    """

    class Format(models.TextChoices):
        XLSX = "xlsx", _("Excel workbook (.xlsx)")
        CSV = "csv", _("CSV text (.csv)")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for approval")
        READY = "ready", _("ready")
        REFUSED = "refused", _("refused")

    code = CodeField()
    street = models.ForeignKey("places.Street", on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey("places.Community", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("requested at"))
    format = models.CharField(_("format"), max_length=4, choices=Format.choices, default=Format.XLSX)
    unmasked = models.BooleanField(_("full ID numbers and phones"), default=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    filters = models.JSONField(default=dict, blank=True)
    row_count = models.PositiveIntegerField(_("rows"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField(_("download until"), null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    last_downloaded_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()
    SCOPE = {"street": "street_id", "community": "community_id"}

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["community", "state"], name="export_state_idx"),
            models.Index(fields=["requested_by", "community"], name="export_requester_idx"),
        ]

    def __str__(self) -> str:
        return self.code

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def downloadable(self) -> bool:
        return self.state == self.State.READY and not self.is_expired()
