"""Two identical payout batches sent at the same moment (same partner, same
Idempotency-Key) make one batch: the second waits on the key's unique index and
replays the first."""

import pytest

from banking.testing import run_together

from ..actions import submit_payout
from ..models import PayoutBatch, PayoutItem
from .factories import make_partner_bank
from .test_payouts import item


@pytest.mark.django_db(transaction=True)
def test_two_identical_batches_at_once_make_one():
    pb = make_partner_bank()
    key, _token = pb.partner()
    items = [item("A"), item("B")]

    def send():
        return submit_payout(partner=key.partner, key=key, idempotency_key="same", items=items)

    results, errors = run_together(send, send)
    assert errors == []
    assert sorted(replayed for _batch, replayed in results) == [False, True]
    assert len({batch.pk for batch, _ in results}) == 1
    assert PayoutBatch.objects.count() == 1 and PayoutItem.objects.count() == 2
