"""The access log (NEN 7513): one call per staff look at or change of client data.

Public: `access_log_record`, and `access_unusual_notify` for the daily check
that tells team leads who looked at far more records than usual.
`access_log_record` writes who, on whose behalf, when, which booking (by
reference), what and the result, and from which address; never the data that
was seen. Call it where the data is shown or changed, in the
same request, so a read that is shown is a read that is logged.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Count
from django.http import HttpRequest
from django.utils import timezone

from .models import AccessLogEntry
from .roles import ROLE_PERMISSIONS, TEAM_LEAD

logger = logging.getLogger(__name__)

Action = AccessLogEntry.Action


def client_address(request) -> str | None:
    """The client's address: from the header the TLS proxy sets, when configured.

    The same source as the rate limits (RATELIMIT_IP_META_KEY) and the sign-in
    lock-out (AXES_CLIENT_IP_CALLABLE), so all three agree.
    """
    header = settings.RATELIMIT_IP_META_KEY
    value = request.META.get(header, "") if header else ""
    return (value.split(",")[0].strip() or request.META.get("REMOTE_ADDR")) or None


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
        ip_address=client_address(request),
        detail=detail[:200],
    )


@dataclass(frozen=True)
class UnusualAccess:
    actor_username: str
    recent: int
    daily_mean: float


# Looks at client data; the plain changes of a working day are not counted.
_LOOKS = [Action.VIEW_INTAKE, Action.SEARCH, Action.EXPORT]


def access_unusual(*, now: datetime | None = None) -> list[UnusualAccess]:
    """Staff who looked at far more client records in the last day than they usually do.

    "Far more": above SPREEKUUR_ACCESS_ALERT_FACTOR times their daily mean over
    the 28 days before, and above SPREEKUUR_ACCESS_ALERT_FLOOR, so a new
    colleague's first busy day does not raise an alarm.
    """
    now = now or timezone.now()
    day_ago, baseline_start = now - timedelta(days=1), now - timedelta(days=29)
    looks = AccessLogEntry.objects.filter(action__in=_LOOKS, at__lt=now)
    recent = dict(
        looks.filter(at__gte=day_ago)
        .values_list("actor_username")
        .annotate(n=Count("pk"))
        .values_list("actor_username", "n")
    )
    before = dict(
        looks.filter(at__gte=baseline_start, at__lt=day_ago, actor_username__in=list(recent))
        .values_list("actor_username")
        .annotate(n=Count("pk"))
        .values_list("actor_username", "n")
    )
    unusual = []
    for username, count in sorted(recent.items()):
        mean = before.get(username, 0) / 28
        if count > settings.SPREEKUUR_ACCESS_ALERT_FLOOR and count > (
            settings.SPREEKUUR_ACCESS_ALERT_FACTOR * mean
        ):
            unusual.append(UnusualAccess(username, count, round(mean, 1)))
    return unusual


def access_unusual_notify(*, now: datetime | None = None) -> list[UnusualAccess]:
    """Tell the team leads, by e-mail, who looked unusually often; no client data in it."""
    unusual = access_unusual(now=now)
    if not unusual:
        return unusual
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=TEAM_LEAD, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    lines = [
        f"- {item.actor_username}: {item.recent} keer in 24 uur "
        f"(gemiddeld {item.daily_mean} per dag)"
        for item in unusual
    ]
    logger.warning("unusual access by %d staff member(s)", len(unusual))
    if recipients:
        send_mail(
            subject="Spreekuur: ongewoon veel inzage in cliëntgegevens",
            message=(
                "Deze medewerkers keken de afgelopen 24 uur veel vaker in cliëntgegevens "
                "dan gewoonlijk:\n\n" + "\n".join(lines) + "\n\nBekijk het toegangslog in "
                "het beheer (filter op gebruikersnaam)."
            ),
            from_email=None,
            recipient_list=recipients,
        )
    return unusual
