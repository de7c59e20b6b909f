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
