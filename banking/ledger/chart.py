"""The bank's standard chart of accounts.

Codes: 1xxx assets, 2xxx liabilities, 3xxx equity, 4xxx income, 5xxx expenses.
Per-branch accounts append the six-digit branch code (1101-000001 is the vault at
branch 000001). Customer deposit accounts are sub-ledgers under the product's
control header (2110 savings ...), created by the deposits module.

`enforce_balance` is set where the balance must never go below zero (cash) and
left off where it may swing either way (clearing, suspense, settlement).
"""

from django.db import transaction

from .models import AccountType, LedgerAccount

# code, name, type, parent code, header?, enforce balance?
STANDARD = [
    ("1000", "Assets", AccountType.ASSET, None, True, False),
    ("1100", "Cash in hand", AccountType.ASSET, "1000", True, False),
    ("1101", "Vault cash", AccountType.ASSET, "1100", True, False),
    ("1110", "Till cash", AccountType.ASSET, "1100", True, False),
    ("1120", "ATM cash", AccountType.ASSET, "1100", True, False),
    ("1200", "Balances with the Reserve Bank of India", AccountType.ASSET, "1000", True, False),
    ("1201", "RBI settlement account", AccountType.ASSET, "1200", False, False),
    ("1300", "Interest receivable", AccountType.ASSET, "1000", True, False),
    ("1301", "Interest receivable on loans", AccountType.ASSET, "1300", False, False),
    ("1302", "Charges receivable on loans", AccountType.ASSET, "1300", False, False),
    ("1400", "Loans and advances", AccountType.ASSET, "1000", True, False),
    ("1410", "Personal loans", AccountType.ASSET, "1400", True, False),
    ("1420", "Home loans", AccountType.ASSET, "1400", True, False),
    ("1430", "Vehicle loans", AccountType.ASSET, "1400", True, False),
    ("1440", "Gold loans", AccountType.ASSET, "1400", True, False),
    ("1900", "Suspense and sundry assets", AccountType.ASSET, "1000", True, False),
    ("1901", "Suspense account", AccountType.ASSET, "1900", False, False),
    ("1902", "Teller cash shortage and excess", AccountType.ASSET, "1900", False, False),
    ("1903", "ATM cash shortage", AccountType.ASSET, "1900", False, False),
    ("2000", "Liabilities", AccountType.LIABILITY, None, True, False),
    ("2100", "Customer deposits", AccountType.LIABILITY, "2000", True, False),
    ("2110", "Savings bank deposits", AccountType.LIABILITY, "2100", True, False),
    ("2115", "Basic savings (zero balance) deposits", AccountType.LIABILITY, "2100", True, False),
    ("2120", "Current account deposits", AccountType.LIABILITY, "2100", True, False),
    ("2130", "Fixed deposits", AccountType.LIABILITY, "2100", True, False),
    ("2140", "Recurring deposits", AccountType.LIABILITY, "2100", True, False),
    ("2200", "Interest payable", AccountType.LIABILITY, "2000", True, False),
    ("2201", "Interest payable on deposits", AccountType.LIABILITY, "2200", False, False),
    ("2202", "Interest payable on savings and current deposits", AccountType.LIABILITY, "2200", False, False),
    ("2300", "Clearing and settlement", AccountType.LIABILITY, "2000", True, False),
    ("2310", "NEFT outward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2311", "NEFT inward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2320", "RTGS outward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2321", "RTGS inward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2330", "IMPS outward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2331", "IMPS inward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2340", "UPI outward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2341", "UPI inward clearing", AccountType.LIABILITY, "2300", False, False),
    ("2900", "Sundry liabilities", AccountType.LIABILITY, "2000", True, False),
    ("2901", "Sundry creditors", AccountType.LIABILITY, "2900", False, False),
    ("2903", "Interest suspense on non-performing loans", AccountType.LIABILITY, "2900", False, False),
    ("2904", "Provisions held against loans", AccountType.LIABILITY, "2900", False, False),
    ("2905", "ATM cash excess", AccountType.LIABILITY, "2900", False, False),
    ("2600", "Taxes deducted and payable", AccountType.LIABILITY, "2000", True, False),
    ("2601", "TDS payable on deposit interest (section 194A)", AccountType.LIABILITY, "2600", False, False),
    ("2602", "GST payable on the bank's charges", AccountType.LIABILITY, "2600", False, False),
    ("3000", "Equity", AccountType.EQUITY, None, True, False),
    ("3100", "Share capital", AccountType.EQUITY, "3000", False, False),
    ("3200", "Reserves and surplus", AccountType.EQUITY, "3000", False, False),
    ("4000", "Income", AccountType.INCOME, None, True, False),
    ("4100", "Interest income", AccountType.INCOME, "4000", True, False),
    ("4101", "Interest earned on loans", AccountType.INCOME, "4100", False, False),
    ("4200", "Fee and commission income", AccountType.INCOME, "4000", True, False),
    ("4201", "Service charges", AccountType.INCOME, "4200", False, False),
    ("4202", "Minimum balance charges", AccountType.INCOME, "4200", False, False),
    ("4203", "Remittance charges", AccountType.INCOME, "4200", False, False),
    ("4204", "Penalty on late recurring deposit instalments", AccountType.INCOME, "4200", False, False),
    ("4205", "Loan processing fees", AccountType.INCOME, "4200", False, False),
    ("4206", "Penal charges on loans", AccountType.INCOME, "4200", False, False),
    ("4207", "Loan prepayment and foreclosure charges", AccountType.INCOME, "4200", False, False),
    ("4208", "ATM transaction charges", AccountType.INCOME, "4200", False, False),
    ("5000", "Expenses", AccountType.EXPENSE, None, True, False),
    ("5100", "Interest expended", AccountType.EXPENSE, "5000", True, False),
    ("5101", "Interest paid on savings deposits", AccountType.EXPENSE, "5100", False, False),
    ("5102", "Interest paid on term deposits", AccountType.EXPENSE, "5100", False, False),
    ("5103", "Rounding of savings interest credited", AccountType.EXPENSE, "5100", False, False),
    ("5200", "Operating expenses", AccountType.EXPENSE, "5000", True, False),
    ("5201", "Cash shortage written off", AccountType.EXPENSE, "5200", False, False),
    ("5202", "Compensation for delayed ATM reversals", AccountType.EXPENSE, "5200", False, False),
    ("5300", "Provisions and contingencies", AccountType.EXPENSE, "5000", True, False),
    ("5301", "Provisions for loan losses", AccountType.EXPENSE, "5300", False, False),
]

# Control headers for customer deposit products, by product code.
DEPOSIT_CONTROL = {"SB": "2110", "BSBDA": "2115", "CA": "2120", "FD": "2130", "RD": "2140"}
# Loans are asset sub-ledgers under their product's header (1410-1440, LoanProduct.control_gl_code).
LOAN_PROCESSING_FEES = "4205"
# Loan servicing: charges levied and not yet paid (penal charges are a charge, never
# interest, never capitalised: RBI, August 2023), their income, and prepayment charges.
LOAN_CHARGES_RECEIVABLE = "1302"
LOAN_PENAL_CHARGES = "4206"
LOAN_PREPAYMENT_CHARGES = "4207"
# Outward and inward clearing by payment rail.
CLEARING = {
    "NEFT": ("2310", "2311"),
    "RTGS": ("2320", "2321"),
    "IMPS": ("2330", "2331"),
    "UPI": ("2340", "2341"),
}
RBI_SETTLEMENT = "1201"
SUSPENSE = "1901"
# Money owed to people outside the bank's accounts, such as a walk-in remitter whose payment came back.
SUNDRY_CREDITORS = "2901"
TELLER_SUSPENSE = "1902"
# An ATM's notes counted at replenishment against what the switch expected: fewer
# (a shortage, to be recovered or written off) or more (an excess, owed to whoever
# it turns out to be), each held in its own suspense GL until a supervisor clears it.
ATM_SHORTAGE = "1903"
ATM_EXCESS = "2905"
FEE_INCOME = "4201"
INTEREST_PAYABLE = "2201"
INTEREST_RECEIVABLE = "1301"
INTEREST_ON_TERM_DEPOSITS = "5102"
# Tax deducted at source from deposit interest (Income-tax Act s.194A), owed to the government.
TDS_PAYABLE = "2601"
RD_PENALTY_INCOME = "4204"
# Savings and current interest: accrued daily (Dr expense, Cr payable), credited quarterly
# from payable; the difference between the paise credited and the paise accrued to
# the GL (each rounded half-up once) goes to the rounding GL.
SAVINGS_INTEREST_EXPENSE = "5101"
SAVINGS_INTEREST_PAYABLE = "2202"
SAVINGS_INTEREST_ROUNDING = "5103"
MINIMUM_BALANCE_CHARGES = "4202"
# ATM transactions past the month's free ones (RBI: ₹23 + GST each), and the ₹100 a
# day paid to a customer whose failed ATM withdrawal is reversed after T+5.
ATM_CHARGES = "4208"
ATM_COMPENSATION = "5202"
# GST (18%) collected on the bank's charges, owed to the government.
GST_PAYABLE = "2602"
SHARE_CAPITAL = "3100"
# Loans at end of day: interest accrued on a non-performing loan is held in suspense,
# never income (RBI's income recognition norms); provisions by asset classification.
LOAN_INTEREST_INCOME = "4101"
NPA_INTEREST_SUSPENSE = "2903"
LOAN_PROVISIONS = "2904"
LOAN_PROVISION_EXPENSE = "5301"


def vault_code(branch_code):
    return f"1101-{branch_code}"


def till_code(branch_code, employee_id):
    """A teller's till-cash GL. Every cash GL belongs to a vault or a till, so each
    shows on the supervisor's tills-and-vault page."""
    return f"1110-{branch_code}-{employee_id}"


def atm_cash_code(branch_code, terminal_id):
    """An ATM's cash GL, under the ATM-cash header, at the branch that looks after it."""
    return f"1120-{branch_code}-{terminal_id}"


@transaction.atomic
def ensure_standard_chart(branches=()):
    """Create what is missing of the standard chart, and each branch's vault cash
    account (tills get theirs when they are opened). `branches` is a list of
    (code, name). Idempotent."""
    by_code = {a.code: a for a in LedgerAccount.objects.filter(code__in=[row[0] for row in STANDARD])}
    for code, name, type_, parent, header, enforce in STANDARD:
        if code not in by_code:
            by_code[code] = LedgerAccount.objects.create(
                code=code, name=name, type=type_, parent=by_code.get(parent), is_header=header,
                enforce_balance=enforce,
            )
    for branch_code, branch_name in branches:
        LedgerAccount.objects.get_or_create(
            code=vault_code(branch_code),
            defaults={"name": f"Vault cash, {branch_name}", "type": AccountType.ASSET, "parent": by_code["1101"],
                      "branch_code": branch_code, "enforce_balance": True},
        )
    return by_code
