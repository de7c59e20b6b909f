"""The Django admin's user forms, held to the same bar as the portals: only an
administrator opens them, hostile values in every field they draw (the staff
profile's formset management fields included) are never a server error, and
nothing a form sends gives anyone access, a limit or a customer's password."""

from django.contrib.auth.models import Group
from django.urls import reverse

from banking.users.models import StaffProfile, User
from banking.users.roles import Role

from .test_hostile_input import FIELD, HOSTILE, SKIP_FIELDS, answer
from .test_permission_matrix import people  # noqa: F401 - fixture used by name

MANAGEMENT = ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]


def admin_urls(people):  # noqa: F811 - the fixture's value
    staff, customer = people[Role.TELLER], people[Role.CUSTOMER]
    return {
        "changelist": reverse("admin:users_user_changelist"),
        "add": reverse("admin:users_user_add"),
        "change staff": reverse("admin:users_user_change", args=[staff.pk]),
        "change customer": reverse("admin:users_user_change", args=[customer.pk]),
        "password staff": reverse("admin:auth_user_password_change", args=[staff.pk]),
        "password customer": reverse("admin:auth_user_password_change", args=[customer.pk]),
        "history": reverse("admin:users_user_history", args=[staff.pk]),
    }


def access_snapshot():
    return {
        "superusers": set(User.objects.filter(is_superuser=True).values_list("pk", flat=True)),
        "staff flags": set(User.objects.filter(is_staff=True).values_list("pk", flat=True)),
        "groups": sorted(Group.objects.values_list("name", "user__pk")),
        "profiles": sorted(StaffProfile.objects.values_list("user_id", "branch_id", "approval_limit", "cash_limit")),
        "passwords": sorted(User.objects.values_list("pk", "password")),
        "emails": sorted(User.objects.values_list("pk", "email")),
    }


def test_only_an_administrator_opens_the_user_forms(client, people):  # noqa: F811
    urls = admin_urls(people)
    for role, user in people.items():
        client.force_login(user)
        for label, url in urls.items():
            status = client.get(url).status_code
            if role == Role.ADMINISTRATOR:
                assert status in (200, 302), f"{label} as administrator: {status}"
            else:
                assert status in (302, 403), f"{label} as {role}: {status}"
                assert client.post(url, {"is_superuser": "on"}).status_code in (302, 403)
    client.logout()
    for url in urls.values():
        assert client.get(url).status_code == 302


def test_hostile_values_in_the_admins_user_forms_change_nothing(client, people):  # noqa: F811
    before = access_snapshot()
    administrator = people[Role.ADMINISTRATOR]
    failures = []
    for label, url in admin_urls(people).items():
        client.force_login(administrator)
        page = client.get(url)
        names = sorted(set(FIELD.findall(page.content.decode(errors="replace"))) - SKIP_FIELDS) or ["q"]
        names += ["is_superuser", "is_staff", "groups", "user_permissions", "password1", "password2",
                  "staff_profile-0-approval_limit", "staff_profile-0-branch", "staff_profile-0-cash_limit"]
        names += [f"staff_profile-{part}" for part in MANAGEMENT]
        values = [*HOSTILE, str(10**20), "x", "on", "1"]
        for value in values:
            client.force_login(administrator)
            status = answer(client, "post", url, dict.fromkeys(names, value))
            if not isinstance(status, int) or status >= 500:
                failures.append(f"POST {label} with {value[:20]!r}: {status}")
        client.force_login(administrator)
        raw = client.generic("POST", url, b"username=%ff%fe&is_superuser=on&first_name=a%00b",
                             content_type="application/x-www-form-urlencoded")
        if raw.status_code >= 500:
            failures.append(f"POST {label} with invalid UTF-8: {raw.status_code}")
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:40])
    assert access_snapshot() == before
