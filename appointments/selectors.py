"""Reads: every query a client page makes, in one place.

Each selector takes keyword-only arguments and returns a queryset or plain
values. A slot is *bookable* when it belongs to an active service, location and
clinician, is not blocked, falls in no closure, starts no earlier than the
service's minimum notice and no later than its booking horizon, and has a seat
that no appointment or live hold occupies. `slots_bookable` is the single
definition; the booking services use it too, so the page and the rule agree.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Booking, Closure, IntakeQuestion, Location, Service, Slot


def seat_taken_q(*, now: datetime, prefix: str = "") -> Q:
    """Bookings that occupy a seat at `now`: appointments and live holds."""
    return Q(**{f"{prefix}status__in": Booking.APPOINTMENT_STATUSES}) | Q(
        **{f"{prefix}status": Booking.Status.HELD, f"{prefix}held_until__gt": now}
    )


def slots_with_seats_taken(*, now: datetime) -> QuerySet[Slot]:
    taken = (
        Booking.objects.filter(seat_taken_q(now=now), slot=OuterRef("pk"))
        .order_by()
        .values("slot")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Slot.objects.annotate(seats_taken=Coalesce(Subquery(taken), Value(0)))


def slots_bookable(*, service: Service, now: datetime) -> QuerySet[Slot]:
    """The slots of `service` a client could hold at `now`, with `seats_taken`."""
    closed = Closure.objects.filter(
        Q(location=OuterRef("location_id")) | Q(clinician=OuterRef("clinician_id")),
        starts_on__lte=OuterRef("date"),
        ends_on__gte=OuterRef("date"),
    )
    if not service.active:
        return Slot.objects.none()
    return (
        slots_with_seats_taken(now=now)
        .filter(
            service=service,
            blocked=False,
            location__active=True,
            clinician__active=True,
            start__gte=now + timedelta(minutes=service.min_notice_minutes),
            start__lte=now + timedelta(days=service.booking_horizon_days),
            seats_taken__lt=F("capacity"),
        )
        .exclude(Exists(closed))
    )


@dataclass(frozen=True)
class WeekOfTimes:
    """The free times of one service at one location in one week."""

    monday: date
    days: list[tuple[date, list[Slot]]]
    previous_monday: date | None
    next_monday: date | None

    @property
    def is_empty(self) -> bool:
        return not any(slots for _day, slots in self.days)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of_free_times(
    *, service: Service, location: Location, monday: date | None, now: datetime
) -> WeekOfTimes:
    """Free times a week at a time, one per start time (whichever clinician has it).

    Without a week asked for, the week of the first free time. Makes two queries
    at most, whatever the number of slots.
    """
    today = timezone.localdate(now)
    if monday is None:
        first_free = (
            slots_bookable(service=service, now=now)
            .filter(location=location)
            .order_by("start")
            .values_list("date", flat=True)
            .first()
        )
        monday = first_free or today
    first_monday = monday_of(today)
    last_monday = monday_of(today + timedelta(days=service.booking_horizon_days))
    monday = min(max(monday_of(monday), first_monday), last_monday)
    sunday = monday + timedelta(days=6)
    slots = (
        slots_bookable(service=service, now=now)
        .filter(location=location, date__gte=monday, date__lte=sunday)
        .order_by("start", "seats_taken", "pk")
        .only("pk", "start", "end", "date", "capacity")
    )
    by_day: dict[date, list[Slot]] = {monday + timedelta(days=i): [] for i in range(7)}
    seen_starts: set[datetime] = set()
    for slot in slots:
        if slot.start in seen_starts:
            continue
        seen_starts.add(slot.start)
        by_day[slot.date].append(slot)
    return WeekOfTimes(
        monday=monday,
        days=list(by_day.items()),
        previous_monday=monday - timedelta(days=7) if monday > first_monday else None,
        next_monday=monday + timedelta(days=7) if monday < last_monday else None,
    )


def slots_nearest_free(*, slot: Slot, now: datetime, limit: int = 5) -> list[Slot]:
    """Free times of the same service and location nearest to `slot`, soonest first."""
    candidates = (
        slots_bookable(service=slot.service, now=now)
        .filter(location_id=slot.location_id)
        .exclude(start=slot.start)
        .select_related("location")
    )
    after = list(candidates.filter(start__gt=slot.start).order_by("start")[: limit * 2])
    before = list(candidates.filter(start__lt=slot.start).order_by("-start")[: limit * 2])
    unique: dict[datetime, Slot] = {}
    for candidate in sorted(after + before, key=lambda s: abs(s.start - slot.start)):
        unique.setdefault(candidate.start, candidate)
    return sorted(list(unique.values())[:limit], key=lambda s: s.start)


def services_active() -> QuerySet[Service]:
    return Service.objects.filter(active=True)


def locations_for_service(*, service: Service) -> QuerySet[Location]:
    return Location.objects.filter(active=True, rules__service=service).distinct().order_by("name")


def intake_questions_for_service(*, service: Service) -> list[IntakeQuestion]:
    return list(
        IntakeQuestion.objects.filter(service=service, active=True)
        .prefetch_related("choices")
        .order_by("order", "pk")
    )


def hash_manage_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def booking_by_manage_token(*, token: str) -> Booking | None:
    """The appointment a manage link opens, or None for any token that opens nothing.

    Only the SHA-256 of the token is stored. A cancelled appointment still opens
    (the client sees that it is cancelled); holds and expired claims never do.
    """
    if not token or len(token) > 100:
        return None
    digest = hash_manage_token(token)
    booking = (
        Booking.objects.select_related("slot__service", "slot__location", "slot__clinician")
        .filter(manage_token_hash=digest)
        .exclude(status__in=[Booking.Status.HELD, Booking.Status.EXPIRED])
        .first()
    )
    if booking is None or not hmac.compare_digest(booking.manage_token_hash, digest):
        return None
    return booking


def hold_by_public_id(*, public_id, allowed: list[str]) -> Booking | None:
    """A hold this browser owns (its id is in the browser's session), or None."""
    if str(public_id) not in allowed:
        return None
    return (
        Booking.objects.select_related("slot__service", "slot__location")
        .filter(public_id=public_id)
        .first()
    )
