from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portals import policies
from portals.shared.requests import render_my_requests


@require_GET
@policies.teller
def home(request):
    return render(request, "portals/teller/home.html")


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def my_requests(request):
    """What this teller sent for approval, and how each was decided."""
    return render_my_requests(request)
