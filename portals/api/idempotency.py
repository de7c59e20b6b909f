"""`Idempotency-Key` for the API's money-moving POSTs (payments, collect requests,
partner payouts).

    @api_customer
    @api_view(["POST"])
    def payments(request):
        key = idempotency_key(request)                  # 400 when missing or malformed
        data = validate(...)                              # bad input: nothing kept
        return run_once(request, key, owner=f"user:{request.user.pk}", work=lambda keep: ...)

`run_once`, in one transaction:
1. takes a transaction-scoped advisory lock on (owner, key) without waiting: a request
   with the same key still running holds it, so this one answers 409
   `request_in_progress`;
2. finds the kept answer of the same key (younger than CBS_IDEMPOTENCY_TTL; 1 and 2 are
   one statement, the idempotency app's cbs_claim_idempotency_key): same body →
   that answer again, same status, with `Idempotent-Replayed: true`; another body → 422
   `idempotency_key_reused`;
3. else runs `work(keep)` (which returns a Response) and keeps its answer in the same
   transaction as whatever `work` wrote. A refusal (4xx) is kept too: the same request
   would be refused again. A 5xx is not kept, and its writes are rolled back.
   `keep(response)` gives work the answer's row as a rider (banking.core.db), to be
   written in the statement of work's own posting (a payment within the bank): work
   then returns that very response, and run_once writes no row of its own.

Because the answer commits with the payment, a request killed after its commit is
replayed by the retry, and one killed before it left nothing behind.
"""

import hashlib
import json
import re

from django.db import connection, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response

from banking.core.db import execute_prepared, insert_rider
from banking.core.errors import BankingError
from banking.idempotency.models import IdempotentRequest, expires_before

from .problems import ApiProblem, banking_code, problem

HEADER = "Idempotency-Key"
KEY = re.compile(r"[\x21-\x7e]{1,64}")  # 1-64 printable ASCII characters, no spaces

KEY_PARAMETER = OpenApiParameter(HEADER, str, location=OpenApiParameter.HEADER, required=True,
                                 description="1–64 printable characters, unique per payment; the same key and body "
                                             "within 24 hours replays the first answer.")


def idempotency_key(request):
    """The request's key, or a 400 problem."""
    key = request.headers.get(HEADER)
    if key is None:
        raise ApiProblem(400, "idempotency_key_required", f"Send an {HEADER} header (1–64 characters) so that a "
                                                          "retry never pays twice.")
    if not KEY.fullmatch(key):
        raise ApiProblem(400, "idempotency_key_invalid", f"The {HEADER} must be 1–64 printable characters "
                                                         "without spaces.")
    return key


def request_hash(request, data):
    """What makes two requests "the same": method, path and the parsed body."""
    canonical = json.dumps({"m": request.method, "p": request.path, "b": data}, sort_keys=True, default=str,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_CLAIM_SQL = ("SELECT claimed, request_hash, status_code, body"
              " FROM cbs_claim_idempotency_key(%s::bigint, %s::text, %s::text, %s::timestamptz)")
_BODY = IdempotentRequest._meta.get_field("body")


def _lock_id(owner, key):
    return int.from_bytes(hashlib.sha256(f"{owner}\x00{key}".encode()).digest()[:8], "big", signed=True)


def _replay(status, body):
    response = Response(body, status=status, content_type="application/problem+json" if status >= 400 else None)
    response["Idempotent-Replayed"] = "true"
    return response


def run_once(request, key, *, owner, data, work):
    """Answer the request once for (owner, key); see the module's docstring."""
    digest = request_hash(request, data)
    with transaction.atomic():
        # The lock, the expired answer forgotten and the kept one read: one statement.
        ((claimed, kept_hash, kept_status, kept_body),) = execute_prepared(
            _CLAIM_SQL, [_lock_id(owner, key), owner, key, expires_before()])
        if not claimed:
            return problem(409, "request_in_progress", "A request with this Idempotency-Key is still running; "
                                                       "retry it in a moment.", headers={"Retry-After": "1"})
        if kept_hash is not None:
            if kept_hash != digest:
                return problem(422, "idempotency_key_reused", "This Idempotency-Key was used for another request "
                                                              "in the last 24 hours; nothing was done. Use a new "
                                                              "key for a new request.")
            return _replay(kept_status, _BODY.from_db_value(kept_body, None, connection))
        ridden = []

        def keep(response):
            ridden.append(response)
            return insert_rider(_answer(request, owner, key, digest, response), created_at="now()")

        try:
            with transaction.atomic():
                response = work(keep)
        except ApiProblem as error:
            response = problem(error.status_code, error.code, error.problem_detail, errors=error.errors)
        except BankingError as error:
            response = problem(422, banking_code(error), str(error))
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        if not any(response is answer for answer in ridden):
            _answer(request, owner, key, digest, response).save(force_insert=True)
        return response


def _answer(request, owner, key, digest, response):
    return IdempotentRequest(owner=owner, key=key, method=request.method, path=request.path[:200],
                             request_hash=digest, status_code=response.status_code, body=response.data)

