"""The demo bank's API partner: Sharma Traders' ERP, with a key for the partner API.

Operations ask for the key (`ops`) and a second operations user approves it (`ops2`),
as at /ops/partners/keys/. The key works from this machine only (127.0.0.1) and is
shown once, when the demo is first seeded; run again, this adds nothing and returns
None (a lost key is rotated at /ops/partners/keys/).
"""

from banking.approvals.actions import approve_request
from banking.customers.models import Customer
from banking.deposits.models import DepositAccount
from banking.partners.actions import issue_key
from banking.partners.models import SCOPE_NAMES, Partner
from banking.users.models import User

PARTNER_NAME = "Sharma Traders ERP"
CUSTOMER_NAME = "Sharma Traders"
# Payouts above ₹1,00,000 wait for the customer's authoriser.
AUTHORISATION_THRESHOLD = 1_00_000_00


def seed_partner():
    """The demo partner's key token ("<prefix>.<secret>") when it is made now, else None."""
    customer = Customer.objects.filter(legal_name=CUSTOMER_NAME).first()
    if customer is None or Partner.objects.filter(customer=customer, name=PARTNER_NAME).exists():
        return None
    payout = DepositAccount.objects.for_customer(customer).order_by("pk").first()
    issued = issue_key(actor=User.objects.get(username="ops"), customer=customer, name=PARTNER_NAME,
                       scopes=SCOPE_NAMES, allowed_networks=["127.0.0.1/32"], payout_account=payout,
                       authorisation_threshold=AUTHORISATION_THRESHOLD, idempotency_key="seed-partner-key")
    approve_request(actor=User.objects.get(username="ops2"), request_id=issued.approval.pk)
    return issued.token
