import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from portals import policies
from portals.checks import check_view_policies


def undecorated(request):
    return HttpResponse("open")


undecorated.__module__ = "portals.fake"


@policies.signed_in
def decorated(request):
    return HttpResponse("ok")


decorated.__module__ = "portals.fake"

urlpatterns = [path("bare/", undecorated), path("guarded/", decorated)]


@override_settings(ROOT_URLCONF=__name__)
def test_check_fails_a_portal_view_without_policy():
    errors = check_view_policies()
    assert [e.id for e in errors] == ["portals.E001"]
    assert "undecorated" in errors[0].msg


def test_check_passes_the_real_urlconf():
    assert check_view_policies() == []


def test_a_second_policy_is_refused():
    with pytest.raises(ImproperlyConfigured):
        policies.teller(decorated)


def test_public_needs_a_reason():
    with pytest.raises(ImproperlyConfigured):
        policies.public("")
