from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        LOGIN = "login", _("login")
        LOGIN_FAILED = "login_failed", _("failed login")
        LOGOUT = "logout", _("logout")
        TOKEN = "token", _("device token issued")
        READ = "read", _("read full record")
        UNMASK = "unmask", _("unmask")
        SEARCH = "search", _("exact search")
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
    """The single row holding the end of the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_id = models.BigIntegerField(default=0)
    last_digest = models.CharField(max_length=64, default="")
    count = models.BigIntegerField(default=0)
