"""Requests no person sends, refused before any view runs.

A NUL character has no place in an address, a query string, a form field or a header
that a browser sends, and PostgreSQL cannot store one in a text column: a view that
looked it up answered with a server error. Such a request is answered 400 (the bank's
bad-request page) before any middleware after this one, or any view, reads it.

The form fields are those Django parses (URL-encoded and multipart, files excepted,
since a file may hold any bytes). This middleware comes after portals.limits, which
refuses an oversized body from its Content-Length before anything reads it.

Invalid UTF-8 needs nothing here: Django reads it in a path as a page that does not
exist (404) and in a query string or a form as the replacement character.
"""

from .views import error_400

NUL = "\x00"


def _carries_nul(request):
    if NUL in request.path:
        return True
    if any(NUL in value for name, value in request.META.items() if name.startswith("HTTP_") and isinstance(value, str)):
        return True
    for data in (request.GET, request.POST):
        for name, values in data.lists():
            if NUL in name or any(NUL in value for value in values):
                return True
    return False


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _carries_nul(request):
            return error_400(request)
        return self.get_response(request)
