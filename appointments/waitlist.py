"""The waitlist: first come, first served, with a hold on the time that is offered.

Public: `waitlist_join`, `waitlist_offer_free_slots`, `waitlist_offer_by_token`,
`waitlist_accept`, `waitlist_decline` (which also takes a waiting client off the
list) and the exception `OfferUnavailable`.

The rules:

- A client who finds no time that suits leaves a contact for a service, and for
  one location or any. They wait without a link or token.
- `waitlist_offer_free_slots` (beat runs it every minute, and every cancellation
  and reschedule queues it) goes through the waiting clients oldest first. Each
  gets the earliest bookable time of their service (at their location, if they
  chose one) that starts late enough: after the offer's hold runs out plus the
  service's minimum notice, so an offer taken at the last minute still leaves the
  usual time to get there. That time is held for the client for
  `SPREEKUUR_WAITLIST_OFFER_MINUTES`, and a message with a secret link goes out.
  The seat claim (`services.slot_hold`) gives each seat to one client only, so
  two clients are never offered the same seat.
- One offer per client at a time. A client who lets the offer pass, or says no,
  leaves the list (CANCELLED); the time goes to the next one on the next run.
  A client who takes it (BOOKED) continues to the normal intake with the hold;
  until that hold is confirmed or runs out, the link opens it again (in another
  browser, say).
- No offers during the SMS quiet hours (22:00–08:00): a message that cannot go,
  or is not read, until the morning would let the hold run out while the client
  sleeps, and cost them their place.
- Safe to run twice or at once: each client row is locked while it gets its
  offer and its status is read again under the lock; the seat claim refuses a
  second claim on a seat. Runs wait for a locked client rather than skip it
  (no `SKIP LOCKED` here): a run that skipped would serve a later client while
  an earlier one is still being served, and the later one could take the
  earlier one's time. Lapsed offers are closed with `SKIP LOCKED`: a row that
  is locked is being answered at that moment.
"""

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import Enum

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from . import services
from .crypto import seal
from .models import Booking, ContactChannel, Location, Message, Service, Slot, WaitlistEntry
from .notifications import outbox
from .selectors import hash_manage_token, slots_bookable

Status = WaitlistEntry.Status


class OfferUnavailable(Exception):
    """The offer ran out, was declined, or went to someone else."""


def waitlist_join(
    *,
    service: Service,
    location: Location | None = None,
    email: str = "",
    phone: str = "",
    channel: str,
    language: str = Booking.Language.DUTCH,
) -> WaitlistEntry:
    """Put a client on the waitlist of a service. The form has validated the contact.

    Only the contact for the chosen channel is kept: nothing else is needed.
    """
    if channel == ContactChannel.EMAIL and not email:
        raise ValueError("an e-mail channel needs an address")
    if channel == ContactChannel.SMS and not phone:
        raise ValueError("an SMS channel needs a number")
    if channel not in ContactChannel.values:
        raise ValueError(f"unknown channel {channel!r}")
    return WaitlistEntry.objects.create(
        service=service,
        location=location,
        email=email if channel == ContactChannel.EMAIL else "",
        phone=phone if channel == ContactChannel.SMS else "",
        contact_channel=channel,
        language=language,
    )


def _for_update(queryset: QuerySet, *, skip_locked: bool = False) -> QuerySet:
    """Lock the entry rows only, not the offer or service joined to them.

    (PostgreSQL refuses to lock the nullable side of an outer join anyway.) On
    SQLite this is a no-op: transactions start IMMEDIATE and hold the write lock.
    """
    skip_locked = skip_locked and connection.features.has_select_for_update_skip_locked
    return queryset.select_for_update(skip_locked=skip_locked, of=("self",))


def _offer_on_after_commit() -> None:
    from .tasks import waitlist_offer_free_slots as offer_task

    # A freed seat goes to the next client now rather than within the minute.
    # Robust: with the broker down the change still commits; beat runs it anyway.
    transaction.on_commit(offer_task.delay, robust=True)


def _offers_in_quiet_hours(now: datetime) -> bool:
    return outbox.sms_moment(due=now, kind=Message.Kind.WAITLIST_OFFER, now=now) != now


def _close(entry: WaitlistEntry, *, status: str) -> None:
    entry.status = status
    if status == Status.CANCELLED:
        entry.offer = None
    if status != Status.BOOKED:
        entry.offer_token_hash = None
    # The link is needed only for the message, which is obsolete once the offer is answered.
    entry.offer_token_sealed = ""
    entry.save(update_fields=["status", "offer", "offer_token_hash", "offer_token_sealed"])


def _offers_lapse(*, now: datetime) -> int:
    """Offers whose hold ran out unanswered: the client leaves the list, the seat is free."""
    live = Q(offer__status=Booking.Status.HELD, offer__held_until__gt=now)
    lapsed = 0
    with transaction.atomic():
        entries = _for_update(
            WaitlistEntry.objects.filter(status=Status.OFFERED)
            .exclude(live)
            .select_related("offer"),
            skip_locked=True,
        )
        for entry in entries:
            offer = entry.offer
            if offer is not None and offer.is_appointment:
                # Confirmed in the meantime by some other way in: it was taken.
                _close(entry, status=Status.BOOKED)
                continue
            if offer is not None:
                services.hold_release(public_ids=[offer.public_id])
            _close(entry, status=Status.CANCELLED)
            lapsed += 1
    return lapsed


def _offerable_slots(*, entry: WaitlistEntry, now: datetime) -> QuerySet[Slot]:
    service = entry.service
    not_before = now + timedelta(
        minutes=settings.SPREEKUUR_WAITLIST_OFFER_MINUTES + service.min_notice_minutes
    )
    slots = slots_bookable(service=service, now=now).filter(start__gte=not_before)
    if entry.location_id:
        slots = slots.filter(location_id=entry.location_id)
    return slots.order_by("start", "seats_taken", "pk")


class _Outcome(Enum):
    OFFERED = "offered"
    NOTHING_FREE = "nothing free"
    NOT_WAITING = "not waiting"  # served by a concurrent run, or left the list


def _offer_to(*, entry_id: int, now: datetime) -> _Outcome:
    """Offer the earliest free time to one waiting client."""
    with transaction.atomic():
        entry = _for_update(
            WaitlistEntry.objects.filter(pk=entry_id, status=Status.WAITING).select_related(
                "service"
            )
        ).first()
        if entry is None:
            return _Outcome.NOT_WAITING
        seen_starts = set()
        for slot in _offerable_slots(entry=entry, now=now).only("pk", "start", "location_id"):
            if (slot.start, slot.location_id) in seen_starts:
                continue  # slot_hold already tried every twin of this time
            seen_starts.add((slot.start, slot.location_id))
            try:
                hold = services.slot_hold(slot_id=slot.pk, now=now)
            except services.SlotUnavailable:
                continue  # another run took it a moment ago
            hold.held_until = now + timedelta(minutes=settings.SPREEKUUR_WAITLIST_OFFER_MINUTES)
            hold.save(update_fields=["held_until", "updated_at"])
            token = secrets.token_urlsafe(32)
            entry.offer = hold
            entry.offer_token_hash = hash_manage_token(token)
            entry.offer_token_sealed = seal(token)
            entry.status = Status.OFFERED
            entry.offers_made += 1
            entry.save(
                update_fields=[
                    "offer",
                    "offer_token_hash",
                    "offer_token_sealed",
                    "status",
                    "offers_made",
                ]
            )
            outbox.message_for_waitlist_offer(entry=entry, now=now)
            return _Outcome.OFFERED
    return _Outcome.NOTHING_FREE


def waitlist_offer_free_slots(*, now: datetime | None = None) -> int:
    """Offer free times to waiting clients, oldest first; returns the number of offers made.

    Lapsed offers are closed first, so the seats they held are offered on in the
    same run. Safe to run twice or in many workers at once.
    """
    now = now or timezone.now()
    _offers_lapse(now=now)
    if _offers_in_quiet_hours(now):
        return 0
    made = 0
    waiting = (
        WaitlistEntry.objects.filter(status=Status.WAITING, service__active=True)
        .order_by("created_at", "pk")
        .values_list("pk", "service_id", "location_id")
    )
    # (service, location) pairs with nothing left to offer; location None means any.
    exhausted: set[tuple[int, int | None]] = set()
    for entry_id, service_id, location_id in waiting:
        if (service_id, location_id) in exhausted or (service_id, None) in exhausted:
            continue
        outcome = _offer_to(entry_id=entry_id, now=now)
        if outcome is _Outcome.OFFERED:
            made += 1
        elif outcome is _Outcome.NOTHING_FREE:
            # Nor, in this run, for the next client who wants the same.
            exhausted.add((service_id, location_id))
    return made


def waitlist_offer_by_token(*, token: str, now: datetime | None = None) -> WaitlistEntry | None:
    """The entry an offer link opens while its hold is live, or None for any other token.

    Only the SHA-256 of the token is stored. A taken offer (BOOKED) still opens
    until its hold is confirmed or runs out, so the client can go on in another
    browser.
    """
    if not token or len(token) > 100:
        return None
    now = now or timezone.now()
    digest = hash_manage_token(token)
    entry = (
        WaitlistEntry.objects.select_related("offer__slot__location", "offer__slot__service")
        .filter(offer_token_hash=digest, status__in=[Status.OFFERED, Status.BOOKED])
        .first()
    )
    if entry is None or not hmac.compare_digest(entry.offer_token_hash, digest):
        return None
    if entry.offer is None or not entry.offer.hold_is_live(now):
        return None
    return entry


def _lock_open_offer(*, entry: WaitlistEntry, now: datetime) -> WaitlistEntry:
    locked = _for_update(
        WaitlistEntry.objects.select_related("offer").filter(
            pk=entry.pk, status__in=[Status.OFFERED, Status.BOOKED]
        )
    ).first()
    if locked is None or locked.offer is None or not locked.offer.hold_is_live(now):
        raise OfferUnavailable
    return locked


def waitlist_accept(
    *, entry: WaitlistEntry, release: Iterable[str] = (), now: datetime | None = None
) -> Booking:
    """Take the offered time: returns the hold, which the client books at the intake.

    `release` lists holds this browser had before; they are freed, so one browser
    holds one time at most. Taking an offer twice returns the same hold.
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock_open_offer(entry=entry, now=now)
        hold = locked.offer
        services.hold_release(public_ids=[p for p in release if p != str(hold.public_id)])
        if locked.status == Status.OFFERED:
            _close(locked, status=Status.BOOKED)
    return hold


def waitlist_decline(*, entry: WaitlistEntry, now: datetime | None = None) -> None:
    """Say no to an offer, or leave the list: the hold is freed and the entry cancelled.

    Raises OfferUnavailable when there is nothing to decline any more (the offer
    ran out, or was booked).
    """
    now = now or timezone.now()
    with transaction.atomic():
        if entry.status == Status.WAITING:
            locked = _for_update(
                WaitlistEntry.objects.filter(pk=entry.pk, status=Status.WAITING)
            ).first()
            if locked is None:
                raise OfferUnavailable
        else:
            locked = _lock_open_offer(entry=entry, now=now)
            services.hold_release(public_ids=[locked.offer.public_id])
            _offer_on_after_commit()
        _close(locked, status=Status.CANCELLED)
