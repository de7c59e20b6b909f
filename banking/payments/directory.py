"""The IFSC directory and the default daily limits per rail.

The directory holds this bank's branches and a few other banks' so that payees can
be checked against it; operations load the full directory from a CSV with the
columns `ifsc,bank,branch,city[,neft,rtgs,imps]` (the last three "Y" or "N",
default "Y").

Default per-customer daily limits (product parameters, changeable per product in
the admin): within the bank ₹25,00,000; NEFT ₹10,00,000; RTGS ₹50,00,000;
IMPS ₹5,00,000; UPI ₹1,00,000.
"""

import csv
import io

from django.db import transaction
from django.utils import timezone

from banking.audit.actions import record_event
from banking.core.errors import ValidationFailed
from banking.core.identifiers import is_valid_ifsc, normalise

DEFAULT_DAILY_LIMITS = {
    "INTERNAL": 25_00_000_00,
    "NEFT": 10_00_000_00,
    "RTGS": 50_00_000_00,
    "IMPS": 5_00_000_00,
    "UPI": 1_00_000_00,
}

SEED_DIRECTORY = [
    ("CBSB0000001", "CBS Bank", "Fort, Mumbai", "Mumbai"),
    ("CBSB0000002", "CBS Bank", "Koramangala, Bengaluru", "Bengaluru"),
    ("SBIN0000300", "State Bank of India", "Mumbai Main", "Mumbai"),
    ("SBIN0001234", "State Bank of India", "Connaught Place", "New Delhi"),
    ("HDFC0000001", "HDFC Bank", "Sandoz House, Worli", "Mumbai"),
    ("HDFC0001234", "HDFC Bank", "Indiranagar", "Bengaluru"),
    ("ICIC0000001", "ICICI Bank", "Bandra Kurla Complex", "Mumbai"),
    ("UTIB0000001", "Axis Bank", "Ahmedabad Main", "Ahmedabad"),
    ("PUNB0012300", "Punjab National Bank", "Civil Lines", "Ludhiana"),
    ("KKBK0000958", "Kotak Mahindra Bank", "Nariman Point", "Mumbai"),
]

DIRECTORY_COLUMNS = ["ifsc", "bank", "branch", "city"]


def seed_reference_data(apps=None):
    """Create what is missing of the seeded directory and of the daily limits of
    every operative product. Idempotent; never overwrites what operations changed."""
    from django.apps import apps as global_apps

    apps = apps or global_apps
    BankBranch = apps.get_model("payments", "BankBranch")
    ChannelLimit = apps.get_model("payments", "ChannelLimit")
    Product = apps.get_model("deposits", "Product")
    known = set(BankBranch.objects.values_list("ifsc", flat=True))
    BankBranch.objects.bulk_create([
        BankBranch(ifsc=ifsc, bank_name=bank, branch_name=branch, city=city)
        for ifsc, bank, branch, city in SEED_DIRECTORY if ifsc not in known
    ])
    existing = set(ChannelLimit.objects.values_list("product_id", "rail"))
    products = Product.objects.filter(kind__in=["savings", "zero_balance", "current"]).values_list("pk", flat=True)
    ChannelLimit.objects.bulk_create([
        ChannelLimit(product_id=product_id, rail=rail, daily_limit=limit)
        for product_id in products
        for rail, limit in DEFAULT_DAILY_LIMITS.items() if (product_id, rail) not in existing
    ])


def _flags(row):
    """The NEFT, RTGS and IMPS columns (blank means Y) as booleans, or a problem."""
    flags = []
    for index, column in ((4, "NEFT"), (5, "RTGS"), (6, "IMPS")):
        value = row[index] if len(row) > index else ""
        text = (value or "Y").strip().upper()
        if text not in ("Y", "N"):
            return None, f"{column} must be Y or N, not {value!r}"
        flags.append(text == "Y")
    return flags, None


@transaction.atomic
def load_directory(*, actor, text):
    """Add or update directory entries from CSV text. Returns (added, updated,
    problems), where problems lists (line number, what is wrong) for lines that were
    skipped; the good lines are loaded."""
    from .models import BankBranch

    reader = csv.reader(io.StringIO(text))
    rows, problems = {}, []
    for line_number, row in enumerate(reader, start=1):
        if not row or not "".join(row).strip():
            continue
        if line_number == 1 and normalise(row[0]) == "IFSC":
            continue
        if len(row) < 4:
            problems.append((line_number, "needs at least four columns: IFSC, bank, branch, city"))
            continue
        if any("\x00" in cell for cell in row):
            problems.append((line_number, "holds a NUL character, which is not text"))
            continue
        ifsc = normalise(row[0])
        if not is_valid_ifsc(ifsc):
            problems.append((line_number, f"{row[0]!r} is not an IFSC (4 letters, a zero, 6 letters or digits)"))
            continue
        bank, branch, city = (cell.strip() for cell in row[1:4])
        if not bank or not branch:
            problems.append((line_number, "the bank and branch names are required"))
            continue
        flags, problem = _flags(row)
        if problem:
            problems.append((line_number, problem))
            continue
        rows[ifsc] = BankBranch(ifsc=ifsc, bank_name=bank[:100], branch_name=branch[:100], city=city[:60],
                                neft_enabled=flags[0], rtgs_enabled=flags[1], imps_enabled=flags[2],
                                updated_at=timezone.now())
    known = set(BankBranch.objects.filter(ifsc__in=rows).values_list("ifsc", flat=True))
    BankBranch.objects.bulk_create(
        list(rows.values()), update_conflicts=True, unique_fields=["ifsc"],
        update_fields=["bank_name", "branch_name", "city", "neft_enabled", "rtgs_enabled", "imps_enabled",
                       "updated_at"])
    added, updated = len(rows) - len(known), len(known)
    record_event(action="payments.ifsc_directory_loaded", obj=None, actor=actor,
                 summary=f"IFSC directory: {added} added, {updated} updated, {len(problems)} lines skipped",
                 after={"added": added, "updated": updated, "skipped": len(problems)})
    return added, updated, problems


def find_branch(ifsc):
    """The directory entry for `ifsc`, or a refusal in the customer's words."""
    from .models import BankBranch

    code = normalise(ifsc)
    if not code:
        raise ValidationFailed("Enter the IFSC of the beneficiary's branch.")
    if not is_valid_ifsc(code):
        raise ValidationFailed(f"{ifsc} is not a valid IFSC: it has 4 letters, a zero, then 6 letters or digits, "
                               "as SBIN0001234.")
    branch = BankBranch.objects.filter(ifsc=code).first()
    if branch is None:
        raise ValidationFailed(f"IFSC {code} is not in the bank directory. Check it on the beneficiary's cheque "
                               "leaf or passbook.")
    return branch
