"""Domain errors. Views turn them into form errors or messages in the user's words."""


class BankingError(Exception):
    """Base of every refusal the bank gives. `str(error)` is fit to show a user."""

    default_message = "The bank could not complete this request."

    def __init__(self, message=None, **details):
        self.message = message or self.default_message
        self.details = details
        super().__init__(self.message)


class ValidationFailed(BankingError):
    default_message = "Some of the details are not valid."


class CurrencyMismatch(BankingError):
    default_message = "Amounts in different currencies cannot be combined."


class InvalidAmount(BankingError):
    default_message = "Enter an amount above zero, with at most two decimal places."


class InsufficientFunds(BankingError):
    default_message = "The account does not have enough available balance."


class LimitExceeded(BankingError):
    default_message = "The amount is over the limit."


class AccountFrozen(BankingError):
    default_message = "The account is frozen."


class AccountClosed(BankingError):
    default_message = "The account is closed."


class AccountNotPostable(BankingError):
    default_message = "Money cannot be posted to this account."


class UnbalancedEntry(BankingError):
    default_message = "Debits and credits must be equal."


class IdempotencyConflict(BankingError):
    default_message = "This request was already made with different details."


class AlreadyReversed(BankingError):
    default_message = "This entry has already been reversed."


class NotPermitted(BankingError):
    default_message = "You are not allowed to do this."


class StaleRequest(BankingError):
    default_message = "This request has already been decided or has expired."
