from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "CBS Bank administration"
admin.site.site_title = "CBS Bank"
# The admin signs in through allauth, so the administrator passes MFA like everyone else.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", include("portals.urls")),
    path("accounts/", include("allauth.urls")),
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
