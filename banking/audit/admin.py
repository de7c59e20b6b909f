from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is append-only."""

    list_display = ["id", "occurred_at", "actor_username", "role", "action", "object_type", "object_id", "ip"]
    list_filter = ["action", "role", "channel"]
    search_fields = ["actor_username", "object_id", "request_id", "summary"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
