"""Celery tasks: thin, argument-free or ids only, safe to run twice or at once.

Beat runs both every minute (settings.CELERY_BEAT_SCHEDULE); a booking change
also queues `outbox_dispatch` after its commit, so a confirmation goes out in
seconds rather than within the minute.
"""

from celery import shared_task
from django.conf import settings

from .notifications.outbox import outbox_dispatch as dispatch_due_messages


@shared_task(name="appointments.tasks.outbox_dispatch", acks_late=True, ignore_result=True)
def outbox_dispatch() -> dict:
    report = dispatch_due_messages()
    if report.claimed >= settings.SPREEKUUR_OUTBOX_BATCH:
        # A full batch: more may be due. Another worker can take the next one.
        outbox_dispatch.delay()
    return report.__dict__


@shared_task(
    name="appointments.tasks.waitlist_offer_free_slots", acks_late=True, ignore_result=True
)
def waitlist_offer_free_slots() -> int:
    from .waitlist import waitlist_offer_free_slots as offer

    return offer()


@shared_task(name="appointments.tasks.slots_generate_ahead", acks_late=True, ignore_result=True)
def slots_generate_ahead() -> dict:
    """Nightly: keep slots generated SPREEKUUR_SLOT_WEEKS_AHEAD weeks ahead.

    Idempotent, so a second run (a redelivered task) changes nothing. Logs
    counts and slot ids only, never personal data. Staff see the conflicts with
    their appointments by running the same generation on the page
    "Rooster genereren" (admin:staff_generate_slots).
    """
    import logging

    from django.utils import timezone

    from .services import slots_generate

    report = slots_generate(start=timezone.localdate(), weeks=settings.SPREEKUUR_SLOT_WEEKS_AHEAD)
    counts = {
        "created": report.created,
        "updated": report.updated,
        "removed": report.removed,
        "retired": report.retired,
        "conflicts": len(report.conflicts),
    }
    logging.getLogger(__name__).info(
        "slots generated %s weeks ahead: %s; conflicting slot ids: %s",
        settings.SPREEKUUR_SLOT_WEEKS_AHEAD,
        counts,
        [slot.pk for slot in report.conflicts],
    )
    return counts


@shared_task(name="appointments.tasks.personal_data_purge", acks_late=True, ignore_result=True)
def personal_data_purge() -> str:
    from .retention import personal_data_purge as purge

    return str(purge())


@shared_task(name="appointments.tasks.access_log_check", acks_late=True, ignore_result=True)
def access_log_check() -> int:
    from .access_log import access_unusual_notify

    return len(access_unusual_notify())


@shared_task(name="appointments.tasks.sessions_clear", acks_late=True, ignore_result=True)
def sessions_clear() -> None:
    """Expired sessions (which only ever held a hold id) leave the table every night."""
    from django.core.management import call_command

    call_command("clearsessions")
