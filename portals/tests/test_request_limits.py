"""Bodies larger than a page can legitimately carry are refused with 413 before
anything reads them; the largest legitimate uploads still reach their forms."""

from unittest import mock

import pytest
from django.conf import settings
from django.urls import reverse

from banking.customers.models import MAX_UPLOAD_BYTES
from banking.payments.reconciliation import MAX_FILE_BYTES
from banking.testing import make_user
from banking.users.roles import Role
from portals import limits

MB = 1024 * 1024


def post_claiming(client, path, length, **headers):
    """A POST whose Content-Length claims `length` bytes: the refusal must come from
    the header alone, so no such body is built."""
    return client.generic("POST", path, b"x=1", content_type="application/x-www-form-urlencoded",
                          CONTENT_LENGTH=str(length), **headers)


def test_the_settings_bound_what_django_reads():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 2 * MB
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2.5 * MB


def test_the_limits_come_from_the_upload_rules():
    fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limits.limit_for(reverse("ops:reconciliations"))[0] == MAX_FILE_BYTES + fields
    assert limits.limit_for(reverse("ops:ifsc-directory"))[0] == MAX_FILE_BYTES + fields
    # The identity step takes a photograph, a signature and a proof of identity.
    kyc = limits.limit_for("/teller/customers/7/kyc/identity/")[0]
    assert kyc == 3 * MAX_UPLOAD_BYTES + fields
    assert limits.limit_for("/accounts/login/") == (fields, None)
    assert limits.limit_for("/no/such/page/") == (fields, None)


@pytest.mark.django_db
def test_a_20_mb_body_to_the_sign_in_page_is_refused_unread(client):
    with mock.patch("allauth.account.views.LoginView.dispatch") as view:
        response = post_claiming(client, reverse("account_login"), 20 * MB)
    assert response.status_code == 413
    assert "larger than" in response.text and "Nothing was saved" in response.text
    view.assert_not_called()


@pytest.mark.django_db
def test_a_settlement_file_over_its_limit_is_refused_before_the_view(client):
    operations = make_user(Role.OPERATIONS)
    client.force_login(operations)
    path = reverse("ops:reconciliations")
    with mock.patch("portals.operations.payment_views.SettlementUploadForm") as form:
        response = post_claiming(client, path, MAX_FILE_BYTES + 2 * MB)
    assert response.status_code == 413
    assert "20 MB" in response.text
    form.assert_not_called()


@pytest.mark.django_db
def test_an_htmx_kyc_step_over_its_limit_is_told_in_words(client):
    response = post_claiming(client, "/teller/customers/1/kyc/identity/", 40 * MB, HTTP_HX_REQUEST="true")
    assert response.status_code == 413
    assert "5 MB" in response.text


@pytest.mark.django_db
def test_a_body_within_the_limit_reaches_the_view(client):
    with mock.patch("portals.limits.RequestSizeLimitMiddleware.refuse") as refuse:
        response = client.post(reverse("account_login"), {"login": "nobody", "password": "x" * 1000})
    refuse.assert_not_called()
    assert response.status_code == 200


def test_a_missing_or_malformed_length_is_not_refused():
    assert limits.claimed_length({}) == 0
    assert limits.claimed_length({"CONTENT_LENGTH": ""}) == 0
    assert limits.claimed_length({"CONTENT_LENGTH": "abc"}) == 0
    assert limits.claimed_length({"CONTENT_LENGTH": "12"}) == 12
