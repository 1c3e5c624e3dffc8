"""URLs: the client pages at the root, the staff admin under /beheer/."""

from django.contrib import admin
from django.urls import include, path

from appointments import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("beheer/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("appointments.urls")),
]

# Friendly, bilingual error pages; the 500 page needs no database.
handler400 = "appointments.views.bad_request"
handler404 = "appointments.views.page_not_found"
handler500 = "appointments.views.server_error"
