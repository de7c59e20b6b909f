"""A small bank for the payment tests: a branch with its chart, staff, and
customers with funded savings accounts."""

import uuid
from dataclasses import dataclass

from django.utils import timezone

from banking.teller.tests.factories import fresh, funded_branch, open_account, set_status, supervisor_for
from banking.testing import give_totp, make_user
from banking.users.roles import Role

from ..actions import add_payee, create_vpa


def key():
    return uuid.uuid4().hex


@dataclass
class Bank:
    branch: object
    maker: object
    checker: object

    def account(self, balance=10_00_000_00, product="SB", **customer_fields):
        return open_account(self.branch, self.maker, self.checker, product=product, balance=balance,
                            **customer_fields)

    def customer_login(self, account):
        """Give the account's holder an internet-banking login."""
        user = make_user(Role.CUSTOMER, username=f"c{account.customer.cif}")
        user.totp_secret = give_totp(user)
        account.customer.user = user
        account.customer.save(update_fields=["user"])
        return user


def make_bank():
    branch = funded_branch()
    checker = supervisor_for(branch)
    maker = make_user(Role.TELLER, branch=branch, mfa=False)
    return Bank(branch, maker, checker)


def payee(account, *, kind="external", aged=True, **fields):
    """A payee of `account`'s holder; `aged` backdates it past its cooling period."""
    defaults = {"name": "Ravi Kumar", "account_number": "50100012345678", "ifsc": "HDFC0001234"}
    if kind == "vpa":
        defaults = {"name": "Ravi Kumar", "vpa": "ravi.kumar@okhdfc"}
    defaults.update(fields)
    created = add_payee(actor=None, customer=account.customer, kind=kind, **defaults)
    if aged:
        created.created_at = timezone.now() - timezone.timedelta(days=2)
        created.save(update_fields=["created_at"])
    return created


def vpa(account, name=None):
    return create_vpa(actor=None, customer=account.customer, account=account,
                      name=name or f"user{uuid.uuid4().hex[:8]}")


__all__ = ["Bank", "fresh", "key", "make_bank", "payee", "set_status", "vpa"]
