from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import Branch, StaffProfile, User


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]
    fieldsets = BaseUserAdmin.fieldsets + (("Contact", {"fields": ["mobile"]}),)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "ifsc", "city", "is_active"]
    search_fields = ["code", "name", "ifsc", "city"]
