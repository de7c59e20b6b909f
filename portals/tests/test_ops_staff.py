"""Staff and roles in the operations portal: one administrator asks, another decides."""

import pytest
from django.urls import reverse

from banking.approvals.models import ApprovalRequest, Status
from banking.testing import make_branch, make_user
from banking.users.actions import STAFF_CHANGE
from banking.users.models import User
from banking.users.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    branch = make_branch(name="Fort, Mumbai")
    return {
        "maker": make_user(Role.ADMINISTRATOR), "checker": make_user(Role.ADMINISTRATOR),
        "teller": make_user(Role.TELLER, branch=branch),
    }


def _ask(client, maker, person, **fields):
    client.force_login(maker)
    data = {"roles": ["supervisor"], "branch": str(person.branch.pk), "approval_limit": "10,00,000",
            "cash_limit": "2,00,000", "idempotency_key": "t" * 32, **fields}
    return client.post(reverse("ops:staff-change", kwargs={"pk": person.pk}), data)


def test_the_list_shows_staff_with_role_branch_and_limits(client, people):
    client.force_login(people["maker"])
    page = client.get(reverse("ops:staff")).text
    assert people["teller"].display_name in page and "Fort, Mumbai" in page and "₹2,00,000.00" in page
    assert "Staff and roles" in client.get(reverse("ops:home")).text


def test_a_change_is_asked_for_approved_by_another_and_carried_out(client, people):
    response = _ask(client, people["maker"], people["teller"])
    assert response.status_code == 302
    approval = ApprovalRequest.objects.get(kind=STAFF_CHANGE)
    assert User.objects.get(pk=people["teller"].pk).roles == [Role.TELLER]

    detail = client.get(reverse("ops:staff-request", kwargs={"pk": approval.pk}))
    assert "You made this request" in detail.text
    client.post(reverse("ops:staff-request-approve", kwargs={"pk": approval.pk}))
    approval.refresh_from_db()
    assert approval.status == Status.PENDING

    client.force_login(people["checker"])
    assert approval.summary in client.get(reverse("ops:staff")).text
    client.post(reverse("ops:staff-request-approve", kwargs={"pk": approval.pk}))
    person = User.objects.select_related("staff_profile").get(pk=people["teller"].pk)
    assert person.roles == [Role.SUPERVISOR] and person.staff_profile.approval_limit == 10_00_000_00


def test_a_change_can_be_rejected_with_a_reason(client, people):
    _ask(client, people["maker"], people["teller"])
    approval = ApprovalRequest.objects.get(kind=STAFF_CHANGE)
    client.force_login(people["checker"])
    url = reverse("ops:staff-request-reject", kwargs={"pk": approval.pk})
    assert "Give a reason" in client.post(url, {"reason": ""}).text
    client.post(url, {"reason": "Not before the appraisal"})
    approval.refresh_from_db()
    assert approval.status == Status.REJECTED
    assert User.objects.get(pk=people["teller"].pk).roles == [Role.TELLER]


@pytest.mark.parametrize("fields,message", [
    ({"roles": ["administrator", "teller"]}, "cannot also be a teller"),
    ({"approval_limit": "lots"}, "Enter the amount in rupees"),
    ({"approval_limit": "-5"}, "Enter the amount in rupees"),
    ({"approval_limit": "1e40"}, "Enter the amount in rupees"),
    ({"approval_limit": "1,00,00,00,00,00,00,000"}, "Enter at most ₹1,00,00,00,00,00,000.00"),
    ({"roles": ["customer"]}, "Select a valid choice"),
])
def test_bad_input_is_refused_in_words(client, people, fields, message):
    response = _ask(client, people["maker"], people["teller"], **fields)
    assert response.status_code == 200 and message in response.text
    assert not ApprovalRequest.objects.exists()


def test_an_administrator_cannot_ask_about_themselves(client, people):
    maker = people["maker"]
    client.force_login(maker)
    page = client.get(reverse("ops:staff-change", kwargs={"pk": maker.pk})).text
    assert "You cannot change your own roles" in page
    response = client.post(reverse("ops:staff-change", kwargs={"pk": maker.pk}),
                           {"roles": ["administrator", "auditor"], "branch": "", "approval_limit": "0",
                            "cash_limit": "0", "idempotency_key": "s" * 32})
    assert "yourself" in response.text
    assert not ApprovalRequest.objects.exists()


def test_the_subject_of_a_request_cannot_decide_it(client, people):
    maker, subject = people["maker"], people["checker"]
    client.force_login(maker)
    client.post(reverse("ops:staff-change", kwargs={"pk": subject.pk}),
                {"roles": ["administrator", "auditor"], "branch": "", "approval_limit": "0", "cash_limit": "0",
                 "idempotency_key": "u" * 32})
    approval = ApprovalRequest.objects.get(kind=STAFF_CHANGE)
    client.force_login(subject)
    assert "This request is about you" in client.get(reverse("ops:staff-request", kwargs={"pk": approval.pk})).text
    client.post(reverse("ops:staff-request-approve", kwargs={"pk": approval.pk}))
    client.post(reverse("ops:staff-request-reject", kwargs={"pk": approval.pk}), {"reason": "No"})
    approval.refresh_from_db()
    assert approval.status == Status.PENDING


def test_other_roles_are_refused(client, people):
    for role in (Role.OPERATIONS, Role.AUDITOR, Role.SUPERVISOR):
        client.force_login(make_user(role, branch=people["teller"].branch))
        assert client.get(reverse("ops:staff")).status_code == 403
        assert client.get(reverse("ops:staff-change", kwargs={"pk": people["teller"].pk})).status_code == 403


def test_a_staff_password_reset_is_approved_here_and_the_link_is_mailed(client, people,
                                                                        django_capture_on_commit_callbacks):
    from allauth.mfa.models import Authenticator
    from django.core import mail

    from banking.users.actions import CREDENTIALS_RESET

    teller = people["teller"]
    client.force_login(people["maker"])
    client.post(f"/admin/users/user/{teller.pk}/password/", {"idempotency_key": "r" * 32})
    approval = ApprovalRequest.objects.get(kind=CREDENTIALS_RESET)
    client.force_login(people["checker"])
    page = client.get(reverse("ops:staff-request", kwargs={"pk": approval.pk})).text
    assert teller.email in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ops:staff-request-approve", kwargs={"pk": approval.pk}))
    assert response.status_code == 302
    assert not User.objects.get(pk=teller.pk).has_usable_password()
    assert not Authenticator.objects.filter(user=teller).exists()
    assert mail.outbox[0].to == [teller.email]
    assert "http://testserver/accounts/password/reset/key/" in mail.outbox[0].body
