"""Views of the API that belong to no resource: a ping, the schema and its docs, and
the JSON 404 for any other address under /api/v1/.

The docs pages are Swagger UI and Redoc from drf-spectacular-sidecar (no CDN), started
by static/js/api-docs.js under the site's CSP nonce. Redoc writes its styles into
<style> elements at run time, so its page alone allows inline styles (scripts keep the
nonce rule); the Swagger UI page keeps the site's policy as it is.
"""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from portals import policies

from .policies import api_customer, api_public
from .problems import not_found_response
from .schema import problem_responses


@extend_schema(operation_id="ping", tags=["meta"], summary="The API is up and the token is good",
               responses={200: inline_serializer("Ping", {"ok": serializers.BooleanField()}),
                          **problem_responses(401, 403)},
               examples=[OpenApiExample("Up", response_only=True, status_codes=["200"], value={"ok": True})])
@api_customer
@api_view(["GET"])
def ping(request):
    """The smallest authenticated view: the benchmark's yardstick."""
    return Response({"ok": True})


schema = api_public("The API's contract is public, as its docs are.")(SpectacularAPIView.as_view())


@require_GET
@policies.public("The API's docs describe a public contract.")
def docs(request):
    return render(request, "portals/api/docs.html", {"schema_url": reverse("api:schema"), "kind": "swagger"})


@require_GET
@policies.public("The API's docs describe a public contract.")
@csp_override({**settings.SECURE_CSP, "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
               "worker-src": [CSP.SELF, "blob:"]})
def redoc(request):
    return render(request, "portals/api/docs.html", {"schema_url": reverse("api:schema"), "kind": "redoc"})


@extend_schema(exclude=True)
@api_public("There is nothing at this address: say so in JSON.")
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request, rest=""):
    return not_found_response()
