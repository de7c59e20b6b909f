"""Pieces of the OpenAPI description every API view uses."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

from .problems import TITLES

Problem = inline_serializer("Problem", {
    "type": serializers.CharField(), "title": serializers.CharField(), "status": serializers.IntegerField(),
    "detail": serializers.CharField(), "code": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False),
})

EXAMPLE_CODES = {400: "malformed_json", 401: "not_authenticated", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 406: "not_acceptable", 409: "request_in_progress",
                 415: "unsupported_media_type", 422: "validation_failed", 429: "rate_limited"}
PROBLEMS = (400, 401, 404, 405, 406, 415, 429)


def problem_responses(*codes):
    """Problem responses (application/problem+json) for `codes` and those every view
    may give, each with an example."""
    out = {}
    for status in sorted(set(codes) | set(PROBLEMS)):
        code = EXAMPLE_CODES.get(status, "error")
        out[(status, "application/problem+json")] = OpenApiResponse(
            Problem, description=TITLES.get(status, "Error"), examples=[OpenApiExample(
            code, response_only=True, status_codes=[str(status)],
            value={"type": f"https://bank.example/problems/{code.replace('_', '-')}", "title": TITLES.get(status),
                   "status": status, "detail": "What went wrong, in words.", "code": code})])
    return out
