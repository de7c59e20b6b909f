"""Reconciliation of settlement files and the resolution of its exceptions, on PostgreSQL."""

import pytest

from banking.approvals.actions import approve_request, reject_request
from banking.core.errors import StaleRequest, ValidationFailed
from banking.ledger.chart import CLEARING, RBI_SETTLEMENT, SUSPENSE
from banking.ledger.models import LedgerAccount
from banking.testing import make_user
from banking.users.roles import Role

from ..actions import make_payment
from ..batches import settle_neft_batch
from ..models import ExceptionKind, ExceptionStatus, PaymentStatus, Rail, Reconciliation, SettlementFile
from ..reconciliation import (
    reconcile_file,
    request_resolution,
    run_neft_cycle,
    upload_settlement_file,
)
from ..simulator import SETTLEMENT_COLUMNS
from .factories import fresh, key, payee

pytestmark = pytest.mark.django_db


def balance(code):
    return LedgerAccount.objects.get(code=code).balance


def pay(account, amount, **payee_fields):
    return make_payment(actor=None, customer=account.customer, debit_account=account, amount=amount,
                        idempotency_key=key(), rail=Rail.NEFT, payee=payee(account, **payee_fields))


def rows_of(text):
    lines = text.strip().split("\n")
    assert lines[0] == ",".join(SETTLEMENT_COLUMNS)
    return lines[0], {line.split(",")[0]: line.split(",") for line in lines[1:]}


def as_text(header, rows, extra=()):
    return "\n".join([header, *(",".join(row) for row in rows), *extra]) + "\n"


@pytest.fixture
def ops(db):
    return make_user(Role.OPERATIONS)


def by_kind(reconciliation):
    return {(item.kind, item.reference) for item in reconciliation.items.all()}


def test_the_batch_file_reconciles_clean(bank, ops):
    account = bank.account(balance=50_000_00)
    pay(account, 1_000_00)
    pay(account, 2_000_00, account_number="12345678000")
    batch, reconciliation = run_neft_cycle(actor=ops)
    assert batch.payments_count == 2 and batch.returned_count == 1
    assert (reconciliation.lines, reconciliation.matched, reconciliation.exceptions) == (2, 2, 0)
    assert reconciliation.malformed == []
    assert run_neft_cycle(actor=ops) == (None, None)


def test_every_planted_exception_is_found(bank, ops):
    account = bank.account(balance=50_000_00)
    good = pay(account, 1_000_00)
    dropped = pay(account, 1_100_00, account_number="50100099999", ifsc="HDFC0001234")
    changed = pay(account, 1_200_00, account_number="50100088888")
    settled_but_returned = pay(account, 1_300_00, account_number="50100077777")
    returned_but_settled = pay(account, 1_400_00, account_number="50100066000")
    batch = settle_neft_batch(actor=ops)
    header, rows = rows_of(batch.settlement_file.content)
    del rows[dropped.reference]
    rows[changed.reference][6] = "1250.00"
    rows[settled_but_returned.reference][7:9] = ["RETURNED", "AC04"]
    rows[returned_but_settled.reference][7:9] = ["SETTLED", ""]
    stranger = "CBSBN26001999999"
    rows[stranger] = [stranger, *rows[good.reference][1:6], "777.00", "SETTLED", ""]
    uploaded = upload_settlement_file(actor=ops, name="neft_planted.csv", text=as_text(header, rows.values()))

    reconciliation = reconcile_file(actor=ops, settlement_file=uploaded)

    assert by_kind(reconciliation) == {
        (ExceptionKind.MISSING_THEIRS, dropped.reference),
        (ExceptionKind.AMOUNT_MISMATCH, changed.reference),
        (ExceptionKind.STATUS_MISMATCH, settled_but_returned.reference),
        (ExceptionKind.STATUS_MISMATCH, returned_but_settled.reference),
        (ExceptionKind.MISSING_OURS, stranger),
    }
    assert (reconciliation.lines, reconciliation.matched, reconciliation.exceptions) == (5, 1, 5)
    amount = reconciliation.items.get(kind=ExceptionKind.AMOUNT_MISMATCH)
    assert (amount.our_amount, amount.their_amount) == (1_200_00, 1_250_00)
    missing = reconciliation.items.get(kind=ExceptionKind.MISSING_OURS)
    assert missing.payment is None and missing.their_amount == 777_00 and missing.line_number is not None


def test_malformed_lines_are_reported_line_by_line_and_the_good_lines_still_match(bank, ops):
    account = bank.account(balance=50_000_00)
    first, second = pay(account, 1_000_00), pay(account, 2_000_00, account_number="50100012999")
    batch = settle_neft_batch(actor=ops)
    header, rows = rows_of(batch.settlement_file.content)
    template = rows[first.reference]
    bad = [
        ",".join(template[:5]),                                          # line 4: too few columns
        ",".join(["CBSBN26001000001", *template[1:6], "12.5", "SETTLED", ""]),      # 5: amount
        ",".join(["NOT-A-UTR", *template[1:6], "10.00", "SETTLED", ""]),            # 6: UTR
        ",".join(["CBSBN26001000002", "2026-13-01", *template[2:6], "10.00", "SETTLED", ""]),  # 7: date
        ",".join(["CBSBN26001000003", *template[1:6], "10.00", "PAID", ""]),        # 8: status
        ",".join(template),                                              # 9: the same UTR again
    ]
    reconciliation = reconcile_file(actor=ops, settlement_file=upload_settlement_file(
        actor=ops, name="with_bad_lines.csv", text=as_text(header, rows.values(), bad)))

    reported = dict(reconciliation.malformed)
    assert sorted(reported) == [4, 5, 6, 7, 8, 9]
    assert "columns" in reported[4] and "amount" in reported[5] and "UTR" in reported[6]
    assert "date" in reported[7] and "status" in reported[8] and "line 2" in reported[9]
    assert reconciliation.matched == 2 and reconciliation.exceptions == 0
    assert second.reference in batch.settlement_file.content


@pytest.mark.parametrize(("name", "text", "message"), [
    ("notes.txt", "UTR\n", "not a CSV"),
    ("no_header.csv", "CBSBN26001000001,2026-01-01,1,A,B,C,10.00,SETTLED,\n", "header row"),
    ("empty.csv", "", "header row"),
    ("binary.csv", b"\xff\xfe\x00garbage", "not a text file"),
    ("nul.csv", ",".join(SETTLEMENT_COLUMNS) + "\nCBSBN26001000001\x00,2026-01-01\n", "not a text file"),
])
def test_an_unreadable_upload_is_refused_and_kept_nowhere(ops, name, text, message):
    with pytest.raises(ValidationFailed, match=message):
        upload_settlement_file(actor=ops, name=name, text=text)
    assert not Reconciliation.objects.exists()


def test_a_second_file_of_the_same_name_is_refused(ops):
    text = ",".join(SETTLEMENT_COLUMNS) + "\n"
    first = upload_settlement_file(actor=ops, name="NEFT_cycle_07.csv", text=text)
    with pytest.raises(ValidationFailed, match="A file named NEFT_cycle_07.csv was already received"):
        upload_settlement_file(actor=ops, name="NEFT_cycle_07.csv", text=text + "\n")
    assert SettlementFile.objects.get() == first


def exceptions_of(bank, ops, plant):
    """Reconcile a batch file changed by `plant(rows, payments)`; returns the exceptions by reference."""
    account = bank.account(balance=50_000_00)
    payments = {"account": account}
    payments["settled"] = pay(account, 3_000_00)
    payments["returned_by_file"] = pay(account, 4_000_00, account_number="50100055555")
    batch = settle_neft_batch(actor=ops)
    payments["late"] = pay(account, 5_000_00, account_number="50100044444")  # sent after the cycle
    header, rows = rows_of(batch.settlement_file.content)
    plant(rows, payments)
    reconciliation = reconcile_file(actor=ops, settlement_file=upload_settlement_file(
        actor=ops, name=f"{key()}.csv", text=as_text(header, rows.values())))
    return payments, {item.reference: item for item in reconciliation.items.select_related("payment")}


def test_force_settle_through_approval_settles_the_sent_payment_once(bank, ops):
    def plant(rows, payments):
        late = payments["late"]
        rows[late.reference] = [late.reference, *rows[payments["settled"].reference][1:6], "5000.00", "SETTLED", ""]

    payments, items = exceptions_of(bank, ops, plant)
    late = payments["late"]
    item = items[late.reference]
    assert item.kind == ExceptionKind.STATUS_MISMATCH and item.our_status == PaymentStatus.SENT
    clearing, rbi = balance(CLEARING["NEFT"][0]), balance(RBI_SETTLEMENT)

    approval = request_resolution(actor=ops, exception=item, resolution="force_settle", reason="RBI settled it")
    item.refresh_from_db()
    assert item.status == ExceptionStatus.PENDING
    with pytest.raises(ValidationFailed, match="already awaiting approval"):
        request_resolution(actor=ops, exception=item, resolution="force_settle", reason="again")
    approve_request(actor=bank.checker, request_id=approval.pk)
    with pytest.raises(StaleRequest):
        approve_request(actor=bank.checker, request_id=approval.pk)

    late.refresh_from_db()
    item.refresh_from_db()
    assert late.status == PaymentStatus.SETTLED and item.status == ExceptionStatus.RESOLVED
    assert balance(CLEARING["NEFT"][0]) == clearing - 5_000_00 and balance(RBI_SETTLEMENT) == rbi - 5_000_00
    with pytest.raises(ValidationFailed, match="already resolved"):
        request_resolution(actor=ops, exception=item, resolution="suspense", reason="again")


def test_return_through_approval_gives_the_money_back_once(bank, ops):
    def plant(rows, payments):
        rows[payments["returned_by_file"].reference][7:9] = ["RETURNED", "AC04"]

    payments, items = exceptions_of(bank, ops, plant)
    account, payment = payments["account"], payments["returned_by_file"]
    item = items[payment.reference]
    before = fresh(account).balance

    approval = request_resolution(actor=ops, exception=item, resolution="return", reason="Beneficiary bank returned")
    approve_request(actor=bank.checker, request_id=approval.pk)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED
    assert fresh(account).balance == before + 4_000_00
    item.refresh_from_db()
    assert item.status == ExceptionStatus.RESOLVED and item.entry_id == payment.return_entry_id
    # A second resolution cannot give the money again.
    with pytest.raises(ValidationFailed, match="already resolved"):
        request_resolution(actor=ops, exception=item, resolution="return", reason="again")
    assert fresh(account).balance == before + 4_000_00


def test_suspense_through_approval_posts_the_unmatched_amount_once(bank, ops):
    stranger = "CBSBN26001999998"

    def plant(rows, payments):
        rows[stranger] = [stranger, *rows[payments["settled"].reference][1:6], "1234.56", "SETTLED", ""]
        rows[payments["settled"].reference][6] = "3000.10"

    _, items = exceptions_of(bank, ops, plant)
    suspense, rbi = balance(SUSPENSE), balance(RBI_SETTLEMENT)

    missing = items[stranger]
    approve_request(actor=bank.checker, request_id=request_resolution(
        actor=ops, exception=missing, resolution="suspense", reason="Unknown debit by RBI").pk)
    assert balance(SUSPENSE) == suspense + 1_234_56 and balance(RBI_SETTLEMENT) == rbi - 1_234_56

    difference = next(item for item in items.values() if item.kind == ExceptionKind.AMOUNT_MISMATCH)
    approval = request_resolution(actor=ops, exception=difference, resolution="suspense", reason="Ten paise more")
    assert approval.amount == 10
    approve_request(actor=bank.checker, request_id=approval.pk)
    assert balance(SUSPENSE) == suspense + 1_234_56 + 10
    missing.refresh_from_db()
    assert missing.status == ExceptionStatus.RESOLVED and missing.entry.total == 1_234_56


def test_a_resolution_that_does_not_fit_is_refused(bank, ops):
    stranger = "CBSBN26001999997"

    def plant(rows, payments):
        rows[stranger] = [stranger, *rows[payments["settled"].reference][1:6], "10.00", "SETTLED", ""]
        rows[payments["returned_by_file"].reference][7:9] = ["RETURNED", "AC04"]

    payments, items = exceptions_of(bank, ops, plant)
    with pytest.raises(ValidationFailed, match="no payment on our side to settle"):
        request_resolution(actor=ops, exception=items[stranger], resolution="force_settle", reason="x")
    with pytest.raises(ValidationFailed, match="no payment on our side to return"):
        request_resolution(actor=ops, exception=items[stranger], resolution="return", reason="x")
    settled = items[payments["returned_by_file"].reference]
    with pytest.raises(ValidationFailed, match="only a sent payment can be force-settled"):
        request_resolution(actor=ops, exception=settled, resolution="force_settle", reason="x")
    with pytest.raises(ValidationFailed, match="reason"):
        request_resolution(actor=ops, exception=settled, resolution="return", reason=" ")
    assert {item.status for item in items.values()} == {ExceptionStatus.OPEN}


def test_a_payment_that_moved_meanwhile_makes_the_approval_fail_and_a_rejection_reopens(bank, ops):
    def plant(rows, payments):
        rows[payments["returned_by_file"].reference][7:9] = ["RETURNED", "AC04"]

    payments, items = exceptions_of(bank, ops, plant)
    item = items[payments["returned_by_file"].reference]
    first = request_resolution(actor=ops, exception=item, resolution="return", reason="Returned")
    reject_request(actor=bank.checker, request_id=first.pk, reason="Check with the beneficiary bank first")
    item.refresh_from_db()
    assert item.status == ExceptionStatus.OPEN

    second = request_resolution(actor=ops, exception=item, resolution="return", reason="Confirmed")
    from ..actions import record_return

    record_return(payment=payments["returned_by_file"], code="AC04", reason="Account closed")
    with pytest.raises(ValidationFailed, match="only a sent or settled"):
        approve_request(actor=bank.checker, request_id=second.pk)
    second.refresh_from_db()
    assert second.status == "failed"
    account = fresh(payments["account"])
    assert account.balance == 50_000_00 - 3_000_00 - 5_000_00


def test_the_management_commands(bank, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from ..models import Payment

    def run(*args):
        out = StringIO()
        call_command(*args, stdout=out)
        return out.getvalue()

    account = bank.account(balance=50_000_00)
    assert "No NEFT payment" in run("run_neft_batch")
    pay(account, 1_000_00)
    output = run("run_neft_batch")
    assert "1 settled" in output and "1 matched, 0 exceptions" in output
    output = run("simulate_inbound", "--rail", "IMPS", "--amount", "250.50", "--account", account.number)
    inbound = Payment.objects.get(direction="inward")
    assert inbound.amount == 250_50 and inbound.status == PaymentStatus.SETTLED and len(inbound.reference) == 12
    assert inbound.reference in output
    neft = run("simulate_inbound", "--rail", "NEFT", "--amount", "10", "--account", "99999999999")
    assert "returned" in neft.lower()
    assert Payment.objects.filter(direction="inward", rail="NEFT", reference__startswith="HDFC").count() == 1
    path = tmp_path / "settlement.csv"
    path.write_text(",".join(SETTLEMENT_COLUMNS) + "\nCBSBN26001999996,2026-01-01,1,A,B,C,10.00,SETTLED,\nbad\n")
    output = run("reconcile_settlement", str(path))
    assert "0 matched, 1 exceptions" in output and "line 3:" in output
    ifsc = tmp_path / "ifsc.csv"
    ifsc.write_text("ifsc,bank,branch,city\nYESB0000001,Yes Bank,Fort,Mumbai\nBAD,Bank,Branch,City\n")
    output = run("load_ifsc", str(ifsc))
    assert "1 added" in output and "line 3:" in output
    assert "Expired 0" in run("expire_collect_requests")
