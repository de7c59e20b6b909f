from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portals import policies
from portals.shared.requests import render_my_requests

from .counter_views import counter_context


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def home(request):
    """The counter: quick keys to the cash screens, the branch's transactions as they
    post (the feed polls every 3 seconds) and the teller's till beside them."""
    template = "portals/teller/home.html"
    if request.htmx:
        template += "#counter-live"
    return render(request, template, counter_context(request.user))


@require_GET
@policies.teller
@vary_on_headers("HX-Request")
def my_requests(request):
    """What this teller sent for approval, and how each was decided."""
    return render_my_requests(request)
