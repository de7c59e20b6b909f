"""The ATM simulator's terminal: it builds a terminal's messages, signs them with the
terminal's key and sends them through the switch's real API door.

How a message reaches the switch: an internal request through Django's own request
handler (`BaseHandler.get_response`), in this process, on this thread. The request
carries the terminal's `X-Terminal-Id` and `X-Signature` over the exact body and
goes through the same middleware, URL, authentication (the HMAC check), policy and
view that a terminal's HTTP request goes through, so what the simulator shows is what
a terminal would get. Why not an HTTP call to the same server: under gunicorn with
one sync worker (or while every worker is busy), the worker that runs the simulator
waits for itself and times out; in tests there is no server at all; and the server
would need to know its own address and certificate. The internal request works the
same under runserver, gunicorn and the test client. It does not send Django's
request_started/request_finished signals (WSGIHandler sends those), so the outer
request's database connection is not closed under it.

The PIN travels as an ISO 9564 format 0 PIN block (banking.cards.numbers.pin_block),
as a terminal sends it. The card number is read from the card (decrypted) only to
build the message; it is never shown or logged here.
"""

import io
import json
import secrets
import sys

from django.core.handlers.base import BaseHandler
from django.core.handlers.wsgi import WSGIRequest
from django.urls import reverse
from django.utils import timezone

from banking.cards.numbers import pin_block
from banking.cards.switch import rupees, sign

_handler = None


def _api_handler():
    global _handler  # noqa: PLW0603 - one handler per process, built on first use as WSGIHandler's is
    if _handler is None:
        handler = BaseHandler()
        handler.load_middleware()
        _handler = handler
    return _handler


def send(request, terminal, message):
    """POST `message` signed as `terminal` to the switch's API; returns (HTTP status,
    the answer as a dict)."""
    body = json.dumps(message).encode()
    host = request.get_host()
    name, _, port = host.partition(":")
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": reverse("api:atm-messages"),
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": name,
        "SERVER_PORT": port or ("443" if request.is_secure() else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "REMOTE_ADDR": request.META.get("REMOTE_ADDR", "127.0.0.1"),
        "HTTP_USER_AGENT": "CBS ATM simulator",
        "HTTP_X_TERMINAL_ID": terminal.terminal_id,
        "HTTP_X_SIGNATURE": sign(terminal.key, body),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https" if request.is_secure() else "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    response = _api_handler().get_response(WSGIRequest(environ))
    try:
        answer = json.loads(response.content)
    except ValueError:
        answer = {}
    return response.status_code, answer if isinstance(answer, dict) else {}


def new_stan():
    return f"{secrets.randbelow(10 ** 6):06d}"


def local_time():
    return timezone.localtime().isoformat(timespec="seconds")


def request_message(terminal, card, *, code, pin, amount=None, stan=None):
    """A 0200 for `card` at `terminal`: processing code 01 (withdrawal, `amount` in
    paise), 31 (balance enquiry) or 38 (mini statement)."""
    number = card.number
    message = {"mti": "0200", "processing_code": code, "stan": stan or new_stan(),
               "terminal_id": terminal.terminal_id, "card_number": number, "pin_block": pin_block(pin, number),
               "local_time": local_time()}
    if code == "01":
        message["amount"] = rupees(amount)
    return message


def reversal_of(withdrawal, *, dispensed):
    """The 0420 for a withdrawal the terminal dispensed `dispensed` paise of."""
    message = {name: withdrawal[name] for name in ("stan", "terminal_id", "card_number", "amount", "local_time")}
    return {"mti": "0420", **message, "processing_code": "01", "dispensed_amount": rupees(dispensed)}


def heartbeat(terminal):
    return {"mti": "0800", "terminal_id": terminal.terminal_id, "local_time": local_time()}
