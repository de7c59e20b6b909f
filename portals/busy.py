"""The bank is busy: a request the database gave up on is answered "try again".

When a statement waits past lock_timeout or runs past statement_timeout, or a
deadlock or serialization failure outlasts `retrying` (banking.core.timeouts), the
view's transaction has already been rolled back: nothing was saved. The person is
told so and asked to try again, with status 503 and a Retry-After header, instead
of a server error. An HTMX request gets the message as a toast (HX-Trigger
showMessage) and leaves the page as it was, so the form keeps what was typed.
"""

from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpResponse
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import reswap, trigger_client_event

from banking.core.timeouts import BUSY_MESSAGE, is_busy

RETRY_AFTER_SECONDS = 5


class BankBusyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not is_busy(exception):
            return None
        connection = connections[DEFAULT_DB_ALIAS]
        if not connection.in_atomic_block:
            # A session closed for idling in its transaction is gone: the next
            # query (the request's audit event) must open a new one.
            connection.close_if_unusable_or_obsolete()
        if getattr(request, "htmx", False):
            response = HttpResponse(status=503)
            trigger_client_event(response, "showMessage", {"value": BUSY_MESSAGE, "level": "warning"})
            reswap(response, "none")
        else:
            # No context processors: they would ask the busy database again.
            response = HttpResponse(
                loader.get_template("503.html").render({"message": BUSY_MESSAGE, "back": _back(request)}),
                status=503,
            )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _back(request):
    """The page the request came from, to try again from, when it is this site's."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(referer, {request.get_host()}, request.is_secure()):
        return referer
    return "/"
