"""RFC 9457 problem details: every error the API gives.

A problem is `{"type", "title", "status", "detail", "code"}` served as
`application/problem+json`; validation failures add `errors`, by field. `code` is a
stable snake_case word that clients branch on; `detail` is for people.

The bank's refusals (`BankingError`) become 422 problems with the same words the web
site shows. Their code comes from the error's `code` detail when the action gives one
(`payee_cooling_period`), else from its class (`insufficient_funds`).
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from banking.core import errors as banking

PROBLEM = "application/problem+json"
TYPE_BASE = "https://bank.example/problems/"

TITLES = {
    400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    406: "Not acceptable", 409: "Conflict", 413: "Request too large", 415: "Unsupported media type",
    422: "Not accepted", 429: "Too many requests", 500: "Server error",
}

BANKING_CODES = [
    (banking.InsufficientFunds, "insufficient_funds"),
    (banking.LimitExceeded, "limit_exceeded"),
    (banking.InvalidAmount, "invalid_amount"),
    (banking.AccountFrozen, "account_frozen"),
    (banking.AccountClosed, "account_closed"),
    (banking.AccountNotPostable, "account_not_postable"),
    (banking.IdempotencyConflict, "idempotency_key_reused"),
    (banking.NotPermitted, "not_permitted"),
    (banking.StaleRequest, "stale_request"),
    (banking.ValidationFailed, "validation_failed"),
    (banking.BankingError, "refused"),
]


class ApiProblem(exceptions.APIException):
    """Raise to answer with a problem: `ApiProblem(422, "invalid_ifsc", "No bank branch has IFSC X.")`."""

    def __init__(self, status_code, code, detail, *, errors=None, headers=None):
        self.status_code, self.code, self.problem_detail = status_code, code, str(detail)
        self.errors, self.headers = errors, headers or {}
        super().__init__(detail=str(detail), code=code)


def problem(status_code, code, detail, *, errors=None, headers=None):
    body = {"type": TYPE_BASE + code.replace("_", "-"), "title": TITLES.get(status_code, "Error"),
            "status": status_code, "detail": str(detail), "code": code}
    if errors is not None:
        body["errors"] = errors
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM)


def banking_code(error):
    code = getattr(error, "details", {}).get("code")
    if code:
        return code
    return next(code for kind, code in BANKING_CODES if isinstance(error, kind))


def _flatten(detail):
    """DRF's nested error detail → {field: [messages]} and the first problem's code."""
    first = None
    errors = {}

    def walk(prefix, value):
        nonlocal first
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            if all(isinstance(item, exceptions.ErrorDetail) for item in value):
                for item in value:
                    walk(prefix, item)
            else:
                for index, inner in enumerate(value):
                    walk(f"{prefix}[{index}]", inner)
        else:
            field = prefix or api_settings.NON_FIELD_ERRORS_KEY
            errors.setdefault(field, []).append(str(value))
            if first is None:
                first = (field, getattr(value, "code", "invalid"), str(value))

    walk("", detail)
    return errors, first


def _validation_code(field, code):
    if code in ("invalid", "required", "null", "blank", "does_not_exist", "max_length", "min_length",
                "max_value", "min_value", "invalid_choice", "not_a_list", "empty", "max_string_length"):
        return f"{field}_{code}" if code != "invalid" else f"invalid_{field}"
    return code


def validation_problem(detail):
    errors, first = _flatten(detail)
    field, code, message = first or ("non_field_errors", "invalid", "The request is not valid.")
    if field == api_settings.NON_FIELD_ERRORS_KEY:
        stable = code if code not in ("invalid",) else "validation_failed"
    else:
        stable = _validation_code(field.split(".")[0].split("[")[0], code)
    detail_text = message if field == api_settings.NON_FIELD_ERRORS_KEY else f"{field}: {message}"
    return problem(422, stable, detail_text, errors=errors)


def exception_handler(exc, context):
    """REST framework's EXCEPTION_HANDLER: every error as a problem."""
    if isinstance(exc, ApiProblem):
        return problem(exc.status_code, exc.code, exc.problem_detail, errors=exc.errors, headers=exc.headers)
    if isinstance(exc, banking.BankingError):
        return problem(422, banking_code(exc), str(exc))
    if isinstance(exc, Http404):
        return problem(404, "not_found", "There is nothing here with that id.")
    if isinstance(exc, DjangoPermissionDenied):
        return problem(403, "forbidden", "You may not do this.")
    if isinstance(exc, exceptions.ValidationError):
        return validation_problem(exc.detail)
    if isinstance(exc, exceptions.Throttled):
        wait = max(int(exc.wait or 1), 1)
        return problem(429, "rate_limited", f"Too many requests: try again in {wait} seconds.",
                       headers={"Retry-After": str(wait)})
    if isinstance(exc, exceptions.NotAuthenticated):
        return _auth_problem(context, 401, "not_authenticated", "Sign in first: send an access token.")
    if isinstance(exc, exceptions.AuthenticationFailed):
        code = exc.get_codes()
        code = code if isinstance(code, str) else "token_not_valid"
        if code in ("token_not_valid", "bad_authorization_header", "user_not_found", "user_inactive",
                    "no_active_account", "authentication_failed"):
            code = "token_not_valid" if code != "authentication_failed" else code
        return _auth_problem(context, 401, code, _auth_detail(exc))
    if isinstance(exc, exceptions.ParseError):
        return problem(400, "malformed_json", "The body is not valid JSON.")
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return problem(415, "unsupported_media_type", "Send the body as application/json.")
    if isinstance(exc, exceptions.NotAcceptable):
        return problem(406, "not_acceptable", "This API answers only in JSON.")
    if isinstance(exc, exceptions.MethodNotAllowed):
        return problem(405, "method_not_allowed", f"{exc.detail}")
    if isinstance(exc, exceptions.PermissionDenied):
        code = exc.get_codes()
        return problem(403, code if isinstance(code, str) and code != "permission_denied" else "forbidden",
                       str(exc.detail))
    if isinstance(exc, exceptions.NotFound):
        return problem(404, "not_found", "There is nothing here with that id.")
    if isinstance(exc, exceptions.APIException):
        code = exc.get_codes()
        return problem(exc.status_code, code if isinstance(code, str) else "error", str(exc.detail))
    return None


def _auth_detail(exc):
    detail = exc.detail
    if isinstance(detail, dict):
        return str(detail.get("detail", "The token is not valid."))
    return str(detail)


def _auth_problem(context, status_code, code, detail):
    response = problem(status_code, code, detail)
    view = context.get("view")
    header = view.get_authenticate_header(context["request"]) if view is not None else None
    if header:
        response["WWW-Authenticate"] = header
    return response


def not_found_response():
    return problem(status.HTTP_404_NOT_FOUND, "not_found", "There is nothing at this address.")
