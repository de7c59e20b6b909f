"""Teller actions: the vault, the tills and the counter.

In modules named for the banking they do: `cash` (the boxes and their counts, which
the others share), `till` (a teller's day), `vault` (the branch's cash, and closing
it), `counter` (deposits, withdrawals, transfers, opening with cash, reversals) and
`cheques` (cheque books). Everything public is imported from here.

Design overview
- Cash has two records that move together in one transaction: the count of notes
  and coins in a `CashBox` (with a `CashMovement` for every change) and the box's
  cash GL (through `post_entry`, the only way money moves). So a box's count is
  always worth its GL balance.
- Locks: the cash boxes an action touches, FOR UPDATE in id order, then (inside
  `post_entry`) the ledger accounts in id order. Every action takes them in that
  order, so two actions never wait on each other in a circle. A teller's own
  actions queue on their till's row, which also makes a double-pressed Enter
  harmless: the second request waits, then finds the first one's work done.
- The vault and the tills (maker-checker): a teller asks for cash from the vault
  or returns cash to it (`request_cash_from_vault`, `request_cash_return`), and
  the head teller's approval moves the notes (`carry_out_vault_transfer`).
- A till's day: `open_till` with a count that must equal what the vault issued;
  `close_till` with a count compared against the expected position, posting any
  shortage or excess to teller suspense (1902) and flagging it; the head teller's
  sign-off (`sign_off_till`) returns the till's cash to the vault. `close_branch`
  closes a branch's cash for the date once every till is signed off and empty.
- The counter: a cash deposit or withdrawal (`take_cash_deposit`,
  `pay_cash_withdrawal`) is one transaction: lock the teller's till, give back the
  transaction a form's token already made, check the inputs, then within the
  teller's cash limit count the notes into (out of) the till, post the entry
  through `post_entry`, record the counter transaction and its audit event; above
  the limit the transaction waits for a supervisor (`post_approved_transaction`).
  The ledger's rules are the ledger's: this module checks what the teller should
  hear first (the account's status, the notes, the PAN) and leaves the balance
  rules to the posting.
- On a bank holiday (banking.ledger.holidays) the counters and cheque work are
  closed: no till opens and no cash comes from the vault, and the counter's and the
  cheque books' actions refuse in words (`refuse_on_holiday`).
- Every refusal is a BankingError in the teller's words, raised before anything
  is written (or inside the transaction, which then leaves nothing behind).
- Every change writes a `teller.*` audit event in the same transaction.

Errors: ValidationFailed (a count that does not match, a till in the wrong state),
InsufficientFunds (a box does not hold the notes asked of it), NotPermitted, and
whatever `post_entry` refuses.
"""

from .cash import (  # noqa: F401 the package's actions, re-exported
    CASH_OVER_LIMIT,
    COUNTER_REVERSAL,
    TILL_CLOSE,
    TILL_KINDS,
    VAULT_ISSUE,
    VAULT_RETURN,
    ensure_till,
    ensure_vault,
    find_till,
    record_till_cash,
    refuse_on_holiday,
    today,
)
from .cheques import (  # noqa: F401 the package's actions, re-exported
    CHEQUE_BOOK_SIZES,
    cancel_cheque,
    issue_cheque_book,
    next_cheque_number,
    stop_cheques,
)
from .counter import (  # noqa: F401 the package's actions, re-exported
    KIND_VERB,
    PAN_THRESHOLD,
    may_ask_reversal,
    open_approved_account_at_counter,
    pay_cash_withdrawal,
    post_approved_transaction,
    request_opening_with_cash,
    request_reversal,
    reverse_approved_transaction,
    take_cash_deposit,
    transfer_at_counter,
)
from .till import (  # noqa: F401 the package's actions, re-exported
    close_till,
    current_day,
    open_till,
    require_open_till,
    sign_off_till,
)
from .vault import (  # noqa: F401 the package's actions, re-exported
    branch_close_problems,
    carry_out_vault_transfer,
    close_branch,
    fund_vault,
    pay_out_of_vault,
    request_cash_from_vault,
    request_cash_return,
)

__all__ = [
    "CASH_OVER_LIMIT",
    "CHEQUE_BOOK_SIZES",
    "COUNTER_REVERSAL",
    "KIND_VERB",
    "PAN_THRESHOLD",
    "TILL_CLOSE",
    "TILL_KINDS",
    "VAULT_ISSUE",
    "VAULT_RETURN",
    "branch_close_problems",
    "cancel_cheque",
    "carry_out_vault_transfer",
    "close_branch",
    "close_till",
    "current_day",
    "ensure_till",
    "ensure_vault",
    "find_till",
    "fund_vault",
    "issue_cheque_book",
    "may_ask_reversal",
    "next_cheque_number",
    "open_approved_account_at_counter",
    "open_till",
    "pay_cash_withdrawal",
    "pay_out_of_vault",
    "post_approved_transaction",
    "record_till_cash",
    "refuse_on_holiday",
    "request_cash_from_vault",
    "request_cash_return",
    "request_opening_with_cash",
    "request_reversal",
    "require_open_till",
    "reverse_approved_transaction",
    "sign_off_till",
    "stop_cheques",
    "take_cash_deposit",
    "today",
    "transfer_at_counter",
]
