"""A corporate customer with a funded current account, an operations maker and checker,
and partners with approved keys."""

import uuid
from dataclasses import dataclass

from banking.approvals.actions import approve_request
from banking.payments.tests.factories import make_bank
from banking.testing import make_user
from banking.users.roles import Role

from ..actions import issue_key


@dataclass
class PartnerBank:
    bank: object
    maker: object
    checker: object
    account: object

    @property
    def customer(self):
        return self.account.customer

    def corporate(self, balance=50_00_000_00):
        return self.bank.account(balance=balance, product="CA", customer_type="company",
                                 legal_name=f"Acme Traders {uuid.uuid4().hex[:4]} Pvt Ltd")

    def partner(self, *, account=None, scopes=("accounts:read", "payouts:write", "webhooks:manage"),
                networks=("127.0.0.0/8", "::1/128"), threshold=10_00_000_00, approve=True):
        """A partner of `account`'s customer with an approved key; returns (key, token)."""
        account = account or self.account
        issued = issue_key(actor=self.maker, customer=account.customer, name="Acme ERP", scopes=list(scopes),
                           allowed_networks=list(networks), payout_account=account,
                           authorisation_threshold=threshold)
        if approve:
            approve_request(actor=self.checker, request_id=issued.approval.pk)
            issued.key.refresh_from_db()
        return issued.key, issued.token


def make_partner_bank():
    bank = make_bank()
    maker = make_user(Role.OPERATIONS)
    checker = make_user(Role.OPERATIONS)
    result = PartnerBank(bank, maker, checker, None)
    result.account = result.corporate()
    return result
