from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from banking.audit.middleware import client_ip


class BankAccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: staff are created by administrators and
    customers are enabled for internet banking by a teller."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        return reverse("portals:home")

    def get_client_ip(self, request):
        """The sign-in rate limits count per client, as the audit trail records it:
        behind the bank's proxy that is the proxy's own X-Forwarded-For entry, so
        one script cannot lock out every sign-in that shares the proxy."""
        ip = client_ip(request)
        if not ip:
            raise PermissionDenied("The client's address is unknown.")
        return ip
