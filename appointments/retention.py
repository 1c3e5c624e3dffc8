"""Retention: personal data goes as soon as it has no purpose left.

Public: `personal_data_purge` (nightly task and `manage.py purge_personal_data`)
and `booking_personal_data_erase` (the client's own "remove my data").

- Contact details (and the sealed manage link kept for messages) go once no
  message can be due any more: the appointment has passed or was cancelled, and
  no message is pending. A finished waitlist entry loses its contact at once.
- Intake answers, nickname and staff note go SPREEKUUR_RETENTION_DAYS after the
  appointment (default 30).
- A waitlist entry still waiting after SPREEKUUR_WAITLIST_DAYS (default 30) ends
  (status expired) and loses its contact: nobody waits, or is kept, indefinitely.
- Expired holds, which hold nothing personal, are removed after a day.
- What stays (slot, status, source, triage flag, timestamps, messages without
  addresses) is not personal and still feeds the dashboard. The access log is
  never touched here: it is kept for at least five years.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .models import Booking, IntakeAnswer, Message, WaitlistEntry

NO_CONTACT = {
    "email": "",
    "phone": "",
    "contact_channel": "",
    "contact_digest": "",
    "manage_token_sealed": "",
}


@dataclass
class PurgeReport:
    contacts: int = 0
    intakes: int = 0
    waitlist_contacts: int = 0
    waitlist_expired: int = 0
    expired_holds: int = 0

    def __str__(self) -> str:
        return (
            f"contact details of {self.contacts} bookings, intake data of {self.intakes} "
            f"bookings, {self.waitlist_expired} waitlist entries that waited too long, "
            f"contact details of {self.waitlist_contacts} waitlist entries, "
            f"{self.expired_holds} expired holds"
        )


def _with_contact():
    return ~Q(contact_channel="") | ~Q(manage_token_sealed="")


def personal_data_purge(*, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    now = now or timezone.now()
    pending = Message.objects.filter(
        booking=OuterRef("pk"),
        status__in=[Message.Status.PENDING, Message.Status.SENDING],
    )
    # The contact channel is what marks a contact as present: email and phone
    # are encrypted and cannot be compared in SQL.
    contacts = (
        Booking.objects.filter(_with_contact())
        .filter(
            Q(slot__end__lt=now) | Q(status__in=[Booking.Status.CANCELLED, Booking.Status.EXPIRED])
        )
        .exclude(Exists(pending))
    )
    cutoff = now - timedelta(days=settings.SPREEKUUR_RETENTION_DAYS)
    intakes = Booking.objects.filter(slot__end__lt=cutoff).filter(
        Q(Exists(IntakeAnswer.objects.filter(booking=OuterRef("pk"))))
        | Q(personal_data_erased_at__isnull=True)
    )
    waited_too_long = WaitlistEntry.objects.filter(
        status=WaitlistEntry.Status.WAITING,
        created_at__lt=now - timedelta(days=settings.SPREEKUUR_WAITLIST_DAYS),
    )
    finished_entries = WaitlistEntry.objects.exclude(
        status__in=[WaitlistEntry.Status.WAITING, WaitlistEntry.Status.OFFERED]
    ).exclude(contact_channel="")
    expired_holds = Booking.objects.filter(
        status=Booking.Status.EXPIRED, created_at__lt=now - timedelta(days=1)
    ).exclude(Exists(Message.objects.filter(booking=OuterRef("pk"))))

    report = PurgeReport(
        contacts=contacts.count(),
        intakes=intakes.count(),
        waitlist_expired=waited_too_long.count(),
        # Those that end now lose their contact in this run too.
        waitlist_contacts=finished_entries.count() + waited_too_long.count(),
        expired_holds=expired_holds.count(),
    )
    if dry_run:
        return report
    with transaction.atomic():
        contacts.update(**NO_CONTACT)
        intake_ids = list(intakes.values_list("pk", flat=True))
        IntakeAnswer.objects.filter(booking_id__in=intake_ids).delete()
        Booking.objects.filter(pk__in=intake_ids).update(
            nickname="", staff_note="", personal_data_erased_at=now
        )
        waited_too_long.update(status=WaitlistEntry.Status.EXPIRED)
        finished_entries.update(email="", phone="", contact_channel="", offer_token_sealed="")
        expired_holds.delete()
    return report


def booking_personal_data_erase(*, booking: Booking, now: datetime | None = None) -> Booking:
    """Everything personal of one appointment goes now, at the client's request.

    The appointment itself stays (a seat at a time); pending messages are
    cancelled, since there is no address left to send them to.
    """
    now = now or timezone.now()
    with transaction.atomic():
        Message.objects.filter(
            booking=booking, status__in=[Message.Status.PENDING, Message.Status.SENDING]
        ).update(status=Message.Status.CANCELLED)
        IntakeAnswer.objects.filter(booking=booking).delete()
        Booking.objects.filter(pk=booking.pk).update(
            nickname="", staff_note="", personal_data_erased_at=now, **NO_CONTACT
        )
    booking.refresh_from_db()
    return booking
