from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from portals import credentials


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico whatever the page links; the file's address is
    found per request, as the production storage hashes it at collectstatic."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("img/favicon.ico")


admin.site.site_header = "CBS Bank administration"
admin.site.site_title = "CBS Bank"
# The admin signs in through allauth, so the administrator passes MFA like everyone else.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("portals.urls")),
    # Ahead of allauth's own page at the same address: ends setting up sign-in.
    path("accounts/2fa/recovery-codes/", credentials.recovery_codes, name="mfa_view_recovery_codes"),
    path("accounts/", include("allauth.urls")),
    path("favicon.ico", FaviconView.as_view()),
    path("teller/", include("portals.teller.urls")),
    path("supervisor/", include("portals.supervisor.urls")),
    path("banking/", include("portals.customer.urls")),
    path("ops/", include("portals.operations.urls")),
    path("api/v1/", include("portals.api.urls")),
    path("admin/", admin.site.urls),
]

handler400 = "portals.views.error_400"
handler403 = "portals.views.error_403"
handler404 = "portals.views.error_404"
handler500 = "portals.views.error_500"
