"""Writes: the booking rule and everything that changes slots and bookings.

Public: `slot_hold`, `hold_release`, `booking_confirm`, `booking_cancel`,
`booking_reschedule`, `intake_answer_is_acute` and `slots_generate`, with the
exceptions `SlotUnavailable`, `HoldExpired` and `BookingNotChangeable`.

The rule: a slot never has more appointments plus live holds than its capacity.
`_seat_claim` is the only code that gives a booking a seat, and the partial
unique index `booking_one_live_claim_per_seat` makes the database refuse a second
live claim on a seat, whatever the code did before. Two clients who want the
last seat at the same instant both try to insert; one insert wins, the other gets
an IntegrityError inside its savepoint and moves on to the next seat, or learns
the slot is taken.
"""

import io
import secrets
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from .crypto import contact_digest, seal
from .models import (
    AvailabilityRule,
    Booking,
    Closure,
    ContactChannel,
    IntakeAnswer,
    IntakeQuestion,
    Slot,
)
from .notifications import outbox
from .selectors import hash_manage_token, seat_taken_q, slots_open

LOCAL_TZ = ZoneInfo(settings.TIME_ZONE)
# No 0/O, 1/I: a reference is read aloud on the phone.
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class SlotUnavailable(Exception):
    """The slot cannot be held: taken, blocked, closed, too soon, too far or unknown."""


class HoldExpired(Exception):
    """The hold ran out and its seat has gone to someone else."""


class BookingNotChangeable(Exception):
    """The appointment is cancelled, already took place, or is not an appointment."""


@dataclass(frozen=True)
class IntakeResponse:
    question: IntakeQuestion
    # A choice code, a list of codes (multiple choice), "yes"/"no", or typed text.
    value: str | list[str]


@dataclass(frozen=True)
class ContactDetails:
    """Optional, for messages only; the form has validated and normalised them."""

    email: str = ""
    phone: str = ""  # E.164
    channel: str = ""

    def __post_init__(self) -> None:
        if self.channel == ContactChannel.EMAIL and not self.email:
            raise ValueError("an e-mail channel needs an address")
        if self.channel == ContactChannel.SMS and not self.phone:
            raise ValueError("an SMS channel needs a number")


class ContactLimitReached(Exception):
    """This e-mail address or number already has the most appointments one may hold."""


def _apply_contact(booking: Booking, contact: ContactDetails, manage_token: str) -> None:
    booking.email, booking.phone, booking.contact_channel = (
        contact.email,
        contact.phone,
        contact.channel,
    )
    booking.contact_digest = contact_digest(
        contact.email if contact.channel == ContactChannel.EMAIL else contact.phone
    )
    if booking.contact_digest:
        active = (
            Booking.objects.filter(
                contact_digest=booking.contact_digest,
                status=Booking.Status.CONFIRMED,
                slot__start__gt=timezone.now(),
            )
            .exclude(pk=booking.pk)
            .count()
        )
        if active >= settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT:
            raise ContactLimitReached
    # Messages carry the manage link; it is kept, encrypted, only for them.
    booking.manage_token_sealed = seal(manage_token) if contact.channel else ""


def _offer_freed_seats() -> None:
    from .tasks import waitlist_offer_free_slots

    # Robust: with the broker down the booking still commits; beat runs this
    # task every minute anyway.
    transaction.on_commit(waitlist_offer_free_slots.delay, robust=True)


@dataclass(frozen=True)
class ConfirmedBooking:
    booking: Booking
    # Shown to the client once, in the manage link; only its hash is stored.
    manage_token: str


def _seat_claim(*, slot: Slot, claim: Booking, now: datetime) -> Booking:
    """Save `claim` on a free seat of `slot`, or raise SlotUnavailable.

    Must run inside a transaction. An expired hold on the seat is released in
    the same savepoint in which the seat is taken.
    """
    # One read for both: the seats taken, and the seats an expired hold still
    # sits on in the unique index (freed only when someone takes that seat).
    occupied, stale = set(), set()
    claims = (
        Booking.objects.filter(slot=slot, status__in=Booking.SEAT_STATUSES)
        .exclude(pk=claim.pk)
        .values_list("seat", "status", "held_until")
    )
    for seat, status, held_until in claims:
        if status == Booking.Status.HELD and held_until <= now:
            stale.add(seat)
        else:
            occupied.add(seat)
    previous = (claim.slot_id, claim.seat)
    for seat in range(slot.capacity):
        if seat in occupied:
            continue
        try:
            with transaction.atomic():
                if seat in stale:
                    Booking.objects.filter(
                        slot=slot, seat=seat, status=Booking.Status.HELD, held_until__lte=now
                    ).exclude(pk=claim.pk).update(status=Booking.Status.EXPIRED)
                claim.slot, claim.seat = slot, seat
                claim.save()
                return claim
        except IntegrityError:
            continue
    claim.slot_id, claim.seat = previous
    raise SlotUnavailable


def _same_time_slots(*, slot: Slot, now: datetime, by_staff: bool) -> list[Slot]:
    """Bookable slots at the same time, service and location; the chosen one first.

    Clients pick a time, not a clinician: when the chosen slot has just been
    taken, another clinician's slot at the same time serves just as well.
    """
    # Open slots, not only those with a free seat: _seat_claim checks the seats
    # of each in turn anyway, and the seat count is the costliest part to build.
    candidates = slots_open(service=slot.service, now=now, by_staff=by_staff).filter(
        location_id=slot.location_id, start=slot.start
    )
    return sorted(candidates, key=lambda candidate: (candidate.pk != slot.pk, candidate.pk))


def slot_hold(
    *,
    slot_id: int,
    now: datetime | None = None,
    release: Iterable[str] = (),
    by_staff: bool = False,
) -> Booking:
    """Hold a seat of the slot (or of a twin at the same time) for a few minutes.

    `release` lists holds this client had before; they are freed in the same
    transaction, so one browser holds one time at most. `by_staff`: the front
    desk books for a caller or walk-in, within the minimum notice too.
    """
    now = now or timezone.now()
    slot = Slot.objects.select_related("service").filter(pk=slot_id).first()
    if slot is None:
        raise SlotUnavailable
    hold = Booking(
        status=Booking.Status.HELD,
        held_until=now + timedelta(minutes=settings.SPREEKUUR_HOLD_MINUTES),
    )
    with transaction.atomic():
        hold_release(public_ids=release)
        for candidate in _same_time_slots(slot=slot, now=now, by_staff=by_staff):
            try:
                return _seat_claim(slot=candidate, claim=hold, now=now)
            except SlotUnavailable:
                continue
    raise SlotUnavailable


def hold_release(*, public_ids: Iterable[str]) -> int:
    public_ids = list(public_ids)
    if not public_ids:
        return 0
    return Booking.objects.filter(public_id__in=public_ids, status=Booking.Status.HELD).update(
        status=Booking.Status.EXPIRED
    )


def intake_answer_is_acute(*, question: IntakeQuestion, value: str | list[str]) -> bool:
    """Whether an answer means the client needs crisis help now."""
    if question.kind == IntakeQuestion.Kind.YES_NO:
        return bool(question.acute_risk_answer) and value == question.acute_risk_answer
    if question.kind in (IntakeQuestion.Kind.SINGLE_CHOICE, IntakeQuestion.Kind.MULTIPLE_CHOICE):
        codes = set(value) if isinstance(value, list) else {value}
        return any(choice.acute_risk and choice.code in codes for choice in question.choices.all())
    return False


def _new_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def _save_with_new_reference(booking: Booking) -> None:
    for _attempt in range(5):
        booking.reference = _new_reference()
        try:
            with transaction.atomic():
                booking.save()
                return
        except IntegrityError:
            # A clash of references (1 in 10^12) or of seats; the seat cannot
            # clash here, since the row already holds it, so try a new reference.
            continue
    raise IntegrityError("no free reference code after 5 attempts")


def _hold_lock(*, hold_public_id: UUID | str) -> Booking:
    """The hold, locked for this transaction; HoldExpired when it is no hold (any more)."""
    booking = (
        Booking.objects.select_for_update()
        .filter(public_id=hold_public_id)
        .select_related("slot__service")
        .first()
    )
    if booking is None or booking.status not in (Booking.Status.HELD, Booking.Status.EXPIRED):
        raise HoldExpired
    return booking


def _hold_revive(*, booking: Booking, held_until: datetime, now: datetime, by_staff: bool) -> None:
    """A hold that ran out is honoured while its time can be booked and a seat is free.

    A hold still in status HELD kept its seat (taking a seat expires the hold on
    it first); an EXPIRED one claims a seat again, or raises HoldExpired.
    """
    # A HELD hold still has its seat; an EXPIRED one gets one from _seat_claim.
    still_bookable = (
        slots_open(service=booking.slot.service, now=now, by_staff=by_staff)
        .filter(pk=booking.slot_id)
        .first()
    )
    if still_bookable is None:
        raise HoldExpired
    booking.held_until = held_until
    if booking.status == Booking.Status.HELD:
        return
    booking.status = Booking.Status.HELD
    try:
        _seat_claim(slot=still_bookable, claim=booking, now=now)
    except SlotUnavailable:
        raise HoldExpired from None


def booking_confirm(
    *,
    hold_public_id: UUID | str,
    responses: Sequence[IntakeResponse] = (),
    nickname: str = "",
    language: str = Booking.Language.DUTCH,
    source: str = Booking.Source.ONLINE,
    contact: ContactDetails = ContactDetails(),
    now: datetime | None = None,
) -> ConfirmedBooking:
    """Turn a hold into an appointment, with its intake answers.

    A hold that ran out but whose seat nobody took is still honoured. A hold
    whose seat went to someone else raises HoldExpired, unless another seat of
    the same slot is free.
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = _hold_lock(hold_public_id=hold_public_id)
        if booking.status == Booking.Status.EXPIRED or booking.held_until <= now:
            # Staff book by phone or at the desk, within the minimum notice too.
            by_staff = source != Booking.Source.ONLINE
            _hold_revive(booking=booking, held_until=now, now=now, by_staff=by_staff)

        token = secrets.token_urlsafe(32)
        booking.status = Booking.Status.CONFIRMED
        booking.held_until = None
        booking.confirmed_at = now
        booking.manage_token_hash = hash_manage_token(token)
        booking.nickname = nickname.strip()
        booking.language = language
        booking.source = source
        _apply_contact(booking, contact, token)
        booking.acute_risk = any(
            intake_answer_is_acute(question=r.question, value=r.value) for r in responses
        )
        _save_with_new_reference(booking)
        IntakeAnswer.objects.bulk_create(
            IntakeAnswer(
                booking=booking,
                question=response.question,
                value="\n".join(response.value)
                if isinstance(response.value, list)
                else response.value,
                acute_risk=intake_answer_is_acute(question=response.question, value=response.value),
            )
            for response in responses
            if response.value not in ("", [], None)
        )
        outbox.messages_after_confirm(booking=booking, now=now)
    return ConfirmedBooking(booking=booking, manage_token=token)


def _lock_changeable(*, booking: Booking, now: datetime) -> Booking:
    locked = Booking.objects.select_for_update().select_related("slot__service").get(pk=booking.pk)
    if locked.status != Booking.Status.CONFIRMED or locked.slot.start <= now:
        raise BookingNotChangeable
    return locked


def booking_cancel(
    *, booking: Booking, by_staff: bool = False, now: datetime | None = None
) -> Booking:
    """Cancel an appointment that has not yet begun; its seat is free at once."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_changeable(booking=booking, now=now)
        booking.status = Booking.Status.CANCELLED
        booking.cancelled_at = now
        booking.sequence += 1
        booking.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])
        outbox.messages_after_cancel(booking=booking, by_staff=by_staff, now=now)
        _offer_freed_seats()
    return booking


def booking_contact_update(
    *, booking: Booking, contact: ContactDetails, manage_token: str, now: datetime | None = None
) -> Booking:
    """Change or remove the contact details of an appointment; pending messages follow."""
    now = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("slot__service").get(pk=booking.pk)
        )
        _apply_contact(booking, contact, manage_token)
        booking.save(
            update_fields=[
                "email",
                "phone",
                "contact_channel",
                "contact_digest",
                "manage_token_sealed",
                "updated_at",
            ]
        )
        outbox.messages_after_contact_change(booking=booking, now=now)
    return booking


def booking_reschedule(
    *, booking: Booking, slot_id: int, by_staff: bool = False, now: datetime | None = None
) -> Booking:
    """Move an appointment to another time of the same service.

    The old seat is freed and the new one taken in one transaction: the client
    never holds two times, nor loses the old one when the new one is gone.
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = _lock_changeable(booking=booking, now=now)
        target = Slot.objects.select_related("service").filter(pk=slot_id).first()
        if target is None or target.service_id != booking.slot.service_id:
            raise SlotUnavailable
        if target.start == booking.slot.start and target.location_id == booking.slot.location_id:
            raise SlotUnavailable
        for candidate in _same_time_slots(slot=target, now=now, by_staff=by_staff):
            try:
                _seat_claim(slot=candidate, claim=booking, now=now)
            except SlotUnavailable:
                continue
            booking.sequence += 1
            booking.save(update_fields=["sequence", "updated_at"])
            booking.slot = candidate
            outbox.messages_after_reschedule(booking=booking, by_staff=by_staff, now=now)
            _offer_freed_seats()
            return booking
    raise SlotUnavailable


# --- Slot generation -------------------------------------------------------------


@dataclass
class SlotGenerationReport:
    created: int = 0
    updated: int = 0
    removed: int = 0
    retired: int = 0
    # Booked slots that no rule asks for any more; staff resolve these by hand.
    conflicts: list[Slot] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.removed} removed, "
            f"{self.retired} blocked (history kept), {len(self.conflicts)} booked slots in conflict"
        )


def _local_slot_starts(*, day: date, start: time, end: time, minutes: int) -> Iterator[datetime]:
    """Start times (UTC) of slots from local wall-clock times, right across DST changes."""
    step = timedelta(minutes=minutes)
    cursor = datetime.combine(day, start)
    last = datetime.combine(day, end)
    while cursor + step <= last:
        local = cursor.replace(tzinfo=LOCAL_TZ)
        as_utc = local.astimezone(UTC)
        # A wall-clock time skipped when summer time starts does not exist: no slot.
        if as_utc.astimezone(LOCAL_TZ).replace(tzinfo=None) == cursor:
            yield as_utc
        cursor += step


class _Wanted(NamedTuple):
    """A slot a rule asks for; a model instance is made only if it must be created."""

    clinician_id: int
    service_id: int
    location_id: int
    rule_id: int
    start: datetime
    end: datetime
    date: date
    capacity: int

    def as_slot(self) -> Slot:
        return Slot(**self._asdict())


class _Change(NamedTuple):
    """New values for a slot a rule made, when the rule changed."""

    id: int
    service_id: int
    location_id: int
    end: datetime
    capacity: int
    rule_id: int


def _load_temporary_table(cursor, name: str, fields: Sequence[str], rows: Iterable[tuple]) -> str:
    """Create temporary table `name` with the types of those Slot fields, fill it with `rows`.

    Returns the quoted column list. On PostgreSQL a first run inserts some 50,000
    slots (and a rule change may update as many): bulk_create spent more time
    building model instances and SQL than PostgreSQL spent inserting, and
    bulk_update's CASE per batch grows with the square of the batch. COPY sends
    the rows as plain text, and one statement then applies them.
    """
    quote = connection.ops.quote_name
    columns = ", ".join(quote(Slot._meta.get_field(field).column) for field in fields)
    text = io.StringIO()
    for row in rows:
        # ints, dates and aware datetimes: str() is valid COPY text, nothing to escape.
        text.write("\t".join(map(str, row)) + "\n")
    text.seek(0)
    cursor.execute(
        f"CREATE TEMPORARY TABLE {name} AS SELECT {columns}"  # noqa: S608 - names only
        f" FROM {quote(Slot._meta.db_table)} WITH NO DATA"
    )
    cursor.copy_expert(f"COPY {name} ({columns}) FROM STDIN", text)
    return columns


def _insert_slots(slots: Collection[_Wanted]) -> int:
    """Insert `slots` and return how many were inserted.

    A slot whose clinician already has one at that start (made meanwhile by a
    concurrent run or by staff) is skipped, not an error.
    """
    if not slots:
        return 0
    if connection.vendor != "postgresql":
        # SQLite (development): the ORM is fast enough for a demo rota.
        Slot.objects.bulk_create(
            (wanted.as_slot() for wanted in slots), batch_size=2000, ignore_conflicts=True
        )
        return len(slots)
    table = connection.ops.quote_name(Slot._meta.db_table)
    with connection.cursor() as cursor:
        columns = _load_temporary_table(cursor, "generated_slot", _Wanted._fields, slots)
        # COPY itself cannot skip conflicts; this INSERT can.
        cursor.execute(
            f"INSERT INTO {table} ({columns}, blocked) SELECT {columns}, false"  # noqa: S608
            " FROM generated_slot ON CONFLICT (clinician_id, start) DO NOTHING"
        )
        inserted = cursor.rowcount
        # Dropped at once, not at commit: a caller may generate twice in one transaction.
        cursor.execute("DROP TABLE generated_slot")
    return inserted


def _update_slots(changes: Collection[_Change]) -> None:
    """Give slots that rules made the new values of their (changed) rule."""
    if not changes:
        return
    if connection.vendor != "postgresql":
        Slot.objects.bulk_update(
            (Slot(**change._asdict()) for change in changes),
            ["service", "location", "end", "capacity", "rule"],
            batch_size=1000,
        )
        return
    quote = connection.ops.quote_name
    table = quote(Slot._meta.db_table)
    changed = [quote(Slot._meta.get_field(field).column) for field in _Change._fields[1:]]
    assignments = ", ".join(f"{column} = changed_slot.{column}" for column in changed)
    with connection.cursor() as cursor:
        _load_temporary_table(cursor, "changed_slot", _Change._fields, changes)
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM changed_slot"  # noqa: S608 - names only
            f" WHERE {table}.id = changed_slot.id"
        )
        cursor.execute("DROP TABLE changed_slot")


def _desired_slots(
    *, first: date, last: date, now: datetime
) -> dict[tuple[int, datetime], _Wanted]:
    rules = (
        AvailabilityRule.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=first),
            valid_from__lte=last,
            clinician__active=True,
            service__active=True,
            location__active=True,
        )
        .select_related("service")
        .order_by("pk")
    )
    rules_by_weekday: dict[int, list[AvailabilityRule]] = defaultdict(list)
    for rule in rules:
        rules_by_weekday[rule.weekday].append(rule)

    closed_locations: set[tuple[int, date]] = set()
    closed_clinicians: set[tuple[int, date]] = set()
    for closure in Closure.objects.filter(starts_on__lte=last, ends_on__gte=first):
        day = max(closure.starts_on, first)
        while day <= min(closure.ends_on, last):
            if closure.location_id:
                closed_locations.add((closure.location_id, day))
            else:
                closed_clinicians.add((closure.clinician_id, day))
            day += timedelta(days=1)

    # Many clinicians share the same hours: turn each day's wall-clock times into
    # UTC (DST gaps skipped) once per day and pattern, not once per rule.
    times_of_day: dict[tuple[date, time, time, int], list[tuple[datetime, datetime]]] = {}
    desired: dict[tuple[int, datetime], _Wanted] = {}
    day = first
    while day <= last:
        for rule in rules_by_weekday[day.weekday()]:
            if rule.valid_from > day or (rule.valid_until and rule.valid_until < day):
                continue
            if (rule.location_id, day) in closed_locations:
                continue
            if (rule.clinician_id, day) in closed_clinicians:
                continue
            minutes = rule.effective_slot_minutes
            pattern = (day, rule.start_time, rule.end_time, minutes)
            if pattern not in times_of_day:
                starts = _local_slot_starts(
                    day=day, start=rule.start_time, end=rule.end_time, minutes=minutes
                )
                length = timedelta(minutes=minutes)
                times_of_day[pattern] = [
                    (start, start + length) for start in starts if start >= now
                ]
            for start, end in times_of_day[pattern]:
                desired.setdefault(
                    (rule.clinician_id, start),
                    _Wanted(
                        rule.clinician_id,
                        rule.service_id,
                        rule.location_id,
                        rule.pk,
                        start,
                        end,
                        day,
                        rule.capacity,
                    ),
                )
        day += timedelta(days=1)
    return desired


def slots_generate(*, start: date, weeks: int, now: datetime | None = None) -> SlotGenerationReport:
    """Make the slots that the weekly rules minus closures ask for, `weeks` from `start`.

    Idempotent: a second run changes nothing. Slots that no rule asks for any more
    are deleted when nobody ever claimed them, blocked when they only have
    history (cancelled appointments), and left alone when they hold an
    appointment or a live hold: those are reported as conflicts. Past slots are
    never touched, nor slots that staff made by hand.
    """
    now = now or timezone.now()
    first = max(start, timezone.localdate(now))
    last = start + timedelta(weeks=weeks) - timedelta(days=1)
    report = SlotGenerationReport()
    if last < first:
        return report

    desired = _desired_slots(first=first, last=last, now=now)
    in_range = Slot.objects.filter(date__gte=first, date__lte=last, start__gte=now)
    made_by_rules = in_range.filter(rule__isnull=False)
    # Slots that staff made by hand are never changed, but one at a wanted time
    # takes that time's place. So of those only the ones of clinicians that the
    # rules want slots for, not the tens of thousands of a busy site.
    wanted_clinicians = {wanted.clinician_id for wanted in desired.values()}
    by_hand = in_range.filter(rule__isnull=True, clinician_id__in=wanted_clinicians)
    compared = made_by_rules | by_hand
    # Plain rows, not model instances: a second run over 50 clinicians x 12 weeks
    # compares some 50,000 slots and changes none of them.
    existing = compared.values_list(
        "pk",
        "clinician_id",
        "start",
        "service_id",
        "location_id",
        "end",
        "capacity",
        "rule_id",
        "blocked",
    ).order_by()
    # Seats in use and claims, only for the slots that have any bookings at all.
    usage = {
        row["slot_id"]: (row["seats_in_use"], row["claims"])
        for row in Booking.objects.filter(slot__in=made_by_rules)
        .values("slot_id")
        .annotate(
            seats_in_use=Count("pk", filter=seat_taken_q(now=now)),
            claims=Count("pk", filter=~Q(status=Booking.Status.EXPIRED)),
        )
        .order_by()
    }
    to_update: list[_Change] = []
    to_delete: list[int] = []
    to_retire: list[int] = []
    conflicts: list[int] = []
    for (
        pk,
        clinician_id,
        start,
        service_id,
        location_id,
        end,
        capacity,
        rule_id,
        blocked,
    ) in existing:
        wanted = desired.pop((clinician_id, start), None)
        if rule_id is None:
            continue  # made by hand: staff own it
        seats_in_use, claims = usage.get(pk, (0, 0))
        if wanted is None:
            if seats_in_use:
                conflicts.append(pk)
            elif claims:
                if not blocked:
                    to_retire.append(pk)
            else:
                to_delete.append(pk)
            continue
        same_place = (service_id, location_id, end) == (
            wanted.service_id,
            wanted.location_id,
            wanted.end,
        )
        if same_place and capacity == wanted.capacity and rule_id == wanted.rule_id:
            continue
        if seats_in_use and (not same_place or wanted.capacity < seats_in_use):
            conflicts.append(pk)
            continue
        to_update.append(
            _Change(
                pk,
                wanted.service_id,
                wanted.location_id,
                wanted.end,
                wanted.capacity,
                wanted.rule_id,
            )
        )

    with transaction.atomic():
        report.created = _insert_slots(desired.values())
        _update_slots(to_update)
        # Expired holds are no history worth keeping; they must not pin a slot.
        Booking.objects.filter(slot_id__in=to_delete, status=Booking.Status.EXPIRED).delete()
        Slot.objects.filter(pk__in=to_delete).delete()
        Slot.objects.filter(pk__in=to_retire).update(blocked=True)
    report.conflicts = list(Slot.objects.filter(pk__in=conflicts).order_by("start"))
    report.updated = len(to_update)
    report.removed = len(to_delete)
    report.retired = len(to_retire)
    return report


# --- Attendance ------------------------------------------------------------------


def booking_mark_attendance(*, booking: Booking, attended: bool, now: datetime) -> Booking:
    """Record that the client came (or did not) to an appointment of today or the past.

    Allowed once the appointment's day has come: a front desk marks a client who
    arrives early, and a clinician catches up on yesterday's list. A wrong mark
    may be corrected (attended <-> no-show); a cancelled appointment, a hold or
    an appointment of a later day raises BookingNotChangeable. The seat stays
    taken either way; reminders still pending are dropped when they fall due,
    since the outbox only sends them for confirmed appointments.
    """
    with transaction.atomic():
        locked = Booking.objects.select_for_update().select_related("slot").get(pk=booking.pk)
        if locked.status not in Booking.APPOINTMENT_STATUSES:
            raise BookingNotChangeable
        if locked.slot.start > now and locked.slot.date != timezone.localdate(now):
            raise BookingNotChangeable
        status = Booking.Status.ATTENDED if attended else Booking.Status.NO_SHOW
        if locked.status != status:
            locked.status = status
            locked.sequence += 1
            locked.save(update_fields=["status", "sequence", "updated_at"])
    return locked


# --- Hold extension ----------------------------------------------------------------

# A hold may grow to this many times the hold time in all: ten extensions of one,
# the least WCAG 2.2.1 (timing adjustable) allows.
HOLD_EXTENSION_FACTOR = 11


class HoldNotExtendable(Exception):
    """The hold has had all the extra time it may get."""


def hold_extend(*, hold_public_id: UUID | str, now: datetime | None = None) -> Booking:
    """Give a hold SPREEKUUR_HOLD_MINUTES more from now (WCAG 2.2.1, timing adjustable).

    A hold that ran out but whose seat nobody took is extended too; one whose seat
    went to someone else, or whose time can no longer be booked, raises HoldExpired.
    A hold never runs longer than HOLD_EXTENSION_FACTOR hold times after it was
    made (so at least ten extensions): the last one is cut short at that limit,
    and one more raises HoldNotExtendable. No model change: the cap is
    `held_until - created_at`.
    """
    now = now or timezone.now()
    minutes = timedelta(minutes=settings.SPREEKUUR_HOLD_MINUTES)
    with transaction.atomic():
        booking = _hold_lock(hold_public_id=hold_public_id)
        latest = booking.created_at + HOLD_EXTENSION_FACTOR * minutes
        new_until = min(now + minutes, latest)
        if new_until <= max(booking.held_until or now, now):
            raise HoldNotExtendable
        if booking.status == Booking.Status.HELD and booking.held_until > now:
            booking.held_until = new_until
        else:
            _hold_revive(booking=booking, held_until=new_until, now=now, by_staff=False)
        booking.save(update_fields=["status", "seat", "slot", "held_until", "updated_at"])
    return booking
