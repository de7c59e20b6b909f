"""Payment parameters that administrators keep: the daily limits per product and
rail, and the IFSC directory (which operations can also load from a CSV). Every
change is written to the audit trail."""

from django.contrib import admin

from banking.audit.actions import record_event
from banking.core.money import format_money

from .models import BankBranch, ChannelLimit


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        before = {name: form.initial.get(name) for name in form.changed_data} if change else None
        super().save_model(request, obj, form, change)
        record_event(action=f"payments.{obj._meta.model_name}_{'changed' if change else 'added'}", obj=obj,
                     actor=request.user, before=before,
                     after={name: form.cleaned_data.get(name) for name in form.changed_data})

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ChannelLimit)
class ChannelLimitAdmin(AuditedAdmin):
    list_display = ["product", "rail", "limit"]
    list_filter = ["rail", "product"]

    @admin.display(description="daily limit", ordering="daily_limit")
    def limit(self, obj):
        return format_money(obj.daily_limit)


@admin.register(BankBranch)
class BankBranchAdmin(AuditedAdmin):
    list_display = ["ifsc", "bank_name", "branch_name", "city", "neft_enabled", "rtgs_enabled", "imps_enabled"]
    list_filter = ["bank_name", "neft_enabled", "rtgs_enabled", "imps_enabled"]
    search_fields = ["ifsc", "bank_name", "branch_name", "city"]
