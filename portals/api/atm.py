"""/api/v1/atm/messages/: the ATM switch's door (banking.cards.switch decides).

A terminal authenticates each message with `X-Terminal-Id` and `X-Signature`, the hex
HMAC-SHA256 of the raw body under the terminal's own key. A missing or wrong
signature, and a body naming another terminal than the header, are refused with a
401 problem before anything is read. Every message the switch reads gets a 200 with
the ISO 8583-style answer, a decline included (its `response_code` says which): a
terminal acts on the response code, not on the HTTP status.

The body is read here from the raw bytes that were signed, never re-serialised, so
the signature covers exactly what the switch reads.
"""

import json

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import api_view
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from banking.cards.switch import DO_NOT_HONOUR, TerminalRefused, _reply, authenticate_terminal, handle_message

from .policies import api_policy
from .problems import ApiProblem
from .schema import problem_responses

SCHEME = "HMAC-SHA256"


class TerminalCaller:
    """The caller of a switch request: a terminal, standing in for a user."""

    is_authenticated = True
    is_active = True
    is_staff = False
    pk = None  # not a user: the audit trail names the terminal (get_username)
    role = None

    def __init__(self, terminal):
        self.terminal = terminal
        self.username = f"atm:{terminal.terminal_id}"

    def get_username(self):
        return self.username

    def has_perm(self, perm, obj=None):
        return False

    def __str__(self):
        return self.username


class TerminalAuthentication(BaseAuthentication):
    def authenticate(self, request):
        terminal_id = request.headers.get("X-Terminal-Id")
        signature = request.headers.get("X-Signature")
        if not terminal_id and not signature:
            return None
        try:
            terminal = authenticate_terminal(terminal_id, signature, request._request.body)
        except TerminalRefused as refused:
            raise ApiProblem(401, refused.code, str(refused)) from None
        return TerminalCaller(terminal), terminal

    def authenticate_header(self, request):
        return SCHEME


class TerminalScheme(OpenApiAuthenticationExtension):
    target_class = "portals.api.atm.TerminalAuthentication"
    name = "terminalSignature"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-Signature",
                "description": "Hex HMAC-SHA256 of the raw body under the terminal's key, with X-Terminal-Id."}


class IsTerminal(BasePermission):
    message = "Only the bank's ATMs may send switch messages."

    def has_permission(self, request, view):
        return isinstance(request.user, TerminalCaller)


api_terminal = api_policy("api_terminal", authentication=[TerminalAuthentication], permissions=[IsTerminal])

WITHDRAWAL = {"mti": "0200", "processing_code": "01", "stan": "000123", "terminal_id": "ATM00001",
              "card_number": "6521501234567893", "pin_block": "0412AC9EDCBA9876", "amount": "2500.00",
              "local_time": "2026-12-07T10:15:00+05:30"}
APPROVED = {"mti": "0210", "processing_code": "01", "stan": "000123", "terminal_id": "ATM00001",
            "response_code": "00", "auth_code": "482913", "notes": {"500": 5}, "available_balance": "47500.00"}


@extend_schema(operation_id="atm_message", tags=["atm"], summary="An ATM's message to the switch (ISO 8583 style)",
               request={"application/json": {"type": "object"}},
               responses={(200, "application/json"): {"type": "object"}, **problem_responses(401)},
               examples=[OpenApiExample("Withdrawal", request_only=True, value=WITHDRAWAL),
                         OpenApiExample("Approved", response_only=True, status_codes=["200"], value=APPROVED)])
@api_terminal
@api_view(["POST"])
def messages(request):
    terminal = request.auth
    try:
        message = json.loads(request._request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return Response(_reply(None, DO_NOT_HONOUR, "The body is not valid JSON."))
    if isinstance(message, dict) and message.get("terminal_id") != terminal.terminal_id:
        raise ApiProblem(401, "terminal_mismatch", "The message names another terminal than the one that signed it.")
    return Response(handle_message(terminal=terminal, message=message))
