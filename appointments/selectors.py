"""Reads: every query a client page makes, in one place.

Each selector takes keyword-only arguments and returns a queryset or plain
values. A slot is *bookable* when it belongs to an active service, location and
clinician, is not blocked, falls in no closure, starts no earlier than the
service's minimum notice and no later than its booking horizon, and has a seat
that no appointment or live hold occupies. `slots_bookable` is the single
definition; the booking services use it too, so the page and the rule agree.
`slots_open` is the same without the seat: for the services that take a seat
right after (the unique index on live claims decides that part), since the
seat count is the costliest part of the query to build.
"""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, Min, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek
from django.utils import timezone

from .models import Booking, Closure, IntakeQuestion, Location, Service, Slot


def seat_taken_q(*, now: datetime, prefix: str = "") -> Q:
    """Bookings that occupy a seat at `now`: appointments and live holds."""
    return Q(**{f"{prefix}status__in": Booking.APPOINTMENT_STATUSES}) | Q(
        **{f"{prefix}status": Booking.Status.HELD, f"{prefix}held_until__gt": now}
    )


def slots_open(*, service: Service, now: datetime, by_staff: bool = False) -> QuerySet[Slot]:
    """The slots of `service` open for booking at `now`, whether or not a seat is free.

    `by_staff`: booked by the front desk for a caller or a walk-in, who may take a
    time within the service's minimum notice (not one that has begun).
    """
    notice = 0 if by_staff else service.min_notice_minutes
    if not service.active:
        return Slot.objects.none()
    closed = Closure.objects.filter(
        Q(location=OuterRef("location_id")) | Q(clinician=OuterRef("clinician_id")),
        starts_on__lte=OuterRef("date"),
        ends_on__gte=OuterRef("date"),
    )
    return Slot.objects.filter(
        service=service,
        blocked=False,
        location__active=True,
        clinician__active=True,
        start__gte=now + timedelta(minutes=notice),
        start__lte=now + timedelta(days=service.booking_horizon_days),
    ).exclude(Exists(closed))


def slots_bookable(*, service: Service, now: datetime, by_staff: bool = False) -> QuerySet[Slot]:
    """The slots of `service` a client could hold at `now`, with `seats_taken`."""
    taken = (
        Booking.objects.filter(seat_taken_q(now=now), slot=OuterRef("pk"))
        .order_by()
        .values("slot")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        slots_open(service=service, now=now, by_staff=by_staff)
        .annotate(seats_taken=Coalesce(Subquery(taken), Value(0)))
        .filter(seats_taken__lt=F("capacity"))
    )


@dataclass(frozen=True)
class FreeTime:
    """A time a client can pick: one of the free slots that start then."""

    pk: int
    start: datetime
    # "14:20" in Amsterdam time, formatted once here: the page shows a hundred
    # or more of these, and the template's |time filter costs ~0.1 ms each.
    clock: str


@dataclass(frozen=True)
class WeekOfTimes:
    """The free times of one service at one location in one week."""

    monday: date
    days: list[tuple[date, list[FreeTime]]]
    previous_monday: date | None
    next_monday: date | None

    @property
    def is_empty(self) -> bool:
        return not any(slots for _day, slots in self.days)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of_free_times(
    *,
    service: Service,
    location: Location,
    monday: date | None,
    now: datetime,
    by_staff: bool = False,
) -> WeekOfTimes:
    """Free times a week at a time, one per start time (whichever clinician has it).

    Without a week asked for, the week of the first free time. Makes two queries
    at most, whatever the number of slots.
    """
    today = timezone.localdate(now)
    if monday is None:
        first_free = (
            slots_bookable(service=service, now=now, by_staff=by_staff)
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
    # One row per start time, grouped in SQL: with ten clinicians a week holds
    # over a thousand slots but some hundred times (make bench: 60 ms → 26 ms).
    # The bounds on `start` as well as `date` let PostgreSQL read only this week
    # from the (service, location, start) index instead of the whole horizon.
    zone = timezone.get_current_timezone()
    week_starts = datetime.combine(monday, time.min, tzinfo=zone)
    week_ends = datetime.combine(sunday + timedelta(days=1), time.min, tzinfo=zone)
    times = (
        slots_bookable(service=service, now=now, by_staff=by_staff)
        .filter(
            location=location,
            date__gte=monday,
            date__lte=sunday,
            start__gte=week_starts,
            start__lt=week_ends,
        )
        .values("date", "start")
        .annotate(slot_pk=Min("pk"))
        .order_by("start")
    )
    by_day: dict[date, list[FreeTime]] = {monday + timedelta(days=i): [] for i in range(7)}
    for row in times:
        start = row["start"]
        clock = timezone.localtime(start).strftime("%H:%M")
        by_day[row["date"]].append(FreeTime(pk=row["slot_pk"], start=start, clock=clock))
    return WeekOfTimes(
        monday=monday,
        days=list(by_day.items()),
        previous_monday=monday - timedelta(days=7) if monday > first_monday else None,
        next_monday=monday + timedelta(days=7) if monday < last_monday else None,
    )


def week_of_free_times_shared(
    *, service: Service, location: Location, monday: date | None, now: datetime
) -> WeekOfTimes:
    """`week_of_free_times` as the client pages show it: one reading shared by every
    client for SPREEKUUR_FREE_TIMES_CACHE_SECONDS.

    When a phone line or a site opens, thousands ask for the same week within
    seconds; one of them per few seconds runs the query. A time taken in those
    seconds is still offered; picking it gives the "taken" page, whose nearest
    free times are read fresh. Staff pages read fresh always.
    """
    seconds = settings.SPREEKUUR_FREE_TIMES_CACHE_SECONDS
    if seconds <= 0:
        return week_of_free_times(service=service, location=location, monday=monday, now=now)
    # Today is in the key: the first week and the horizon move at midnight. The
    # "v1" changes when WeekOfTimes or FreeTime do, so a deploy never unpickles an
    # old shape.
    key = f"free-times:v1:{service.pk}:{location.pk}:{monday}:{timezone.localdate(now)}"
    week = cache.get(key)
    if week is None:
        week = week_of_free_times(service=service, location=location, monday=monday, now=now)
        cache.set(key, week, seconds)
    return week


def slots_nearest_free(
    *, slot: Slot, now: datetime, limit: int = 5, by_staff: bool = False
) -> list[Slot]:
    """Free times of the same service and location nearest to `slot`, soonest first."""
    candidates = (
        slots_bookable(service=slot.service, now=now, by_staff=by_staff)
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


# How long after the appointment its manage link still shows it.
MANAGE_LINK_GRACE = timedelta(days=1)


def hash_manage_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def booking_by_manage_token(*, token: str) -> Booking | None:
    """The appointment a manage link opens, or None for any token that opens nothing.

    Only the SHA-256 of the token is stored, and it is compared in constant time.
    A link stops working when its appointment is cancelled (a used cancel link
    cannot be replayed) and a day after the appointment ended; such a link, an
    altered one and an unknown one all look the same: None, so a 404.
    """
    if not token or len(token) > 100:
        return None
    digest = hash_manage_token(token)
    booking = (
        Booking.objects.select_related("slot__service", "slot__location", "slot__clinician")
        .filter(
            manage_token_hash=digest,
            status__in=Booking.APPOINTMENT_STATUSES,
            slot__end__gt=timezone.now() - MANAGE_LINK_GRACE,
        )
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


# --- Staff pages: day agenda, slot conflicts, dashboard ---------------------------

# The day list shows what happened to each appointment, cancellations included;
# holds and expired holds are no appointments and stay out.
AGENDA_STATUSES = (*Booking.APPOINTMENT_STATUSES, Booking.Status.CANCELLED)


def agenda_bookings(
    *,
    day: date,
    location_id: int | None = None,
    clinician_id: int | None = None,
    clinician_user=None,
) -> QuerySet[Booking]:
    """The appointments of one local day in time order, in one query.

    `clinician_user` narrows the list to the appointments of the clinician whose
    account that is: what a clinician without `view_all_bookings` may see.
    """
    bookings = (
        Booking.objects.filter(slot__date=day, status__in=AGENDA_STATUSES)
        .select_related("slot__clinician", "slot__location", "slot__service")
        .order_by("slot__start", "slot__clinician__display_name", "pk")
    )
    if location_id:
        bookings = bookings.filter(slot__location_id=location_id)
    if clinician_id:
        bookings = bookings.filter(slot__clinician_id=clinician_id)
    if clinician_user is not None:
        bookings = bookings.filter(slot__clinician__user=clinician_user)
    return bookings


def slot_conflicts(*, slot_ids: list[int], now: datetime) -> list[tuple[Slot, list[Booking]]]:
    """Booked slots that no rule asks for any more, each with the bookings that occupy it.

    Two queries. The bookings are appointments and live holds, as the booking rule counts.
    """
    slots = (
        Slot.objects.filter(pk__in=slot_ids)
        .select_related("clinician", "service", "location")
        .order_by("start", "clinician__display_name")
    )
    by_slot: dict[int, list[Booking]] = {slot_id: [] for slot_id in slot_ids}
    bookings = (
        Booking.objects.filter(seat_taken_q(now=now), slot_id__in=slot_ids)
        .only("pk", "slot_id", "reference", "status")
        .order_by("slot_id", "seat")
    )
    for booking in bookings:
        by_slot[booking.slot_id].append(booking)
    return [(slot, by_slot[slot.pk]) for slot in slots]


@dataclass(frozen=True)
class WeekFigures:
    monday: date
    appointments: int
    attended: int
    no_show: int
    cancelled: int


def bookings_per_week(*, first_monday: date, weeks: int) -> list[WeekFigures]:
    """Appointments per week of their date, every week present, in one query.

    Grouped on `Slot.date`, the local (Europe/Amsterdam) date, so a week runs from
    Monday 00:00 to Sunday 24:00 Amsterdam time on SQLite and PostgreSQL alike,
    without time-zone arithmetic in SQL.
    """
    last_day = first_monday + timedelta(weeks=weeks, days=-1)
    rows = (
        Booking.objects.filter(slot__date__gte=first_monday, slot__date__lte=last_day)
        .annotate(week=TruncWeek("slot__date"))
        .values("week")
        .annotate(
            appointments=Count("pk", filter=Q(status__in=Booking.APPOINTMENT_STATUSES)),
            attended=Count("pk", filter=Q(status=Booking.Status.ATTENDED)),
            no_show=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
            cancelled=Count("pk", filter=Q(status=Booking.Status.CANCELLED)),
        )
        .order_by("week")
    )
    found = {row.pop("week"): row for row in rows}
    empty = {"appointments": 0, "attended": 0, "no_show": 0, "cancelled": 0}
    mondays = [first_monday + timedelta(weeks=n) for n in range(weeks)]
    return [WeekFigures(monday=monday, **found.get(monday, empty)) for monday in mondays]


@dataclass
class RateFigures:
    """Fill rate and no-show rate of one service, one location, or all of them."""

    label: str
    seats_offered: int = 0
    seats_booked: int = 0
    attended: int = 0
    no_show: int = 0

    @property
    def fill_rate(self) -> float | None:
        return self.seats_booked / self.seats_offered if self.seats_offered else None

    @property
    def no_show_rate(self) -> float | None:
        recorded = self.attended + self.no_show
        return self.no_show / recorded if recorded else None


@dataclass(frozen=True)
class DashboardRates:
    per_service: list[RateFigures]
    per_location: list[RateFigures]
    total: RateFigures


def dashboard_rates(*, first: date, last: date, total_label: str) -> DashboardRates:
    """Fill and no-show rates from `first` to `last` (local dates), in two queries.

    Seats offered: the capacity of slots that were open for booking (not blocked,
    in no closure). Seats booked: appointments in those slots. The no-show rate
    counts only appointments whose attendance was recorded.
    """
    closed = Closure.objects.filter(
        Q(location=OuterRef("location_id")) | Q(clinician=OuterRef("clinician_id")),
        starts_on__lte=OuterRef("date"),
        ends_on__gte=OuterRef("date"),
    )
    offered = Slot.objects.filter(date__gte=first, date__lte=last, blocked=False).exclude(
        Exists(closed)
    )
    seats = (
        offered.values("service_id", "service__name_nl", "location_id", "location__name")
        .annotate(seats=Sum("capacity"))
        .order_by()
    )
    booked = (
        Booking.objects.filter(
            slot__in=offered.values("pk"), status__in=Booking.APPOINTMENT_STATUSES
        )
        .values("slot__service_id", "slot__location_id")
        .annotate(
            booked=Count("pk"),
            attended=Count("pk", filter=Q(status=Booking.Status.ATTENDED)),
            no_show=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
        )
        .order_by()
    )
    services: dict[int, RateFigures] = {}
    locations: dict[int, RateFigures] = {}
    total = RateFigures(label=total_label)
    for row in seats:
        for figures in (
            services.setdefault(row["service_id"], RateFigures(label=row["service__name_nl"])),
            locations.setdefault(row["location_id"], RateFigures(label=row["location__name"])),
            total,
        ):
            figures.seats_offered += row["seats"]
    for row in booked:
        # Every booked seat lies in an offered slot, so both keys exist.
        for figures in (
            services[row["slot__service_id"]],
            locations[row["slot__location_id"]],
            total,
        ):
            figures.seats_booked += row["booked"]
            figures.attended += row["attended"]
            figures.no_show += row["no_show"]
    return DashboardRates(
        per_service=sorted(services.values(), key=lambda f: f.label),
        per_location=sorted(locations.values(), key=lambda f: f.label),
        total=total,
    )
