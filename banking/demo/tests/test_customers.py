import pytest
from django.core.management import call_command

from banking.customers.models import Customer, KycStatus
from banking.demo.data import CUSTOMERS


@pytest.mark.django_db
def test_seed_demo_onboards_verified_customers_once_and_links_the_customer_login(capsys):
    call_command("seed_demo")
    call_command("seed_demo")

    customers = Customer.objects.all()
    assert customers.count() == len(CUSTOMERS)
    assert set(customers.values_list("kyc_status", flat=True)) == {KycStatus.VERIFIED}
    priya = Customer.objects.get(user__username="customer")
    assert priya.display_name == "Priya Sharma"
    assert priya.kyc_documents.filter(kind="photo").exists()


@pytest.mark.django_db
def test_seed_demo_gives_priya_payees_a_upi_id_and_payments_once():
    from banking.payments.models import CollectRequest, Payment, PaymentStatus

    call_command("seed_demo")
    first = Payment.objects.count()
    call_command("seed_demo")
    assert Payment.objects.count() == first == 8
    statuses = set(Payment.objects.values_list("status", flat=True))
    assert {PaymentStatus.SETTLED, PaymentStatus.SENT, PaymentStatus.REVERSED} <= statuses
    priya = Customer.objects.get(user__username="customer")
    assert priya.payees.count() == 4 and priya.upi_ids.count() == 1
    assert CollectRequest.objects.pending().count() == 1
