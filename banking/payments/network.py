"""The clearing network adapter: the one interface between the bank and the
outside world (other banks, RBI's NEFT and RTGS, NPCI's IMPS and UPI).

The payment rules (actions.py) speak only to `network()`: they hand it payments and
act on the answers it gives. A real gateway implements the same three methods and
is named in the `CBS_CLEARING_NETWORK` setting; nothing else changes.

- `submit(payment)`: for RTGS, IMPS and UPI the network answers at once with an
  `Answer` (settled, or returned/failed with a reason code). For NEFT it answers
  None: the payment waits for the next half-hourly batch.
- `settle_neft_batch(payments, batch)`: the network's answer for each payment in a
  NEFT cycle, as a list of `Answer` in the same order.
- `settlement_file(batch, answers)`: the settlement file (CSV text) the network
  sends for a cycle; reconciliation reads it.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Answer:
    settled: bool
    code: str = ""
    reason: str = ""

    @classmethod
    def ok(cls):
        return cls(True)

    @classmethod
    def returned(cls, code, reason):
        return cls(False, code, reason)


class ClearingNetwork:
    def submit(self, payment):
        raise NotImplementedError

    def settle_neft_batch(self, payments, batch):
        raise NotImplementedError

    def settlement_file(self, batch, payments, answers):
        raise NotImplementedError


_instance = None


def network():
    global _instance
    path = settings.CBS_CLEARING_NETWORK
    if _instance is None or _instance.__class__.__module__ + "." + _instance.__class__.__name__ != path:
        _instance = import_string(path)()
    return _instance
