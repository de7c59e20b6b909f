"""The Django admin for people and branches.

What the admin may not do, for anyone signed in to it (superusers too):
- give or take away access: `is_superuser`, `is_staff`, groups (roles), direct
  permissions, a staff member's branch, approval limit and cash limit are read-only
  here. Those change through a staff change request that a second administrator
  approves in the operations portal (banking/users/actions.py). A superuser is made
  only with `createsuperuser` on the server.
- set anyone's password. A customer's login (username, email: the channel for a
  password reset) is read-only apart from `is_active`, and customers reset their
  own password. For staff, the password page asks for a reset that a second
  administrator approves; the person then chooses their own password from the
  link emailed to them. A login added here has no usable password until then.
"""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from banking.core.errors import BankingError
from banking.core.money import format_money

from .actions import is_customer_login, request_credentials_reset
from .models import Branch, StaffProfile, User

ACCESS_FIELDS = ["is_staff", "is_superuser", "groups", "user_permissions"]
LIMIT_FIELDS = ["branch", "approval_limit_shown", "cash_limit_shown"]


def _staff_screen_note():
    return format_html(
        "Roles, branch and limits change through a request that a second administrator approves: "
        '<a href="{}">Staff and roles</a> in the operations portal.', reverse("ops:staff"),
    )


class StaffProfileInline(admin.StackedInline):
    model = StaffProfile
    can_delete = False
    fields = ["employee_id", "designation", *LIMIT_FIELDS]
    readonly_fields = LIMIT_FIELDS

    @admin.display(description="Approval limit")
    def approval_limit_shown(self, profile):
        return format_money(profile.approval_limit) if profile.pk else "—"

    @admin.display(description="Cash limit")
    def cash_limit_shown(self, profile):
        return format_money(profile.cash_limit) if profile.pk else "—"


class NewLoginForm(forms.ModelForm):
    """A new login has no password anyone else knows: the person chooses one from
    the link a staff password reset emails them."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = "The link to choose a password goes here."

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [StaffProfileInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_staff"]
    fieldsets = (
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email", "mobile"]}),
        ("Access", {"fields": ["is_active", *ACCESS_FIELDS]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    )
    add_form = NewLoginForm
    add_fieldsets = ((None, {"fields": ["username", "first_name", "last_name", "email"]}),)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            (name, {**options, "description": _staff_screen_note()} if name == "Access" else options)
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # The email address is where a password reset link goes: changing it would hand over the login.
        readonly = [*ACCESS_FIELDS, "email", "last_login", "date_joined"]
        if is_customer_login(obj):
            readonly += ["username", "first_name", "last_name", "mobile"]
        return readonly

    def get_inline_instances(self, request, obj=None):
        if obj is not None and is_customer_login(obj):
            return []
        return super().get_inline_instances(request, obj)

    def user_change_password(self, request, id, form_url=""):
        """Nobody sets another person's password here. A customer's is refused; a
        staff member's becomes a request for a reset that another administrator
        approves."""
        person = self.get_object(request, unquote(id))
        if person is None:
            raise Http404("There is no such login.")
        if not self.has_change_permission(request, person):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:users_user_change", args=[person.pk]))
        if is_customer_login(person):
            messages.error(request, "Customers set and reset their own password from the sign-in page (Forgot "
                                    "password). The bank's staff never set it, so nothing was changed.")
            return back
        if person.pk == request.user.pk:
            messages.info(request, "Change your own password from your account's security page.")
            return HttpResponseRedirect(reverse("account_change_password"))
        if request.method == "POST":
            key = str(request.POST.get("idempotency_key", ""))[:80]
            try:
                approval = request_credentials_reset(actor=request.user, person=person, idempotency_key=key)
            except BankingError as error:
                messages.error(request, str(error))
                return back
            messages.success(request, f"Asked for a password reset for {person.display_name} (request "
                                      f"#{approval.pk}). Another administrator approves it under Staff and roles.")
            return back
        context = {
            **self.admin_site.each_context(request),
            "title": f"Request a password reset for {person.display_name}",
            "person": person,
            "opts": self.opts,
            "idempotency_key": uuid.uuid4().hex,
            "has_email": bool(person.email),
        }
        return TemplateResponse(request, "admin/users/user/password_reset_request.html", context)


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "ifsc", "city", "is_active"]
    search_fields = ["code", "name", "ifsc", "city"]
