"""The system check covers API views: one without a policy, or with a portal (session)
policy instead of an API policy, fails `manage.py check`."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from django.urls import path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from portals import policies
from portals.api.policies import api_customer, api_public
from portals.checks import check_view_policies


@api_view(["GET"])
def bare(request):
    return Response({})


@policies.customer
@api_view(["GET"])
def session_policy(request):
    return Response({})


@api_customer
@api_view(["GET"])
def guarded(request):
    return Response({})


for view in (bare, session_policy, guarded):
    view.__module__ = "portals.api.fake"

urlpatterns = [path("bare/", bare), path("session/", session_policy), path("guarded/", guarded)]


@override_settings(ROOT_URLCONF=__name__)
def test_check_fails_api_views_without_an_api_policy():
    errors = check_view_policies()
    assert sorted((e.id, "bare" in e.msg) for e in errors) == [("portals.E001", True), ("portals.E002", False)]


def test_an_api_policy_goes_above_api_view_and_only_once():
    def plain(request):
        return Response({})

    with pytest.raises(ImproperlyConfigured):
        api_customer(plain)
    with pytest.raises(ImproperlyConfigured):
        api_public("twice")(guarded)
    with pytest.raises(ImproperlyConfigured):
        api_public("")


@pytest.mark.django_db
def test_an_api_view_without_a_policy_serves_nobody(rf):
    response = bare(rf.get("/bare/"))
    assert response.status_code in (401, 403)
