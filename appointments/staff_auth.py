"""Staff sign-in with two factors (placeholder; being written)."""

from django.contrib.auth.views import LoginView


def urls(site) -> list:
    return []


def login(request, *, site):
    return LoginView.as_view(
        template_name="admin/login.html", extra_context=site.each_context(request)
    )(request)
