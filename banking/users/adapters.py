from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse


class BankAccountAdapter(DefaultAccountAdapter):
    """Nobody signs themselves up: staff are created by administrators and
    customers are enabled for internet banking by a teller."""

    def is_open_for_signup(self, request):
        return False

    def get_login_redirect_url(self, request):
        return reverse("portals:home")
