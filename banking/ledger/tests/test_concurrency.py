"""8 threads make 4,000 random transfers among 20 accounts on PostgreSQL.

Afterwards the total is conserved, no rule is breached, no request failed with a
deadlock or serialization error, and every balance equals the sum of its postings.
"""

import random
import threading
import uuid

import pytest
from django.db import connection
from django.db.models import Sum

from banking.core.errors import BankingError, InsufficientFunds
from banking.ledger.models import LedgerAccount, Posting

from .helpers import customer_account, transfer

THREADS = 8
TRANSFERS = 4000
ACCOUNTS = 20


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_transfers_conserve_money():
    accounts = [customer_account(random.randint(0, 50_000)) for _ in range(ACCOUNTS)]
    ids = [a.pk for a in accounts]
    total_before = LedgerAccount.objects.filter(pk__in=ids).aggregate(s=Sum("balance"))["s"]
    refused, posted, unexpected = [], [], []
    per_thread = TRANSFERS // THREADS

    def worker(seed):
        rng = random.Random(seed)
        try:
            for _ in range(per_thread):
                source, target = rng.sample(ids, 2)
                amount = rng.randint(1, 20_000)
                try:
                    transfer(source, target, amount, idempotency_key=uuid.uuid4().hex)
                    posted.append(1)
                except InsufficientFunds:
                    refused.append(1)
                except BankingError as error:  # any other refusal is a bug here
                    unexpected.append(repr(error))
                except Exception as error:  # deadlocks, serialization failures
                    unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert len(posted) + len(refused) == TRANSFERS
    assert refused, "the run should include refused transfers"
    assert posted
    total_after = LedgerAccount.objects.filter(pk__in=ids).aggregate(s=Sum("balance"))["s"]
    assert total_after == total_before
    for account in LedgerAccount.objects.filter(pk__in=ids):
        assert account.available >= account.min_balance
        assert account.balance >= 0
        signed = sum(account.signed(p.side, p.amount) for p in Posting.objects.filter(account=account))
        assert signed == account.balance
        last = Posting.objects.filter(account=account).order_by("-id").first()
        assert last is None or last.balance_after == account.balance


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("inside_a_transaction", [False, True])
def test_the_same_key_at_once_posts_once(inside_a_transaction):
    """A double-pressed button from several places at the same moment: one entry,
    and every caller gets it back, whether or not it posts inside a transaction of
    its own (as the counter does)."""
    from django.db import transaction

    source, target = customer_account(100_000), customer_account()
    key = uuid.uuid4().hex
    start = threading.Barrier(THREADS)
    entries, unexpected = [], []

    def worker():
        try:
            start.wait()
            if inside_a_transaction:
                with transaction.atomic():
                    entries.append(transfer(source, target, 1_000, idempotency_key=key).pk)
                    LedgerAccount.objects.filter(pk=source.pk).exists()  # the transaction is still usable
            else:
                entries.append(transfer(source, target, 1_000, idempotency_key=key).pk)
        except Exception as error:
            unexpected.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert unexpected == []
    assert len(entries) == THREADS and len(set(entries)) == 1
    source.refresh_from_db()
    assert source.balance == 99_000
    assert Posting.objects.filter(account=source).count() == 2  # the opening and the one transfer
