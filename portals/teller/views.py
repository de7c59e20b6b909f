from django.shortcuts import render
from django.views.decorators.http import require_GET

from portals import policies


@require_GET
@policies.teller
def home(request):
    return render(request, "portals/teller/home.html")
