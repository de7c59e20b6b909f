"""The authenticator code that confirms a customer's sensitive steps: the one check
is banking.users.authenticator's."""

from banking.users.authenticator import WRONG_CODE, code_problem

__all__ = ["WRONG_CODE", "code_problem"]
