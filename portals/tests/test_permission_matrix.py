"""Every portal URL, for every role and for anonymous visitors, answers as the bank intends.

A new portal view fails this test until its expected answers are written into
EXPECTED: reviewers see each view's reach in one table.
"""

from contextlib import contextmanager

import pytest
from django.db import transaction
from django.urls import reverse

from banking.testing import make_branch, make_user
from banking.users.roles import Role
from portals.checks import is_portal_view, iter_patterns

ALL = set(Role)
TELLER_SIDE = {Role.TELLER, Role.SUPERVISOR, Role.BRANCH_MANAGER}
SUPERVISORS = {Role.SUPERVISOR, Role.BRANCH_MANAGER}
OPS_SIDE = {Role.OPERATIONS, Role.COMPLIANCE, Role.AUDITOR, Role.ADMINISTRATOR}
AUDIT = {Role.AUDITOR, Role.ADMINISTRATOR}
# A kwarg value naming an object that the `objects` fixture creates.
APPROVAL = "<an approval request made by the branch's teller>"
ENTRY = "<a posted journal entry>"
CUSTOMER = "<a verified customer>"
ACCOUNT = "<the customer's savings account number>"
FIXED_DEPOSIT = "<the customer's fixed deposit number>"
HOLD = "<a hold on the savings account>"
ACTIVATION = "<an internet banking activation token>"
COUNTER_TXN = "<a cash deposit taken at the people's branch>"
DRAFT = "<a KYC draft at the people's branch>"
DOCUMENT = "<a photograph uploaded to the draft>"
REMITTANCE = "<an NEFT remittance taken at the people's branch>"
INSTRUCTION = "<a standing instruction of the matrix's customer>"
PAYEE = "<the customer's payee>"
PAYMENT = "<the customer's NEFT payment number>"
COLLECT = "<a merchant's collect request to the customer's UPI ID>"
NEFT_BATCH = "<a settled NEFT cycle>"
SETTLED_PAYMENT = "<an NEFT payment of that cycle>"
SETTLEMENT_FILE = "<the cycle's settlement file>"
RECONCILIATION = "<the reconciliation of that file>"
STAFF_MEMBER = "<the people's teller>"
STAFF_REQUEST = "<the administrator's request to make the teller a supervisor>"
EOD_RUN = "<the date of a finished end of day>"
LOAN_APPLICATION = "<a sanctioned loan application's number>"
LOAN = "<that sanctioned loan's number>"
MY_LOAN = "<the matrix customer's disbursed personal loan>"
MY_LOAN_APPLICATION = "<the application of the matrix customer's loan>"
LOAN_RECEIPT = "<a receipt for the matrix customer's loan>"
PAYOUT_BATCH = "<a partner's payout batch waiting for the matrix's customer>"
ATM_TERMINAL = "<an ATM of the people's branch, for its cash screens>"
ATM_JOURNAL = "<an electronic journal reconciled for that ATM>"
TERMINAL = "<an ATM registered at the people's branch>"
MY_CARD = "<the matrix customer's debit card on their savings account>"
ATM_COMPLAINT = "<a failed-dispense complaint on the matrix customer's card>"

# url name -> (kwargs, roles that get 200, status for others signed in, anonymous answer)
EXPECTED = {
    "portals:home": ({}, set(), 302, "login"),  # everyone signed in is redirected to their portal
    "portals:healthz": ({}, ALL, None, 200),
    # Readiness and metrics answer alike signed in or not: no worker beats in the matrix's
    # database, so it is not ready; the test client's 127.0.0.1 is an allowed network.
    "portals:readyz": ({}, set(), 503, 503),
    "portals:metrics": ({}, ALL, None, 200),
    "portals:confirm-identity": ({}, ALL, None, "login"),
    # allauth's recovery codes page, which ends setting up sign-in: the matrix's people
    # have no recovery codes, so there is nothing to show them.
    "mfa_view_recovery_codes": ({}, set(), 404, "login"),
    "teller:home": ({}, TELLER_SIDE, 403, "login"),
    "supervisor:home": ({}, SUPERVISORS, 403, "login"),
    "customer:home": ({}, {Role.CUSTOMER}, 403, "login"),
    "ops:home": ({}, OPS_SIDE, 403, "login"),
    "ops:audit-list": ({}, AUDIT, 403, "login"),
    "ops:my-requests": ({}, OPS_SIDE, 403, "login"),
    "teller:my-requests": ({}, TELLER_SIDE, 403, "login"),
    "supervisor:queue": ({}, SUPERVISORS, 403, "login"),
    "supervisor:queue-count": ({}, SUPERVISORS, 403, "login"),
    "supervisor:request-detail": ({"pk": APPROVAL}, SUPERVISORS, 403, "login"),
    # Deciding is POST only: a GET is refused before anything else is looked at.
    "supervisor:request-approve": ({"pk": APPROVAL}, set(), 405, 405),
    "supervisor:request-reject": ({"pk": APPROVAL}, set(), 405, 405),
    "ops:chart": ({}, OPS_SIDE, 403, "login"),
    "ops:gl-account": ({"code": "1201"}, OPS_SIDE, 403, "login"),
    "ops:trial-balance": ({}, OPS_SIDE, 403, "login"),
    "ops:entry-detail": ({"pk": ENTRY}, OPS_SIDE, 403, "login"),
    "ops:entry-reverse": ({"pk": ENTRY}, set(), 405, 405),
    "ops:journal-new": ({}, {Role.OPERATIONS}, 403, "login"),
    # Customers and KYC: search and 360 bank-wide; the wizard at the customer's home branch.
    "teller:customer-search": ({}, TELLER_SIDE, 403, "login"),
    "teller:customer-new": ({}, TELLER_SIDE, 403, "login"),
    "teller:kyc-drafts": ({}, TELLER_SIDE, 403, "login"),
    "teller:rekyc-due": ({}, TELLER_SIDE, 403, "login"),
    "teller:tax-declaration": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:customer-detail": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:kyc-step": ({"pk": DRAFT, "step": "identity"}, TELLER_SIDE, 403, "login"),
    "teller:customer-document": ({"pk": DRAFT, "document_pk": DOCUMENT}, TELLER_SIDE, 403, "login"),
    # Deposit accounts at the counter: tellers work bank-wide.
    "teller:customer-accounts": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:account-open": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:fd-open": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:rd-open": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:internet-banking": ({"pk": CUSTOMER}, set(), 405, 405),
    "teller:hold-new": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:hold-release": ({"number": ACCOUNT, "hold_id": HOLD}, TELLER_SIDE, 403, "login"),
    "teller:account-freeze": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:account-unfreeze": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:account-close": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:account-reactivate": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:fd-close": ({"number": FIXED_DEPOSIT}, TELLER_SIDE, 403, "login"),
    "teller:statement": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:statement-csv": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    "teller:statement-pdf": ({"number": ACCOUNT}, TELLER_SIDE, 403, "login"),
    # Loans at the counter: read bank-wide; the actions refuse another branch's work.
    "teller:loan-apply": ({"pk": CUSTOMER}, TELLER_SIDE, 403, "login"),
    "teller:loan-application": ({"number": LOAN_APPLICATION}, TELLER_SIDE, 403, "login"),
    "teller:loan-kfs-pdf": ({"number": LOAN_APPLICATION}, TELLER_SIDE, 403, "login"),
    "teller:loan-detail": ({"number": LOAN}, TELLER_SIDE, 403, "login"),
    # Loan servicing at the counter: cash for the dues, its receipt, the foreclosure quote, the no-dues
    # certificate (a page saying why not, for a loan still open).
    "teller:loan-repay": ({"number": MY_LOAN}, TELLER_SIDE, 403, "login"),
    "teller:loan-receipt": ({"number": MY_LOAN, "receipt": LOAN_RECEIPT}, TELLER_SIDE, 403, "login"),
    "teller:loan-foreclosure": ({"number": MY_LOAN}, TELLER_SIDE, 403, "login"),
    "teller:loan-no-dues": ({"number": MY_LOAN}, TELLER_SIDE, 403, "login"),
    # Changing the plan at the counter: part-prepayment in cash, the borrower's rate-reset choice, the security
    # (valuations; a supervisor's proposal to mark an NPA a loss).
    "teller:loan-prepay": ({"number": MY_LOAN}, TELLER_SIDE, 403, "login"),
    "teller:loan-reset-choice": ({"number": MY_LOAN}, TELLER_SIDE, 403, "login"),
    "teller:loan-security": ({"number": MY_LOAN}, TELLER_SIDE, 403, "login"),
    # Internet banking: the customer's own accounts only (another's number is a 404).
    "customer:account": ({"number": ACCOUNT}, {Role.CUSTOMER}, 403, "login"),
    "customer:statements": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:statement": ({"number": ACCOUNT}, {Role.CUSTOMER}, 403, "login"),
    "customer:statement-csv": ({"number": ACCOUNT}, {Role.CUSTOMER}, 403, "login"),
    "customer:statement-pdf": ({"number": ACCOUNT}, {Role.CUSTOMER}, 403, "login"),
    "customer:fd-maturity": ({"number": FIXED_DEPOSIT}, {Role.CUSTOMER}, 403, "login"),
    # Internet banking loans: the customer's own loans and applications (another's number is a 404).
    "customer:loans": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-apply": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-application": ({"number": MY_LOAN_APPLICATION}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-kfs-pdf": ({"number": MY_LOAN_APPLICATION}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-schedule-csv": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-schedule-pdf": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-statement-csv": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-statement-pdf": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-pay": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-prepay": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    "customer:loan-reset-choice": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    # A loan still open answers with a page saying why there is no certificate yet.
    "customer:loan-no-dues": ({"number": MY_LOAN}, {Role.CUSTOMER}, 403, "login"),
    # Internet banking cards: the customer's own cards only (another's card is a 404); changes are POST
    # only where they have no page of their own.
    "customer:cards": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:card-request": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:card": ({"pk": MY_CARD}, {Role.CUSTOMER}, 403, "login"),
    "customer:card-controls": ({"pk": MY_CARD}, set(), 405, 405),
    "customer:card-pin": ({"pk": MY_CARD}, {Role.CUSTOMER}, 403, "login"),
    "customer:card-hotlist": ({"pk": MY_CARD}, {Role.CUSTOMER}, 403, "login"),
    "customer:card-replace": ({"pk": MY_CARD}, set(), 405, 405),
    # The emailed one-time link: open to anyone holding a valid token.
    "customer:activate": ({"token": ACTIVATION}, ALL, None, 200),
    # Internet banking payments: the customer's own payees, payments and collect requests.
    "customer:payees": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:payee-new": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:ifsc-lookup": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:payee-remove": ({"pk": PAYEE}, {Role.CUSTOMER}, 403, "login"),
    "customer:pay": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:payments": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:payment": ({"number": PAYMENT}, {Role.CUSTOMER}, 403, "login"),
    "customer:upi": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:collect-count": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:collect-request": ({"pk": COLLECT}, {Role.CUSTOMER}, 403, "login"),
    "customer:collect-decline": ({"pk": COLLECT}, set(), 405, 405),
    # Operations' payment screens: the whole operations side reads them; only staff who operate payments act
    # (running and resolving are POST only; the clearing simulator is theirs alone).
    "ops:payment-monitor": ({}, OPS_SIDE, 403, "login"),
    "ops:payment-detail": ({"pk": SETTLED_PAYMENT}, OPS_SIDE, 403, "login"),
    "ops:neft-batches": ({}, OPS_SIDE, 403, "login"),
    "ops:neft-batch-run": ({}, set(), 405, 405),
    "ops:neft-batch-detail": ({"pk": NEFT_BATCH}, OPS_SIDE, 403, "login"),
    "ops:settlement-file": ({"pk": SETTLEMENT_FILE}, OPS_SIDE, 403, "login"),
    "ops:reconciliations": ({}, OPS_SIDE, 403, "login"),
    "ops:reconciliation-detail": ({"pk": RECONCILIATION}, OPS_SIDE, 403, "login"),
    "ops:recon-exceptions": ({}, OPS_SIDE, 403, "login"),
    "ops:recon-exception-resolve": ({"pk": 1}, set(), 405, 405),
    "ops:clearing-simulator": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:ifsc-directory": ({}, OPS_SIDE, 403, "login"),
    # The ATM fleet: the operations side reads the monitor and a terminal's page; acknowledging an alert is
    # POST only; the simulator is for operations staff who operate ATMs.
    "ops:atm-fleet": ({}, OPS_SIDE, 403, "login"),
    "ops:atm-terminal": ({"terminal_id": TERMINAL}, OPS_SIDE, 403, "login"),
    "ops:atm-alert-acknowledge": ({"pk": 1}, set(), 405, 405),
    "ops:atm-simulator": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:atm-simulator-power": ({}, set(), 405, 405),
    "ops:atm-simulator-heartbeats": ({}, set(), 405, 405),
    # The queue of background jobs: the operations side reads it; retrying is POST only.
    "ops:jobs": ({}, OPS_SIDE, 403, "login"),
    "ops:job-retry": ({"pk": 1}, set(), 405, 405),
    # The counter: cash, transfers and cheques at the teller's own branch; posting is POST only.
    "teller:deposit": ({}, TELLER_SIDE, 403, "login"),
    "teller:withdrawal": ({}, TELLER_SIDE, 403, "login"),
    "teller:transfer": ({}, TELLER_SIDE, 403, "login"),
    "teller:account-lookup": ({}, TELLER_SIDE, 403, "login"),
    "teller:transaction": ({"pk": COUNTER_TXN}, TELLER_SIDE, 403, "login"),
    "teller:transaction-reverse": ({"pk": COUNTER_TXN}, set(), 405, 405),
    "teller:till": ({}, TELLER_SIDE, 403, "login"),
    "teller:till-open": ({}, TELLER_SIDE, 403, "login"),
    "teller:till-request": ({}, TELLER_SIDE, 403, "login"),
    "teller:till-return": ({}, TELLER_SIDE, 403, "login"),
    "teller:till-close": ({}, TELLER_SIDE, 403, "login"),
    "teller:cheques": ({}, TELLER_SIDE, 403, "login"),
    "teller:cheque-book-issue": ({}, set(), 405, 405),
    "teller:cheque-stop": ({}, set(), 405, 405),
    "teller:cheque-cancel": ({}, set(), 405, 405),
    # Debit cards at the counter, bank-wide; issuing, hotlisting, replacing and printing the mailer are POST only.
    "teller:cards": ({}, TELLER_SIDE, 403, "login"),
    "teller:card-issue": ({}, set(), 405, 405),
    "teller:card-hotlist": ({"pk": MY_CARD}, set(), 405, 405),
    "teller:card-replace": ({"pk": MY_CARD}, set(), 405, 405),
    "teller:card-mailer": ({"pk": MY_CARD}, set(), 405, 405),
    # NEFT / RTGS at the counter; receipts of the teller's own branch.
    "teller:remittance": ({}, TELLER_SIDE, 403, "login"),
    "teller:remittance-ifsc": ({}, TELLER_SIDE, 403, "login"),
    "teller:remittance-receipt": ({"pk": REMITTANCE}, TELLER_SIDE, 403, "login"),
    # Standing instructions: the customer's own; a teller's for any customer.
    "teller:standing": ({}, TELLER_SIDE, 403, "login"),
    "teller:standing-cancel": ({"pk": INSTRUCTION}, set(), 405, 405),  # POST only
    "customer:standing": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:standing-new": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:standing-cancel": ({"pk": INSTRUCTION}, {Role.CUSTOMER}, 403, "login"),
    # The branch's cash, for its head tellers and manager.
    "supervisor:tills": ({}, SUPERVISORS, 403, "login"),
    "supervisor:branch-close": ({}, set(), 405, 405),
    "supervisor:cash-position": ({}, SUPERVISORS, 403, "login"),
    "supervisor:cash-differences": ({}, SUPERVISORS, 403, "login"),
    "supervisor:loans-overdue": ({}, SUPERVISORS, 403, "login"),
    # End of day, its history and kept trial balances, the holiday calendar: the operations side reads them;
    # starting end of day and asking for or deciding a holiday are POST only.
    "ops:eod": ({}, OPS_SIDE, 403, "login"),
    "ops:loan-portfolio": ({}, OPS_SIDE, 403, "login"),
    "ops:loan-sma-npa": ({}, OPS_SIDE, 403, "login"),
    "ops:loan-provisions": ({}, OPS_SIDE, 403, "login"),
    "ops:eod-start": ({}, set(), 405, 405),
    "ops:eod-history": ({}, OPS_SIDE, 403, "login"),
    "ops:eod-run": ({"date": EOD_RUN}, OPS_SIDE, 403, "login"),
    "ops:eod-trial-balance": ({}, OPS_SIDE, 403, "login"),
    "ops:holidays": ({}, OPS_SIDE, 403, "login"),
    "ops:holiday-remove": ({"date": "2026-12-25"}, set(), 405, 405),
    "ops:holiday-request-approve": ({"pk": 1}, set(), 405, 405),
    "ops:holiday-request-reject": ({"pk": 1}, set(), 405, 405),
    # Staff and roles: administrators only; deciding is POST only.
    "ops:staff": ({}, {Role.ADMINISTRATOR}, 403, "login"),
    "ops:staff-change": ({"pk": STAFF_MEMBER}, {Role.ADMINISTRATOR}, 403, "login"),
    "ops:staff-request": ({"pk": STAFF_REQUEST}, {Role.ADMINISTRATOR}, 403, "login"),
    "ops:staff-request-approve": ({"pk": STAFF_REQUEST}, set(), 405, 405),
    "ops:staff-request-reject": ({"pk": STAFF_REQUEST}, set(), 405, 405),
    # Partner API keys and webhook deliveries: operations who manage partners; changes are POST only.
    "ops:partner-keys": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:partner-deliveries": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:partner-key-issue": ({}, set(), 405, 405),
    "ops:partner-key-rotate": ({"pk": 1}, set(), 405, 405),
    "ops:partner-key-revoke": ({"pk": 1}, set(), 405, 405),
    "ops:partner-request-approve": ({"pk": 1}, set(), 405, 405),
    "ops:partner-request-reject": ({"pk": 1}, set(), 405, 405),
    "ops:partner-delivery-replay": ({"pk": 1}, set(), 405, 405),
    # Loan rates and products: the operations side reads them; deciding a product change is POST only.
    "ops:loan-rates": ({}, OPS_SIDE, 403, "login"),
    "ops:loan-products": ({}, OPS_SIDE, 403, "login"),
    "ops:loan-product": ({"code": "PL"}, OPS_SIDE, 403, "login"),
    "ops:loan-product-approve": ({"pk": 1}, set(), 405, 405),
    "ops:loan-product-reject": ({"pk": 1}, set(), 405, 405),
    # A partner's payout batch waiting for the customer's authoriser.
    "customer:payouts": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:payout-decide": ({"pk": PAYOUT_BATCH}, {Role.CUSTOMER}, 403, "login"),
    # The customer API takes a JWT, never a session: signed in or not, a browser gets 401;
    # the open endpoints (sign-in, refresh, logout) take POST only; the docs are public.
    "api:token": ({}, set(), 405, 405),
    "api:token-refresh": ({}, set(), 405, 405),
    "api:logout": ({}, set(), 405, 405),
    "api:ping": ({}, set(), 401, 401),
    "api:me": ({}, set(), 401, 401),
    "api:accounts": ({}, set(), 401, 401),
    "api:account": ({"number": ACCOUNT}, set(), 401, 401),
    "api:transactions": ({"number": ACCOUNT}, set(), 401, 401),
    "api:payees": ({}, set(), 401, 401),
    "api:payee": ({"pk": PAYEE}, set(), 401, 401),
    "api:payments": ({}, set(), 401, 401),
    "api:payment": ({"pk": 1}, set(), 401, 401),
    "api:collect-requests": ({}, set(), 401, 401),
    "api:collect-pay": ({"pk": COLLECT}, set(), 401, 401),
    "api:collect-decline": ({"pk": COLLECT}, set(), 401, 401),
    "api:docs": ({}, ALL, None, 200),
    "api:redoc": ({}, ALL, None, 200),
    "api:not-found": ({"rest": "nowhere/"}, set(), 404, 404),
    # The partner API takes API keys, never a session: everyone without one is 401.
    "api:partner-accounts": ({}, set(), 401, 401),
    "api:partner-transactions": ({"number": ACCOUNT}, set(), 401, 401),
    "api:partner-payouts": ({}, set(), 401, 401),
    "api:partner-payout": ({"batch_id": "0b6f1f0e-5a4e-4c39-9a53-5e1f1c6f2d11"}, set(), 401, 401),
    "api:partner-webhooks": ({}, set(), 401, 401),
    "api:partner-webhook": ({"pk": 1}, set(), 401, 401),
    # ATM cash: registering, replenishing and reconciling are operations' (cards.operate_atms);
    # showing a key and resolving an exception are POST only.
    "ops:atm-terminal-new": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:atm-terminal-key": ({"pk": 1}, set(), 405, 405),
    "ops:atm-replenish": ({"terminal_id": ATM_TERMINAL}, {Role.OPERATIONS}, 403, "login"),
    "ops:atm-reconciliations": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:atm-reconciliation": ({"pk": ATM_JOURNAL}, {Role.OPERATIONS}, 403, "login"),
    "ops:atm-journal-resolve": ({"pk": 1}, set(), 405, 405),
    # ATM complaints: the customer's own; a teller raises one at the counter; operations who operate
    # ATMs investigate and resolve them.
    "customer:atm-complaints": ({}, {Role.CUSTOMER}, 403, "login"),
    "customer:atm-complaint-new": ({}, {Role.CUSTOMER}, 403, "login"),
    "teller:atm-complaint-new": ({}, TELLER_SIDE, 403, "login"),
    "ops:atm-complaints": ({}, {Role.OPERATIONS}, 403, "login"),
    "ops:atm-complaint": ({"pk": ATM_COMPLAINT}, {Role.OPERATIONS}, 403, "login"),
    # The ATM switch takes a terminal's signature, never a session.
    "api:atm-messages": ({}, set(), 401, 401),
}


def portal_url_names():
    names = set()
    for _route, pattern in iter_patterns():
        if is_portal_view(pattern.callback):
            names.add(pattern.name)
    return names


def test_every_portal_view_is_in_the_matrix():
    found = {name.split(":")[-1] for name in portal_url_names()}
    listed = {name.split(":")[-1] for name in EXPECTED}
    assert found == listed, f"missing from EXPECTED: {found - listed}; stale: {listed - found}"


def make_people():
    branch = make_branch()
    return {role: make_user(role, branch=branch) for role in Role}


@pytest.fixture
def people(db):
    return make_people()


@pytest.fixture
def objects(people):
    with made_objects(people) as made:
        yield made


@pytest.fixture(scope="module")
def matrix_bank(django_db_setup, django_db_blocker):
    """The people and the objects, built once for test_matrix's URLs (in each test
    worker) inside a transaction that is rolled back after the module. Each test still
    runs in a savepoint of its own (pytest-django's `db`), so what a request writes
    (a session, an audit event) is gone before the next one."""
    with django_db_blocker.unblock(), transaction.atomic():
        people = make_people()
        with made_objects(people) as objects:
            yield people, objects
        transaction.set_rollback(True)


@contextmanager
def made_objects(people):
    from banking.approvals.tests.factories import make_request, registered_test_kind
    from banking.ledger.tests.helpers import customer_account

    entry = customer_account(10_000).postings.get().entry
    deposits = _deposit_objects(people)
    counter = _counter_objects(people)
    customers = _customer_objects(people)
    payments = _payment_objects(deposits[ACCOUNT])
    payments.update(_neft_cycle_objects())
    payments.update(_staff_objects(people))
    payments.update(_eod_objects())
    payments.update(_loan_objects())
    payments.update(_partner_objects(deposits[ACCOUNT]))
    payments.update(_atm_objects(people))
    payments.update(_customer_loan_objects(deposits[ACCOUNT]))
    payments.update(_loan_receipt_objects(payments[MY_LOAN], entry))
    payments.update(_atm_cash_objects(people))
    payments.update(_card_objects(deposits[ACCOUNT]))
    payments.update(_atm_complaint_objects(payments[MY_CARD]))
    with registered_test_kind():
        yield {APPROVAL: make_request(people[Role.TELLER]).pk, ENTRY: entry.pk, **deposits, **counter, **customers,
               **payments}


def _atm_objects(people):
    """An ATM at the people's branch (no cash: the screens read it)."""
    from banking.cards.actions import register_terminal

    terminal = register_terminal(actor=None, branch=people[Role.TELLER].branch, terminal_id="MATRIX01",
                                 location="Matrix lobby")
    return {TERMINAL: terminal.terminal_id}


def _atm_cash_objects(people):
    """An ATM of the people's branch, and a journal of it reconciled."""
    from banking.cards.actions import register_terminal
    from banking.cards.journal import reconcile_journal

    supervisor = people[Role.SUPERVISOR]
    terminal = register_terminal(actor=supervisor, branch=supervisor.branch, terminal_id="CBSM0001",
                                 location="Matrix lobby")
    journal = reconcile_journal(actor=people[Role.OPERATIONS], terminal=terminal, name="EJ.csv",
                                data="STAN,TIME,N500,N200,N100,RESULT\n000001,2026-12-07T10:00:00+05:30,0,0,0,DECLINED\n")
    return {ATM_TERMINAL: terminal.terminal_id, ATM_JOURNAL: journal.pk}


def _partner_objects(number):
    """A partner of the matrix's customer with a payout batch waiting for them."""
    from banking.deposits.models import DepositAccount
    from banking.partners.models import BatchStatus, Partner, PayoutBatch

    account = DepositAccount.objects.select_related("customer").get(number=number)
    partner = Partner.objects.create(name="Matrix ERP", customer=account.customer, payout_account=account)
    batch = PayoutBatch.objects.create(partner=partner, idempotency_key="matrix", request_hash="0" * 64,
                                       status=BatchStatus.AWAITING_AUTHORISATION, total=100_00)
    return {PAYOUT_BATCH: batch.pk}


def _card_objects(number):
    """A debit card of the matrix's customer on their savings account, issued at its branch."""
    from banking.cards.actions import issue_card
    from banking.deposits.models import DepositAccount

    account = DepositAccount.objects.select_related("branch").get(number=number)
    card = issue_card(actor=make_user(Role.TELLER, branch=account.branch), account=account)
    return {MY_CARD: card.pk}


def _atm_complaint_objects(card_pk):
    """A complaint that a withdrawal on the matrix customer's card gave no cash (the
    switch's log row and the complaint only: the screens read them)."""
    from banking.cards.actions import register_terminal
    from banking.cards.models import Card, DispenseComplaint, SwitchMessage
    from banking.ledger.models import BusinessDate

    card = Card.objects.select_related("account__branch", "customer").get(pk=card_pk)
    terminal = register_terminal(actor=None, branch=card.account.branch, terminal_id="MATRIXC1",
                                 location="Matrix lobby")
    today = BusinessDate.objects.current()
    withdrawal = SwitchMessage.objects.create(
        terminal=terminal, kind="withdrawal", stan="000001", local_date=today, card=card, masked_card=card.masked,
        amount=100_00, content_hash="0" * 64, response_code="00", response={})
    complaint = DispenseComplaint.objects.create(
        withdrawal=withdrawal, customer=card.customer, account=card.account, amount=100_00, transaction_date=today,
        raised_on=today, raised_by=card.issued_by, channel="internet")
    return {ATM_COMPLAINT: complaint.pk}


def _customer_loan_objects(number):
    """A personal loan of the matrix's customer, taken at their branch and paid into their savings account."""
    from banking.approvals.actions import approve_request
    from banking.deposits.models import DepositAccount
    from banking.loans import actions

    account = DepositAccount.objects.select_related("customer", "branch").get(number=number)
    teller = make_user(Role.TELLER, branch=account.branch)
    supervisor = make_user(Role.SUPERVISOR, branch=account.branch, approval_limit=10_00_000_00)
    application = actions.apply_for_loan(actor=teller, customer=account.customer, product="PL",
                                         deposit_account=account, amount=1_00_000_00, months=12, purpose="Matrix",
                                         monthly_income=1_00_000_00, bureau_score=760)
    actions.acknowledge_kfs(actor=teller, application=application, statement="Signed at the counter")
    approval = actions.request_sanction(actor=teller, application=application)
    approve_request(actor=supervisor, request_id=approval.pk)
    application.refresh_from_db()
    actions.disburse_loan(actor=teller, loan=application.loan, amount=1_00_000_00, idempotency_key="matrix-loan")
    return {MY_LOAN: application.loan.number, MY_LOAN_APPLICATION: application.number}


def _loan_receipt_objects(number, entry):
    """A receipt on the matrix customer's loan (the record only: the screens read it)."""
    from banking.loans.models import Loan, Repayment

    loan = Loan.objects.get(number=number)
    repayment = Repayment.objects.create(number="RP0000000000000", loan=loan, kind="dues", channel="account",
                                         amount=1_00, on=entry.business_date, deposit_account=loan.deposit_account,
                                         entry=entry, idempotency_key="matrix-receipt")
    return {LOAN_RECEIPT: repayment.number}


def _payment_objects(number):
    """A payee of the matrix's customer, an NEFT payment to it, and a merchant's
    collect request to the customer's UPI ID."""
    from banking.deposits.models import DepositAccount
    from banking.payments.actions import make_payment, receive_collect_request
    from banking.payments.tests.factories import payee, vpa

    account = DepositAccount.objects.select_related("customer").get(number=number)
    their_payee = payee(account)
    payment = make_payment(actor=None, customer=account.customer, debit_account=account, amount=100_00,
                           idempotency_key="matrix-payment", rail="NEFT", payee=their_payee)
    request = receive_collect_request(payer_vpa=vpa(account).address, merchant_vpa="shop@okaxis", merchant_name="Shop",
                                      amount=100_00, is_merchant=True, reference="matrix-collect")
    return {PAYEE: their_payee.pk, PAYMENT: payment.number, COLLECT: request.pk}


def _staff_objects(people):
    from banking.users.actions import request_staff_change

    teller = people[Role.TELLER]
    change = request_staff_change(actor=people[Role.ADMINISTRATOR], person=teller, roles=["supervisor"],
                                  branch=teller.branch, approval_limit=0, cash_limit=2_00_000_00)
    return {STAFF_MEMBER: teller.pk, STAFF_REQUEST: change.pk}


def _eod_objects():
    """A business date that end of day closed."""
    import datetime

    from django.utils import timezone

    from banking.operations.models import EodRun, RunState

    run = EodRun.objects.create(business_date=datetime.date(2026, 1, 5), state=RunState.DONE,
                                started_at=timezone.now(), finished_at=timezone.now())
    return {EOD_RUN: run.business_date.isoformat()}


def _loan_objects():
    """A personal loan applied for, acknowledged and sanctioned at a branch of its own."""
    from banking.loans.tests.factories import LoanBank

    loan = LoanBank().sanctioned()
    return {LOAN_APPLICATION: loan.application.number, LOAN: loan.number}


def _neft_cycle_objects():
    """The NEFT cycle that settles the customer's payment, its file and reconciliation."""
    from banking.payments.reconciliation import run_neft_cycle

    batch, reconciliation = run_neft_cycle(actor=None)
    return {NEFT_BATCH: batch.pk, SETTLED_PAYMENT: batch.payments.first().pk,
            SETTLEMENT_FILE: reconciliation.file_id, RECONCILIATION: reconciliation.pk}


def _customer_objects(people):
    """A KYC draft started by the branch's teller, with a photograph uploaded."""
    from banking.customers import actions
    from banking.customers.tests.factories import make_draft, png_upload

    draft = make_draft(people[Role.TELLER])
    photo = actions.upload_document(actor=people[Role.TELLER], customer=draft, kind="photo", upload=png_upload())
    return {DRAFT: draft.pk, DOCUMENT: photo.pk}


def _counter_objects(people):
    """A cash deposit taken by another teller at the people's branch."""
    from banking.ledger.chart import ensure_standard_chart
    from banking.teller.actions import fund_vault, take_cash_deposit
    from banking.teller.denominations import Denominations
    from banking.teller.tests.factories import key, open_account, supervisor_for, teller_with_open_till

    branch = people[Role.TELLER].branch
    ensure_standard_chart([(branch.code, branch.name)])
    fund_vault(actor=None, branch=branch, counts=Denominations(n500=100), idempotency_key=key())
    checker = supervisor_for(branch)
    teller = teller_with_open_till(branch, checker, Denominations(n500=10))
    account = open_account(branch, teller, checker)
    txn = take_cash_deposit(actor=teller, account=account, amount=500_00, counts=Denominations(n500=1),
                            idempotency_key=key())
    from banking.payments.remittance import send_remittance

    remittance = send_remittance(actor=teller, rail="NEFT", amount=1_000_00, idempotency_key=key(),
                                 beneficiary_name="Meera Iyer", beneficiary_account="50100012345678",
                                 beneficiary_ifsc="HDFC0001234", remitter_name="Rahul Verma",
                                 remitter_mobile="9876543210", remitter_address="12 MG Road, Pune",
                                 counts=Denominations(n500=2))
    return {COUNTER_TXN: txn.pk, REMITTANCE: remittance.pk}


def _deposit_objects(people):
    """A verified customer (whose internet banking login is the matrix's customer)
    with a savings account, a hold on it and a fixed deposit; and an activation
    token for another customer."""
    from banking.deposits import actions
    from banking.deposits import internet_banking as ib
    from banking.deposits.tests.factories import Bank, make_customer

    bank = Bank()
    bank.customer.user = people[Role.CUSTOMER]
    bank.customer.save(update_fields=["user"])
    savings = bank.open_account(deposit=50_000_00)
    hold = actions.place_account_hold(actor=bank.teller, account=savings, amount=100_00, reason="Test lien")
    fd = actions.open_fixed_deposit(actor=bank.teller, source=savings, principal=10_000_00, months=12,
                                    idempotency_key="matrix-fd")
    newcomer = make_customer(branch=bank.branch, created_by=bank.teller)
    login = ib.enable_internet_banking(actor=bank.teller, customer=newcomer, link_for=str)
    from banking.ledger.models import BusinessDate
    from banking.payments.standing import create_standing_instruction

    other = bank.open_account(deposit=0)
    instruction = create_standing_instruction(actor=bank.teller, customer=bank.customer, debit_account=savings,
                                              credit_account=other, amount=100_00, frequency="monthly",
                                              start_on=BusinessDate.objects.current())
    return {INSTRUCTION: instruction.pk,
            CUSTOMER: bank.customer.pk, ACCOUNT: savings.number, FIXED_DEPOSIT: fd.number, HOLD: hold.pk,
            ACTIVATION: ib.make_activation_token(login)}


@pytest.mark.parametrize("url_name", sorted(EXPECTED))
def test_matrix(client, matrix_bank, db, url_name):
    people, objects = matrix_bank
    kwargs, allowed, others, anonymous = EXPECTED[url_name]
    url = reverse(url_name, kwargs={key: objects.get(value, value) for key, value in kwargs.items()})

    response = client.get(url)
    if anonymous == "login":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == anonymous

    for role, user in people.items():
        client.force_login(user)
        response = client.get(url)
        expected = 200 if role in allowed else others
        assert response.status_code == expected, f"{role} on {url_name}: {response.status_code}"
        client.logout()


@pytest.mark.parametrize(
    "role,home",
    [
        (Role.TELLER, "/teller/"),
        (Role.SUPERVISOR, "/supervisor/"),
        (Role.BRANCH_MANAGER, "/supervisor/"),
        (Role.OPERATIONS, "/ops/"),
        (Role.COMPLIANCE, "/ops/"),
        (Role.AUDITOR, "/ops/"),
        (Role.ADMINISTRATOR, "/admin/"),
        (Role.CUSTOMER, "/banking/"),
    ],
)
def test_each_role_lands_in_its_portal(client, people, role, home):
    client.force_login(people[role])
    response = client.get("/", follow=True)
    assert response.redirect_chain[0][0] == home
    assert response.status_code == 200


def test_forbidden_page_is_friendly(client, people):
    client.force_login(people[Role.CUSTOMER])
    response = client.get("/teller/")
    assert response.status_code == 403
    assert "This page is not part of your work" in response.text


def test_missing_page_is_friendly(client, people):
    client.force_login(people[Role.TELLER])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.text


def test_home_shows_who_role_branch_and_date(client, people):
    from banking.ledger.models import BusinessDate

    user = people[Role.TELLER]
    client.force_login(user)
    response = client.get("/teller/")
    assert user.display_name in response.text
    assert "Teller" in response.text
    assert user.branch.name in response.text
    assert BusinessDate.objects.current().strftime("%d %b %Y") in response.text


def test_htmx_forbidden_sends_browser_to_login(client, people):
    client.force_login(people[Role.CUSTOMER])
    response = client.get("/teller/", headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/banking/"})
    assert response.status_code == 403
    assert response["HX-Redirect"].startswith(reverse("account_login"))


def test_htmx_anonymous_is_sent_to_login_not_swapped(client, db):
    response = client.get("/ops/audit/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith(reverse("account_login"))
    assert b"<form" not in response.content
