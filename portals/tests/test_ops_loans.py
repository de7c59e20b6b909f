"""Operations' loan screens: benchmark and gold rates, products and their versions
changed through maker-checker."""

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from banking.approvals.models import ApprovalRequest
from banking.ledger.models import BusinessDate
from banking.loans.models import BenchmarkRate, GoldRate, LoanProduct, LoanProductVersion
from banking.testing import make_user
from banking.users.roles import Role


def words(response):
    return " ".join(re.sub(r"<[^>]+>", " ", html.unescape(response.content.decode())).split())


@pytest.fixture
def ops(db):
    return make_user(Role.OPERATIONS)


@pytest.fixture
def ops2(db):
    return make_user(Role.OPERATIONS)


def today():
    return BusinessDate.objects.current()


def test_enter_a_benchmark_rate_and_see_it_listed(client, ops):
    client.force_login(ops)
    url = reverse("ops:loan-rates")
    response = client.post(url, {"form": "benchmark", "benchmark-benchmark": "repo",
                                 "benchmark-effective_from": today().isoformat(), "benchmark-rate": "6.50"})
    assert response.status_code == 302
    assert BenchmarkRate.objects.get().rate == Decimal("6.50")
    text = words(client.get(url))
    assert "RBI policy repo rate 6.50% from" in text


def test_a_backdated_or_repeated_benchmark_is_refused_in_words(client, ops):
    client.force_login(ops)
    url = reverse("ops:loan-rates")
    yesterday = today() - datetime.timedelta(days=1)
    response = client.post(url, {"form": "benchmark", "benchmark-benchmark": "repo",
                                 "benchmark-effective_from": yesterday.isoformat(), "benchmark-rate": "6.50"})
    assert response.status_code == 400
    assert "never in the past" in words(response)
    response = client.post(url, {"form": "benchmark", "benchmark-benchmark": "repo",
                                 "benchmark-effective_from": today().isoformat(), "benchmark-rate": "abc"})
    assert response.status_code == 400
    assert not BenchmarkRate.objects.exists()


def test_enter_the_days_gold_rate_once(client, ops):
    client.force_login(ops)
    url = reverse("ops:loan-rates")
    data = {"form": "gold", "gold-on": today().isoformat(), "gold-rate_per_gram": "7,250.50"}
    assert client.post(url, data).status_code == 302
    assert GoldRate.objects.get().rate_per_gram == 7_250_50
    assert "₹7,250.50" in words(client.get(url))
    response = client.post(url, data)
    assert response.status_code == 400 and "already entered" in words(response)
    assert GoldRate.objects.count() == 1


def test_compliance_reads_rates_but_gets_no_forms_and_cannot_enter(client, db):
    person = make_user(Role.COMPLIANCE)
    client.force_login(person)
    url = reverse("ops:loan-rates")
    response = client.get(url)
    assert response.status_code == 200 and "Enter the benchmark rate" not in words(response)
    response = client.post(url, {"form": "gold", "gold-on": today().isoformat(), "gold-rate_per_gram": "7,000"},
                           follow=True)
    assert "Only operations enter the gold rate" in words(response)
    assert not GoldRate.objects.exists()


def test_customers_and_tellers_are_refused(client, db):
    for role in (Role.CUSTOMER, Role.TELLER):
        client.force_login(make_user(role))
        assert client.get(reverse("ops:loan-products")).status_code == 403
        assert client.get(reverse("ops:loan-rates")).status_code == 403


def terms_form(**changes):
    data = {"token": "t" * 32, "effective_from": (today() + datetime.timedelta(days=1)).isoformat(),
            "min_amount": "50,000", "max_amount": "25,00,000", "min_months": "12", "max_months": "72",
            "rate_type": "fixed", "rate": "11.25", "benchmark": "", "reset_months": "0",
            "processing_fee_percent": "1.00", "processing_fee_cap": "10,000", "gst_percent": "18.00",
            "penal_charge_percent": "24.00", "prepayment_charge_percent": "4.00", "schedule_type": "emi",
            "max_foir_percent": "50.00", "min_bureau_score": "700", "max_ltv_percent": "",
            "allocation_order": "charges,interest,principal"}
    data.update(changes)
    return data


def test_product_change_through_maker_checker(client, ops, ops2):
    client.force_login(ops)
    url = reverse("ops:loan-product", args=["PL"])
    page = client.get(url)
    assert page.status_code == 200 and "Propose new terms" in words(page)
    response = client.post(url, terms_form())
    assert response.status_code == 302
    approval = ApprovalRequest.objects.get(kind="loans.product_change")
    assert LoanProductVersion.objects.filter(product__code="PL").count() == 1  # nothing changes yet
    text = words(client.get(reverse("ops:loan-products")))
    assert "Change Personal loan from" in text and "another member of operations approves it" in text

    client.force_login(ops2)
    text = words(client.get(url))
    assert "Rate or spread (% p.a.) 11.25" in text
    response = client.post(reverse("ops:loan-product-approve", args=[approval.pk]), {"back": "product"})
    assert response["Location"] == url
    product = LoanProduct.objects.get(code="PL")
    new = product.versions.order_by("-effective_from").first()
    assert (new.rate, new.max_months, new.created_by, new.approved_by) == (Decimal("11.25"), 72, ops, ops2)
    assert product.version_on(today()).rate == Decimal("10.50")  # in force only from tomorrow
    assert product.version_on(today() + datetime.timedelta(days=1)) == new


def test_the_maker_cannot_approve_their_own_change(client, ops):
    client.force_login(ops)
    client.post(reverse("ops:loan-product", args=["PL"]), terms_form())
    approval = ApprovalRequest.objects.get(kind="loans.product_change")
    client.post(reverse("ops:loan-product-approve", args=[approval.pk]))
    approval.refresh_from_db()
    assert approval.status == "pending"
    assert LoanProductVersion.objects.filter(product__code="PL").count() == 1


def test_rejecting_a_change_needs_a_reason(client, ops, ops2):
    client.force_login(ops)
    client.post(reverse("ops:loan-product", args=["PL"]), terms_form())
    approval = ApprovalRequest.objects.get(kind="loans.product_change")
    client.force_login(ops2)
    client.post(reverse("ops:loan-product-reject", args=[approval.pk]), {"reason": ""})
    approval.refresh_from_db()
    assert approval.status == "pending"
    client.post(reverse("ops:loan-product-reject", args=[approval.pk]), {"reason": "Rate not agreed by ALCO"})
    approval.refresh_from_db()
    assert approval.status == "rejected"


@pytest.mark.parametrize("changes,words_", [
    ({"effective_from": "2020-01-01"}, "never back-dated"),
    ({"min_amount": "30,00,000"}, "smallest loan cannot be above the largest"),
    ({"rate_type": "floating", "benchmark": "", "reset_months": "0"}, "needs its benchmark"),
    ({"rate_type": "floating", "benchmark": "repo", "reset_months": "3", "prepayment_charge_percent": "2.00"},
     "no prepayment or foreclosure charge"),
    ({"rate": "-1"}, "cannot be below zero"),
    ({"max_foir_percent": "120"}, "at most 100"),
])
def test_bad_terms_are_refused_and_queue_nothing(client, ops, changes, words_):
    client.force_login(ops)
    response = client.post(reverse("ops:loan-product", args=["PL"]), terms_form(**changes))
    assert response.status_code == 400
    assert words_ in words(response)
    assert not ApprovalRequest.objects.filter(kind="loans.product_change").exists()


def test_an_unknown_product_is_not_found(client, ops):
    client.force_login(ops)
    assert client.get(reverse("ops:loan-product", args=["ZZ"])).status_code == 404
