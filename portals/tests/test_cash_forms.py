"""The counter's cash forms share their fields instead of copying them: the token
from the forms every portal shares, the account and amount from one base."""

from portals.forms import TokenForm
from portals.teller.cash_forms import CashForm, DepositForm, TransferForm, WithdrawalForm


def test_the_cash_forms_carry_the_shared_token():
    assert issubclass(CashForm, TokenForm) and issubclass(TransferForm, TokenForm)
    for form_class in (DepositForm, WithdrawalForm, TransferForm):
        form = form_class(data={})
        assert not form.is_valid()
        assert form.errors["idempotency_key"] == ["This form has no token; reload the page and enter it again."]
        assert form_class().initial["idempotency_key"]


def test_deposit_and_withdrawal_declare_the_account_and_amount_once():
    for name in ("account", "amount"):
        assert DepositForm.base_fields[name] is WithdrawalForm.base_fields[name]


def test_the_fields_keep_their_names_and_ids():
    page = str(DepositForm()) + str(WithdrawalForm())
    for name in ("account", "amount", "idempotency_key", "n500", "coins"):
        assert f'name="{name}"' in page and f'id="id_{name}"' in page
    assert 'accesskey="a"' in page and 'accesskey="m"' in page and 'data-cbs-amount' in page
