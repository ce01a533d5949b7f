from django.contrib import admin

from firstline.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only."""

    list_display = ("at", "actor_name", "role", "action", "object_type", "object_code", "reason")
    list_filter = ("action",)
    search_fields = ("actor_name", "object_code")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
