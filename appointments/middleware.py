"""Staff sessions end after a period without requests, and at once for a closed account.

`StaffSessionTimeoutMiddleware` sits after django-otp's `OTPMiddleware`. For a
signed-in user (every account is a staff account) it keeps the time of the last
request in the session; a request after more than `SPREEKUUR_STAFF_IDLE_MINUTES`
of silence signs the user out and goes on as anonymous, so the admin sends it to
the sign-in page with `next`, which then says why.

A deactivated account needs nothing of ours to be refused: Django's
`ModelBackend.get_user` returns no user for it, so its very next request is
anonymous. We also flush such a session, so nothing of it lingers.

Clients never sign in: a request without a session cookie is not even looked at,
and an anonymous session is left as it is.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout

from .staff_auth import IDLE_LOGOUT_SESSION_KEY

LAST_REQUEST_SESSION_KEY = "staff_last_request"


class StaffSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        session = request.session
        if not request.user.is_authenticated:
            if SESSION_KEY in session:
                # Signed in once, refused now: the account was deactivated or removed.
                session.flush()
            return
        now = int(time.time())
        last_request = session.get(LAST_REQUEST_SESSION_KEY)
        idle_limit = settings.SPREEKUUR_STAFF_IDLE_MINUTES * 60
        if last_request is not None and now - last_request > idle_limit:
            logout(request)
            # logout() puts a plain AnonymousUser in place of django-otp's user.
            request.user.otp_device = None
            request.user.is_verified = lambda: False
            request.session[IDLE_LOGOUT_SESSION_KEY] = True
            return
        session[LAST_REQUEST_SESSION_KEY] = now
