from decimal import Decimal

from django.apps import AppConfig

# The bank's standard deposit products (DESIGN.md §5), as a database emptied by
# `flush` gets them back. Migration 0002 created them first and keeps its own copy,
# as a migration keeps what it ran; staff change the parameters later, and only
# what is missing is created.
STANDARD_PRODUCTS = [
    # code, name, kind, control GL, rate, AMB, AMB charge, overdraft, min days, min/max months, penalty, min amount
    ("SB", "Savings account", "savings", "2110", "2.70", 2_000_00, 100_00, False, 0, 0, 0, "0", 0),
    ("BSBDA", "Basic savings (zero balance)", "zero_balance", "2115", "2.70", 0, 0, False, 0, 0, 0, "0", 0),
    ("CA", "Current account", "current", "2120", "0", 10_000_00, 500_00, True, 0, 0, 0, "0", 0),
    ("FD", "Fixed deposit", "fixed", "2130", "0", 0, 0, False, 7, 0, 120, "1.00", 1_000_00),
    ("RD", "Recurring deposit", "recurring", "2140", "0", 0, 0, False, 0, 6, 120, "1.00", 100_00),
]
# Term deposit rates by term in days (10 years from a date is at most 3,653 days).
STANDARD_SLABS = {
    "FD": [(7, 45, "3.50"), (46, 179, "5.50"), (180, 364, "6.25"), (365, 729, "6.80"), (730, 1094, "7.00"),
           (1095, 1824, "6.75"), (1825, 3653, "6.50")],
    "RD": [(180, 364, "6.25"), (365, 729, "6.80"), (730, 1094, "7.00"), (1095, 3653, "6.50")],
}


class DepositsConfig(AppConfig):
    name = "banking.deposits"
    label = "deposits"
    verbose_name = "Deposit accounts"

    def ready(self):
        from django.db.models.signals import post_migrate

        # The standard products come with migration 0002; a database emptied by
        # `flush` (as transactional tests do) gets them back here.
        post_migrate.connect(restore_standard_products, sender=self, dispatch_uid="cbs_deposit_products")
        # Each registers its end-of-day steps: savings and current accounts', term deposits'.
        from . import eod, term_eod  # noqa: F401


def restore_standard_products(app_config, apps=None, **kwargs):
    from django.apps import apps as global_apps

    apps = apps or global_apps
    try:
        Product = apps.get_model("deposits", "Product")
        RateSlab = apps.get_model("deposits", "RateSlab")
    except LookupError:  # a partial migrate that has not reached deposits yet
        return
    for code, name, kind, gl, rate, amb, charge, od, min_days, min_months, max_months, penalty, min_amount in (
        STANDARD_PRODUCTS
    ):
        product, created = Product.objects.get_or_create(code=code, defaults={
            "name": name, "kind": kind, "control_gl_code": gl, "interest_rate": Decimal(rate),
            "minimum_balance": amb, "minimum_balance_charge": charge, "overdraft_allowed": od,
            "min_term_days": min_days, "min_term_months": min_months, "max_term_months": max_months,
            "premature_penalty": Decimal(penalty), "min_amount": min_amount,
        })
        if created:
            for low, high, slab_rate in STANDARD_SLABS.get(code, []):
                RateSlab.objects.create(product=product, min_days=low, max_days=high, rate=Decimal(slab_rate))
