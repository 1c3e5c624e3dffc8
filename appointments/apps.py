from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    default = True
    name = "appointments"
    verbose_name = _("Afspraken")
    default_auto_field = "django.db.models.BigAutoField"


class StaffAdminConfig(admin_apps.AdminConfig):
    """The Django admin with our own site: `admin.site` is a `StaffAdminSite`."""

    default = False
    default_site = "appointments.admin_site.StaffAdminSite"
