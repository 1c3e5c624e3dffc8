"""The access log (NEN 7513): one call per staff look at or change of client data.

Public: `access_log_record`. It writes who, on whose behalf, when, which
booking (by reference), what and the result, and from which address; never
the data that was seen. Call it where the data is shown or changed, in the
same request, so a read that is shown is a read that is logged.
"""

from django.http import HttpRequest

from .models import AccessLogEntry
from .roles import ROLE_PERMISSIONS

Action = AccessLogEntry.Action


def _on_behalf_of(user) -> str:
    clinician = getattr(user, "clinician", None)
    if clinician is not None:
        return f"{clinician.display_name} ({clinician.get_profession_display()})"
    roles = [group.name for group in user.groups.all() if group.name in ROLE_PERMISSIONS]
    return ", ".join(sorted(roles)) or ("superuser" if user.is_superuser else "")


def access_log_record(
    *,
    request: HttpRequest,
    action: str,
    booking_reference: str = "",
    result: str = AccessLogEntry.Result.ALLOWED,
    detail: str = "",
) -> AccessLogEntry:
    user = request.user
    return AccessLogEntry.objects.create(
        actor=user if user.is_authenticated else None,
        actor_username=user.get_username() if user.is_authenticated else "",
        on_behalf_of=_on_behalf_of(user) if user.is_authenticated else "",
        action=action,
        booking_reference=booking_reference or "",
        result=result,
        # REMOTE_ADDR as the WSGI server saw it; behind the TLS proxy that is the
        # proxy, which must then pass the client address (see docs/operations.md).
        ip_address=request.META.get("REMOTE_ADDR") or None,
        detail=detail[:200],
    )
