"""Staff sign-in with two factors: a password, then a code from an authenticator app.

Public: `urls(site)`, the sign-in paths under the admin site, and
`login(request, site=...)`, which the site's own `login/` path calls.

The way through:

1. `login/` asks user name and password. Django's AuthenticationForm gets the
   request, so django-axes counts every failure and locks out after
   `AXES_FAILURE_LIMIT`. A correct password of an active staff account does *not*
   sign the user in: the session only remembers, for a short while, who passed
   step one. Until step two nothing in the project (admin, `staff_member_required`,
   a plain `is_authenticated`) sees a signed-in user.
2. `tweede-stap/` asks the 6-digit code of the user's confirmed TOTP device, or one
   of their backup codes. A right code signs the user in (`auth.login`) and marks
   the session verified (`django_otp.login`); only then does the admin open
   (`StaffAdminSite.has_permission` asks `is_verified()`). Wrong codes are slowed
   down by the device itself (django-otp doubles the wait after each one) and count
   as failed sign-ins for django-axes.
3. `inrichten/` is where a user without a confirmed TOTP device goes instead: a QR
   code and the secret to type in, and a code to prove the app works. Confirming
   creates ten backup codes, shown once on `reservecodes/`.
4. `reservecodes/nieuw/`: a signed-in user makes ten new backup codes (the old ones
   stop working) after typing the app's code once more.
"""

import time
from dataclasses import dataclass
from functools import partial, update_wrapper

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import load_backend, user_login_failed
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django_otp import login as otp_login
from django_otp.models import Device, VerifyNotAllowed
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

# Who passed step one in this session: user id, backend, password hash, `next`, time.
PENDING_SESSION_KEY = "staff_auth_pending"
# The backup codes just made, until the page that shows them once.
BACKUP_CODES_SESSION_KEY = "staff_auth_backup_codes"
# Set by StaffSessionTimeoutMiddleware, so the sign-in page can say why.
IDLE_LOGOUT_SESSION_KEY = "staff_auth_idle_logout"

BACKUP_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator-app"
STATIC_DEVICE_NAME = "Reservecodes"

_WRONG_PASSWORD = _(
    "Deze gebruikersnaam en dit wachtwoord horen niet bij elkaar, of dit account mag "
    "niet in het beheer. Let op hoofdletters en kleine letters."
)


class StaffAuthenticationForm(AuthenticationForm):
    """Step one. A user who is not active staff gets the same error as a wrong password."""

    error_messages = {"invalid_login": _WRONG_PASSWORD, "inactive": _WRONG_PASSWORD}

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Gebruikersnaam")
        self.fields["password"].label = _("Wachtwoord")

    def confirm_login_allowed(self, user):
        if not (user.is_active and user.is_staff):
            raise ValidationError(self.error_messages["invalid_login"], code="invalid_login")


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code uit je app"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "none",
                "spellcheck": "false",
                "autofocus": True,
                "class": "vTextField",
            }
        ),
    )

    def __init__(self, *args, help_text=None, numeric=False, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.help_text = help_text or ""
        if numeric:
            field.widget.attrs["inputmode"] = "numeric"

    def clean_code(self) -> str:
        # People copy codes as "123 456" or "abcd-efgh"; backup codes are lower case.
        code = "".join(self.cleaned_data["code"].split()).replace("-", "").lower()
        if not code:
            raise ValidationError(_("Vul een code in."), code="required")
        return code


@dataclass(frozen=True)
class _Check:
    ok: bool
    error: str = ""
    counts_as_failure: bool = False


def _check_code(device: Device | None, code: str) -> _Check:
    """Verify `code` on `device`, honouring (and feeding) django-otp's throttling."""
    wrong = _Check(
        ok=False,
        error=gettext("Deze code klopt niet. Probeer het opnieuw met de nieuwste code."),
        counts_as_failure=True,
    )
    if device is None:
        return wrong
    with transaction.atomic():
        # Locked, so two requests cannot both use one code or dodge the throttle.
        device = type(device).objects.select_for_update().get(pk=device.pk)
        allowed, info = device.verify_is_allowed()
        if not allowed:
            return _Check(ok=False, error=_throttle_message(info))
        if device.verify_token(code):
            return _Check(ok=True)
    return wrong


def _throttle_message(info: dict | None) -> str:
    info = info or {}
    if info.get("reason") == VerifyNotAllowed.N_FAILED_ATTEMPTS:
        until = timezone.localtime(info["locked_until"]).strftime("%H:%M:%S")
        return gettext(
            "Je hebt %(count)d keer een onjuiste code ingevuld. "
            "Je kunt het om %(until)s opnieuw proberen."
        ) % {"count": info["failure_count"], "until": until}
    return info.get("error_message") or gettext("Je kunt nu geen code invullen.")


def _confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def _safe_next(request: HttpRequest, url: str | None, site) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index", current_app=site.name)


def _idle_seconds() -> int:
    return settings.SPREEKUUR_STAFF_IDLE_MINUTES * 60


def _remember_step_one(request: HttpRequest, user, next_url: str) -> None:
    if request.user.is_authenticated:
        auth_logout(request)
    # A new session key once the password is known: no session fixation.
    request.session.cycle_key()
    request.session[PENDING_SESSION_KEY] = {
        "user_id": str(user.pk),
        "backend": user.backend,
        "hash": user.get_session_auth_hash(),
        "next": next_url,
        "seen": int(time.time()),
    }


def _pending_user(request: HttpRequest):
    """The user who passed step one in this session and may still sign in, or None.

    Step one expires after the staff idle time, and as soon as the account is
    deactivated, loses staff status or gets a new password.
    """
    pending = request.session.get(PENDING_SESSION_KEY)
    if not pending:
        return None
    user = None
    now = int(time.time())
    if now - pending["seen"] <= _idle_seconds() and pending["backend"] in (
        settings.AUTHENTICATION_BACKENDS
    ):
        # The backend's get_user refuses inactive users, as for a signed-in session.
        user = load_backend(pending["backend"]).get_user(pending["user_id"])
    if (
        user is None
        or not user.is_staff
        or not constant_time_compare(user.get_session_auth_hash(), pending["hash"])
    ):
        del request.session[PENDING_SESSION_KEY]
        return None
    request.session[PENDING_SESSION_KEY] = {**pending, "seen": now}
    user.backend = pending["backend"]
    return user


def _complete_sign_in(request: HttpRequest, user, device: Device) -> str:
    """Sign in with both factors; return where to go next."""
    next_url = request.session.pop(PENDING_SESSION_KEY)["next"]
    auth_login(request, user, backend=user.backend)
    otp_login(request, device)
    return next_url


def _to_login(site) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:login", current_app=site.name))


def _lockout(request: HttpRequest, credentials: dict) -> HttpResponse:
    from axes.helpers import get_lockout_response

    request.session.pop(PENDING_SESSION_KEY, None)
    return get_lockout_response(request, None, credentials)


def _render(request: HttpRequest, site, template: str, context: dict) -> TemplateResponse:
    request.current_app = site.name
    return TemplateResponse(request, template, {**site.each_context(request), **context})


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _staff_view(view):
    return sensitive_post_parameters()(csrf_protect(never_cache(view)))


@_staff_view
def login(request: HttpRequest, *, site) -> HttpResponse:
    """Step one: user name and password."""
    next_param = request.POST.get("next") if request.method == "POST" else None
    next_param = next_param or request.GET.get("next")
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(_safe_next(request, next_param, site))

    form = StaffAuthenticationForm(request, data=_posted(request))
    if request.method == "POST" and form.is_valid():
        # A lock-out shows no form: AxesMiddleware answers with admin/locked_out.html.
        user = form.get_user()
        _remember_step_one(request, user, _safe_next(request, next_param, site))
        step = "admin:login_second_step" if _confirmed_totp(user) else "admin:login_enrol"
        return HttpResponseRedirect(reverse(step, current_app=site.name))

    return _render(
        request,
        site,
        "admin/login.html",
        {
            "title": _("Inloggen"),
            "form": form,
            "app_path": request.get_full_path(),
            "next": next_param or "",
            "idle_logout": request.session.pop(IDLE_LOGOUT_SESSION_KEY, False),
        },
    )


@_staff_view
def second_step(request: HttpRequest, *, site) -> HttpResponse:
    """Step two: the code from the authenticator app, or a backup code."""
    user = _pending_user(request)
    if user is None:
        return _to_login(site)
    totp_device = _confirmed_totp(user)
    if totp_device is None:
        return HttpResponseRedirect(reverse("admin:login_enrol", current_app=site.name))

    form = CodeForm(
        _posted(request),
        help_text=_(
            "De 6 cijfers die je authenticator-app nu laat zien. "
            "Telefoon niet bij de hand? Vul dan een van je reservecodes in."
        ),
    )
    if request.method == "POST" and form.is_valid():
        from axes.handlers.proxy import AxesProxyHandler

        credentials = {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}
        if not AxesProxyHandler.is_allowed(request, credentials):
            return _lockout(request, credentials)
        code = form.cleaned_data["code"]
        if code.isdigit() and len(code) == totp_device.digits:
            device = totp_device
        else:
            device = StaticDevice.objects.filter(user=user, confirmed=True).first()
        check = _check_code(device, code)
        if check.ok:
            next_url = _complete_sign_in(request, user, device)
            if isinstance(device, StaticDevice):
                _warn_backup_codes_left(request, device)
            return HttpResponseRedirect(next_url)
        if check.counts_as_failure:
            # A wrong second factor is a failed sign-in for django-axes too.
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                return _lockout(request, credentials)
        form.add_error("code", check.error)

    return _render(
        request,
        site,
        "admin/staff_auth/second_step.html",
        {"title": _("Inloggen: tweede stap"), "form": form, "username": user.get_username()},
    )


def _warn_backup_codes_left(request: HttpRequest, device: StaticDevice) -> None:
    left = device.token_set.count()
    messages.warning(
        request,
        gettext(
            "Je hebt een reservecode gebruikt; je hebt er nog %(left)d. "
            "Maak nieuwe onder ‘Nieuwe reservecodes’ (rechtsboven) als ze bijna op zijn."
        )
        % {"left": left},
    )


@_staff_view
def enrol(request: HttpRequest, *, site) -> HttpResponse:
    """For a user without a confirmed TOTP device: set up the authenticator app."""
    user = _pending_user(request)
    if user is None:
        return _to_login(site)
    if _confirmed_totp(user) is not None:
        # Once a device is confirmed, only its code (or a backup code) signs in.
        return HttpResponseRedirect(reverse("admin:login_second_step", current_app=site.name))

    # The same secret on every visit, so a reload does not undo a scanned QR code.
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)

    form = CodeForm(
        _posted(request),
        help_text=_("De 6 cijfers die de app laat zien nadat je de code hebt gescand."),
        numeric=True,
    )
    if request.method == "POST" and form.is_valid():
        check = _check_code(device, form.cleaned_data["code"])
        if check.ok:
            codes = _confirm_device(user, device)
            next_url = _complete_sign_in(request, user, device)
            request.session[BACKUP_CODES_SESSION_KEY] = {"codes": codes, "next": next_url}
            return HttpResponseRedirect(reverse("admin:login_backup_codes", current_app=site.name))
        form.add_error("code", check.error)

    return _render(
        request,
        site,
        "admin/staff_auth/enrol.html",
        {
            "title": _("Tweede stap instellen"),
            "form": form,
            "username": user.get_username(),
            "qr_code": _qr_data_uri(device.config_url),
            "secret": _grouped_secret(device),
        },
    )


@transaction.atomic
def _confirm_device(user, device: TOTPDevice) -> list[str]:
    """Confirm the TOTP device and give the user fresh backup codes."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return _new_backup_codes(user)


@transaction.atomic
def _new_backup_codes(user) -> list[str]:
    """BACKUP_CODE_COUNT new backup codes for `user`; the old ones stop working."""
    static, _created = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": STATIC_DEVICE_NAME, "confirmed": True}
    )
    static.token_set.all().delete()
    codes = [StaticToken.random_token() for _i in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


@_staff_view
def backup_codes_renew(request: HttpRequest, *, site) -> HttpResponse:
    """New backup codes for a signed-in user, shown once; the old ones stop working.

    The code from the app is asked again, so a session left open on someone
    else's screen cannot be used to take over the account's second factor.
    """
    if not site.has_permission(request):
        return _to_login(site)
    form = CodeForm(
        _posted(request),
        help_text=_("De 6 cijfers die je authenticator-app nu laat zien."),
        numeric=True,
    )
    if request.method == "POST" and form.is_valid():
        check = _check_code(_confirmed_totp(request.user), form.cleaned_data["code"])
        if check.ok:
            request.session[BACKUP_CODES_SESSION_KEY] = {
                "codes": _new_backup_codes(request.user),
                "next": reverse("admin:index", current_app=site.name),
            }
            return HttpResponseRedirect(reverse("admin:login_backup_codes", current_app=site.name))
        form.add_error("code", check.error)
    return _render(
        request,
        site,
        "admin/staff_auth/backup_codes_renew.html",
        {"title": _("Nieuwe reservecodes"), "form": form},
    )


def _qr_data_uri(config_url: str) -> str:
    """The otpauth:// URL as a QR code in a data: URI (no request to another host)."""
    import segno

    return segno.make(config_url, error="m").svg_data_uri(
        scale=5, border=4, dark="#000", light="#fff"
    )


def _grouped_secret(device: TOTPDevice) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@_staff_view
def backup_codes(request: HttpRequest, *, site) -> HttpResponse:
    """The new backup codes, shown once, right after the device is confirmed."""
    if not site.has_permission(request):
        return _to_login(site)
    shown = request.session.pop(BACKUP_CODES_SESSION_KEY, None)
    if not shown:
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    return _render(
        request,
        site,
        "admin/staff_auth/backup_codes.html",
        {"title": _("Je reservecodes"), "codes": shown["codes"], "next": shown["next"]},
    )


def _bind(view, site):
    return update_wrapper(partial(view, site=site), view)


def urls(site) -> list:
    return [
        path("tweede-stap/", _bind(second_step, site), name="login_second_step"),
        path("inrichten/", _bind(enrol, site), name="login_enrol"),
        path("reservecodes/", _bind(backup_codes, site), name="login_backup_codes"),
        path("reservecodes/nieuw/", _bind(backup_codes_renew, site), name="backup_codes_renew"),
    ]
