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
