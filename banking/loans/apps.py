from django.apps import AppConfig

# The bank's four standard loan products, as a database emptied by `flush` gets them
# back. Migration 0002 created them first and keeps its own copy; operations change
# their parameters later through maker-checker (a new version with an effective
# date), and only what is missing is created here.
STANDARD_EFFECTIVE_FROM = "2020-01-01"
STANDARD_PRODUCTS = [
    {"code": "PL", "name": "Personal loan", "kind": "personal", "secured": False, "control_gl_code": "1410",
     "terms": {"min_amount": 50_000_00, "max_amount": 25_00_000_00, "min_months": 12, "max_months": 60,
               "rate_type": "fixed", "rate": "10.50", "benchmark": "", "reset_months": 0,
               "processing_fee_percent": "1.00", "processing_fee_cap": 10_000_00, "gst_percent": "18.00",
               "penal_charge_percent": "24.00", "prepayment_charge_percent": "4.00", "schedule_type": "emi",
               "max_foir_percent": "50.00", "min_bureau_score": 700, "max_ltv_percent": None}},
    {"code": "HL", "name": "Home loan", "kind": "home", "secured": True, "control_gl_code": "1420",
     "terms": {"min_amount": 5_00_000_00, "max_amount": 5_00_00_000_00, "min_months": 60, "max_months": 360,
               "rate_type": "floating", "rate": "2.75", "benchmark": "repo", "reset_months": 3,
               "processing_fee_percent": "0.50", "processing_fee_cap": 25_000_00, "gst_percent": "18.00",
               "penal_charge_percent": "24.00", "prepayment_charge_percent": "0.00", "schedule_type": "emi",
               "max_foir_percent": "60.00", "min_bureau_score": 650, "max_ltv_percent": None}},
    {"code": "VL", "name": "Vehicle loan", "kind": "vehicle", "secured": True, "control_gl_code": "1430",
     "terms": {"min_amount": 1_00_000_00, "max_amount": 50_00_000_00, "min_months": 12, "max_months": 84,
               "rate_type": "fixed", "rate": "9.25", "benchmark": "", "reset_months": 0,
               "processing_fee_percent": "0.75", "processing_fee_cap": 15_000_00, "gst_percent": "18.00",
               "penal_charge_percent": "24.00", "prepayment_charge_percent": "3.00", "schedule_type": "emi",
               "max_foir_percent": "55.00", "min_bureau_score": 680, "max_ltv_percent": None}},
    {"code": "GL", "name": "Gold loan", "kind": "gold", "secured": True, "control_gl_code": "1440",
     "terms": {"min_amount": 10_000_00, "max_amount": 50_00_000_00, "min_months": 1, "max_months": 12,
               "rate_type": "fixed", "rate": "9.00", "benchmark": "", "reset_months": 0,
               "processing_fee_percent": "0.50", "processing_fee_cap": 5_000_00, "gst_percent": "18.00",
               "penal_charge_percent": "24.00", "prepayment_charge_percent": "0.00", "schedule_type": "bullet",
               "max_foir_percent": "70.00", "min_bureau_score": 300, "max_ltv_percent": "75.00"}},
]


class LoansConfig(AppConfig):
    name = "banking.loans"
    label = "loans"
    verbose_name = "Loans"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(restore_standard_products, sender=self, dispatch_uid="cbs_loan_products")
        # Registers the loans' end-of-day steps: dues, accrual, the floating-rate resets
        # (with each borrower's choice), classification and provisions.
        from . import eod, resets  # noqa: F401


def restore_standard_products(app_config=None, apps=None, products=None, **kwargs):
    """Create whichever standard product (with its first version) is missing."""
    from decimal import Decimal

    from django.apps import apps as global_apps

    apps = apps or global_apps
    try:
        LoanProduct = apps.get_model("loans", "LoanProduct")
        LoanProductVersion = apps.get_model("loans", "LoanProductVersion")
    except LookupError:
        return
    for spec in products or STANDARD_PRODUCTS:
        product, created = LoanProduct.objects.get_or_create(code=spec["code"], defaults={
            key: spec[key] for key in ("name", "kind", "secured", "control_gl_code")})
        if created or not LoanProductVersion.objects.filter(product=product).exists():
            terms = dict(spec["terms"])
            for key in ("rate", "processing_fee_percent", "gst_percent", "penal_charge_percent",
                        "prepayment_charge_percent", "max_foir_percent", "max_ltv_percent"):
                terms[key] = Decimal(terms[key]) if terms[key] is not None else None
            LoanProductVersion.objects.create(product=product, effective_from=STANDARD_EFFECTIVE_FROM, **terms)
