from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from banking.users.roles import ROLE_HOME

from .policies import public, signed_in


@require_GET
@signed_in
def home(request):
    """Send each person to their role's portal."""
    role = request.user.role
    if role is None:
        return render(request, "portals/no_role.html", status=403)
    return redirect(reverse(ROLE_HOME[role]))


@require_GET
@public("Load balancers check it before any session exists.")
def healthz(request):
    from django.http import JsonResponse

    return JsonResponse({"status": "ok"})


def csrf_failure(request, reason=""):
    """A form that expired or was tampered with: nothing was changed."""
    messages.error(request, "This form had expired or was changed in transit, so nothing was saved. Please try again.")
    return render(request, "403_csrf.html", status=403)


def error_400(request, exception=None):
    """A request the bank could not read (a NUL character, a garbled form): nothing
    was changed. Drawn without context processors, like the 500 page: it may answer
    before the session or the user is known."""
    from django.http import HttpResponseBadRequest
    from django.template import loader

    return HttpResponseBadRequest(loader.get_template("400.html").render({"bank_name": "CBS Bank"}))


def error_403(request, exception=None):
    return render(request, "403.html", status=403)


def error_404(request, exception=None):
    return render(request, "404.html", status=404)


def error_500(request):
    # No context processors: the database may be why we are here.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("500.html").render({"bank_name": "CBS Bank"}))
