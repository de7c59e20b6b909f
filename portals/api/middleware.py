"""Every answer under /api/ is JSON, and none is cached.

The middleware that run before a view (the request size limit, the NUL filter, the
bank-busy answer during end of day) and Django's own 500 page answer in HTML; under
/api/ this turns any such answer into a problem with the same status (and keeps its
Retry-After), and an exception no view handled into a 500 problem. API answers carry
`Cache-Control: no-store`: they hold balances and tokens.
"""

import json
import logging

from django.http import HttpResponse
from django.utils.cache import add_never_cache_headers

from .problems import PROBLEM, TITLES, TYPE_BASE

logger = logging.getLogger("django.request")
PREFIX = "/api/"
CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "request_too_large", 500: "server_error", 503: "bank_busy"}


def problem_response(status, code, detail):
    body = {"type": TYPE_BASE + code.replace("_", "-"), "title": TITLES.get(status, "Error"), "status": status,
            "detail": detail, "code": code}
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM)


class ApiJsonMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(PREFIX):
            return response
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and "json" not in content_type:
            replaced = problem_response(response.status_code, CODES.get(response.status_code, "error"),
                                        "The request could not be answered." if response.status_code != 503 else
                                        "The bank is busy for a moment; try again shortly.")
            if response.has_header("Retry-After"):
                replaced["Retry-After"] = response["Retry-After"]
            response = replaced
        add_never_cache_headers(response)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(PREFIX):
            return None
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return problem_response(500, "server_error", "Something went wrong at the bank; nothing is lost. Try again.")
