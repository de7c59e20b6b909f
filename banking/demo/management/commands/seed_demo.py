"""Load the demo bank. Safe to run again: it updates what exists and adds what is missing."""

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from banking.audit.context import audit_context
from banking.demo.accounts import seed_accounts
from banking.demo.cards import seed_cards
from banking.demo.counter import fund_vaults, seed_counter
from banking.demo.customers import seed_customers
from banking.demo.data import BRANCHES, CUSTOMER_LOGINS, DEMO_PASSWORD, STAFF
from banking.demo.partners import PARTNER_NAME, seed_partner
from banking.demo.payments import seed_payments
from banking.ledger.actions import Line, post_entry
from banking.ledger.chart import RBI_SETTLEMENT, SHARE_CAPITAL, ensure_standard_chart
from banking.ledger.models import BusinessDate, EntryKind
from banking.users.models import Branch, StaffProfile, User
from banking.users.roles import sync_roles

CAPITAL = 500_00_00_000_00  # ₹500 crore


class Command(BaseCommand):
    help = "Create or refresh the demo bank: branches, staff of every role and a customer login."

    def handle(self, *args, **options):
        with audit_context(channel="seed", actor_username="seed_demo"), transaction.atomic():
            sync_roles()
            BusinessDate.objects.get_or_create(pk=1, defaults={"date": timezone.localdate()})
            branches = {}
            for data in BRANCHES:
                branch, _ = Branch.objects.update_or_create(code=data["code"], defaults=data)
                branches[branch.code] = branch
            for username, role, first, last, employee_id, branch_code, limit in STAFF:
                user = self._user(username, first, last, f"{username}@cbsbank.example", role)
                user.is_staff = role == "administrator"
                user.is_superuser = False
                user.save(update_fields=["is_staff", "is_superuser"])
                StaffProfile.objects.update_or_create(
                    user=user,
                    defaults={
                        "employee_id": employee_id,
                        "branch": branches.get(branch_code),
                        "approval_limit": limit * 100,
                        "designation": Group.objects.get(name=role).name.replace("_", " ").title(),
                    },
                )
            for username, first, last, email in CUSTOMER_LOGINS:
                self._user(username, first, last, email, "customer")
            self._ledger(branches)
            seed_customers()
            seed_accounts()
            seed_counter(branches.values())
            seed_payments()
            seed_cards()
            partner_key = seed_partner()
        self.stdout.write(self.style.SUCCESS("Demo bank ready."))
        self.stdout.write(self.logins_table())
        if partner_key:
            self.stdout.write(
                f"Partner API key of {PARTNER_NAME} (shown this once; from 127.0.0.1 only):\n  {partner_key}\n"
                f"  curl -H 'Authorization: Api-Key {partner_key}' http://127.0.0.1:8000/api/v1/partner/accounts/\n")

    @staticmethod
    def _ledger(branches):
        """The standard chart, the bank's capital at the RBI, and each vault's cash."""
        chart = ensure_standard_chart([(b.code, b.name) for b in branches.values()])
        capital, rbi = chart[SHARE_CAPITAL], chart[RBI_SETTLEMENT]
        post_entry(actor=None, lines=[Line.debit(rbi, CAPITAL), Line.credit(capital, CAPITAL)],
                   kind=EntryKind.OPENING, narration="Paid-up capital held at the Reserve Bank of India",
                   idempotency_key="seed-capital")
        fund_vaults(branches.values())

    @staticmethod
    def _user(username, first, last, email, role):
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": email}
        )
        if created or not user.has_usable_password():
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.set([Group.objects.get(name=role)])
        return user

    @staticmethod
    def logins_table():
        lines = ["", f"Demo logins (password for all: {DEMO_PASSWORD})", ""]
        lines.append(f"  {'username':<16} {'role':<16} lands on")
        homes = {"teller": "/teller/", "supervisor": "/supervisor/", "branch_manager": "/supervisor/",
                 "operations": "/ops/", "compliance": "/ops/", "auditor": "/ops/", "administrator": "/admin/",
                 "customer": "/banking/"}
        for username, role, *_ in STAFF:
            lines.append(f"  {username:<16} {role:<16} {homes[role]}")
        for username, *_ in CUSTOMER_LOGINS:
            lines.append(f"  {username:<16} {'customer':<16} /banking/")
        return "\n".join(lines) + "\n"
