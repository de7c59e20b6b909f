"""How large a request body each page may receive, refused before anything reads it.

Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only against the fields it has parsed, and
a multipart body's files are read in full (by the CSRF check, among others) before any
form can say a file is too large. This middleware sits near the top of MIDDLEWARE and
answers 413 from the Content-Length header alone when it exceeds what the page can
legitimately take:

- the settlement and IFSC directory uploads: one file of at most
  banking.payments.reconciliation.MAX_FILE_BYTES (20 MB);
- the KYC steps: at most banking.customers.models.MAX_UPLOAD_BYTES (5 MB) per proof,
  as many proofs as the step with the most (identity: photograph, signature, proof);
- every other page: DATA_UPLOAD_MAX_MEMORY_SIZE.

Uploads also get DATA_UPLOAD_MAX_MEMORY_SIZE on top for the form's other fields and
the multipart framing, so a file just over its own limit still reaches the form and
is refused there in words. A body sent without Content-Length (chunked) is not read
by Django at all; nginx's client_max_body_size bounds it (deploy/nginx/cbs-site.conf).
"""

import functools

from django.conf import settings
from django.http import HttpResponse
from django.urls import Resolver404, resolve

from banking.customers.models import MAX_UPLOAD_BYTES
from banking.payments.reconciliation import MAX_FILE_BYTES

MB = 1024 * 1024


@functools.cache
def _upload_limits():
    from portals.teller.customer_views import STEPS

    proofs_per_step = max(len(step.uploads) for step in STEPS)
    return {
        "ops:reconciliations": (MAX_FILE_BYTES, f"a settlement file may be at most {MAX_FILE_BYTES // MB} MB"),
        "ops:ifsc-directory": (MAX_FILE_BYTES, f"a directory file may be at most {MAX_FILE_BYTES // MB} MB"),
        "teller:kyc-step": (proofs_per_step * MAX_UPLOAD_BYTES,
                            f"each proof may be at most {MAX_UPLOAD_BYTES // MB} MB"),
    }


def claimed_length(meta):
    """The body's length as the client states it; Django reads nothing when it is
    missing or malformed, and neither do we refuse it."""
    try:
        return max(int(meta.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def limit_for(path):
    """(bytes, the upload rule in words or None) for the page at `path`."""
    try:
        files, rule = _upload_limits().get(resolve(path).view_name, (0, None))
    except Resolver404:
        files, rule = 0, None
    return files + settings.DATA_UPLOAD_MAX_MEMORY_SIZE, rule


class RequestSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = claimed_length(request.META)
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:  # the smallest limit: most requests stop here
            limit, rule = limit_for(request.path_info)
            if length > limit:
                return self.refuse(limit, rule)
        return self.get_response(request)

    @staticmethod
    def refuse(limit, rule):
        reason = f" ({rule})" if rule else ""
        text = (f"What you sent is larger than this page accepts: at most {limit / MB:.0f} MB in one go{reason}. "
                "Nothing was saved. Send a smaller file, or fewer at a time.")
        return HttpResponse(text, status=413, content_type="text/plain; charset=utf-8")
