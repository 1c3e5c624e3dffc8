"""The staff site under /beheer/: the Django admin behind two factors, plus staff pages.

No admin page shows anything to a session that has not passed the second factor:
`has_permission` asks `user.is_verified()` (django-otp), and every admin view,
staff page and export goes through `admin_view`, which asks `has_permission`.
Signing in, enrolling a device and the backup codes live in `staff_auth.py`;
the day agenda, booking on behalf, export and dashboard in `staff_views.py`.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


class StaffAdminSite(admin.AdminSite):
    site_header = _("Spreekuur — beheer")
    site_title = _("Spreekuur beheer")
    index_title = _("Beheer")
    enable_nav_sidebar = True

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(
            user.is_active and user.is_staff and getattr(user, "is_verified", lambda: False)()
        )

    def get_urls(self):
        from . import staff_auth, staff_views

        return [
            *staff_auth.urls(self),
            *staff_views.urls(self),
            *super().get_urls(),
        ]

    def login(self, request, extra_context=None):
        from . import staff_auth

        return staff_auth.login(request, site=self)
