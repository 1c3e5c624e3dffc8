from datetime import timedelta

import pytest
from django.utils import timezone

from appointments import selectors, services
from appointments.models import Booking, Closure, IntakeAnswer, IntakeQuestion
from tests.factories import (
    BookingFactory,
    IntakeChoiceFactory,
    IntakeQuestionFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db


def _book(slot, **kwargs):
    hold = services.slot_hold(slot_id=slot.pk)
    return services.booking_confirm(hold_public_id=hold.public_id, **kwargs)


def test_a_hold_takes_the_seat_until_it_expires_without_any_job():
    slot = SlotFactory(capacity=1)
    now = timezone.now()
    services.slot_hold(slot_id=slot.pk, now=now)

    with pytest.raises(services.SlotUnavailable):
        services.slot_hold(slot_id=slot.pk, now=now + timedelta(minutes=9))
    later = services.slot_hold(slot_id=slot.pk, now=now + timedelta(minutes=11))

    assert later.status == Booking.Status.HELD
    assert Booking.objects.filter(slot=slot, status=Booking.Status.EXPIRED).count() == 1


def test_a_client_holds_one_time_at_most():
    first, second = SlotFactory(), SlotFactory()
    hold = services.slot_hold(slot_id=first.pk)

    services.slot_hold(slot_id=second.pk, release=[str(hold.public_id)])

    hold.refresh_from_db()
    assert hold.status == Booking.Status.EXPIRED
    assert (
        selectors.slots_bookable(service=first.service, now=timezone.now())
        .filter(pk=first.pk)
        .exists()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"blocked": True},
        {"start_offset": timedelta(minutes=-30)},  # inside the minimum notice
        {"start_offset": timedelta(days=-3)},  # in the past
        {"start_offset": timedelta(days=60)},  # beyond the horizon
    ],
)
def test_blocked_past_too_soon_or_too_far_slots_cannot_be_held(change):
    start = timezone.now() + change.get("start_offset", timedelta(days=2))
    slot = SlotFactory(start=start, blocked=change.get("blocked", False))
    with pytest.raises(services.SlotUnavailable):
        services.slot_hold(slot_id=slot.pk)


def test_slots_in_a_closure_cannot_be_held():
    slot = SlotFactory()
    Closure.objects.create(
        starts_on=slot.date, ends_on=slot.date, clinician=slot.clinician, reason="Ziek"
    )
    with pytest.raises(services.SlotUnavailable):
        services.slot_hold(slot_id=slot.pk)


def test_an_unknown_slot_cannot_be_held():
    with pytest.raises(services.SlotUnavailable):
        services.slot_hold(slot_id=999_999)


def test_a_taken_time_falls_back_to_another_clinician_at_the_same_time():
    slot = SlotFactory()
    twin = SlotFactory(service=slot.service, location=slot.location, start=slot.start)
    _book(slot)

    hold = services.slot_hold(slot_id=slot.pk)

    assert hold.slot == twin


def test_confirming_makes_a_reference_and_stores_only_the_hash_of_the_manage_token():
    confirmed = _book(SlotFactory(), nickname="  Sam ", language="en")

    booking = confirmed.booking
    assert booking.status == Booking.Status.CONFIRMED
    assert len(booking.reference) == 9 and booking.reference[4] == "-"
    assert len(confirmed.manage_token) >= 43
    assert confirmed.manage_token not in booking.manage_token_hash
    assert booking.manage_token_hash == selectors.hash_manage_token(confirmed.manage_token)
    assert booking.nickname == "Sam" and booking.language == "en"
    assert selectors.booking_by_manage_token(token=confirmed.manage_token) == booking


@pytest.mark.parametrize("token", ["", "x", "A" * 43, "A" * 500])
def test_a_wrong_token_opens_nothing(token):
    _book(SlotFactory())
    assert selectors.booking_by_manage_token(token=token) is None


def test_the_reference_alone_opens_nothing():
    confirmed = _book(SlotFactory())
    assert selectors.booking_by_manage_token(token=confirmed.booking.reference) is None


def test_an_expired_hold_whose_seat_nobody_took_is_still_honoured():
    slot = SlotFactory()
    hold = services.slot_hold(slot_id=slot.pk)
    later = timezone.now() + timedelta(minutes=30)

    confirmed = services.booking_confirm(hold_public_id=hold.public_id, now=later)

    assert confirmed.booking.pk == hold.pk
    assert confirmed.booking.status == Booking.Status.CONFIRMED


def test_an_expired_hold_whose_seat_was_taken_cannot_be_confirmed():
    slot = SlotFactory()
    now = timezone.now()
    mine = services.slot_hold(slot_id=slot.pk, now=now)
    services.slot_hold(slot_id=slot.pk, now=now + timedelta(minutes=11))

    with pytest.raises(services.HoldExpired):
        services.booking_confirm(hold_public_id=mine.public_id, now=now + timedelta(minutes=12))
    assert Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED).count() == 0


def test_an_acute_answer_flags_the_booking_for_triage():
    slot = SlotFactory()
    feel_safe = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SINGLE_CHOICE)
    IntakeChoiceFactory(question=feel_safe, code="yes")
    IntakeChoiceFactory(question=feel_safe, code="crisis", acute_risk=True)
    injecting = IntakeQuestionFactory(
        service=slot.service, kind=IntakeQuestion.Kind.YES_NO, acute_risk_answer="yes"
    )
    note = IntakeQuestionFactory(service=slot.service)

    confirmed = _book(
        slot,
        responses=[
            services.IntakeResponse(question=feel_safe, value="crisis"),
            services.IntakeResponse(question=injecting, value="no"),
            services.IntakeResponse(question=note, value=""),
        ],
    )

    assert confirmed.booking.acute_risk
    answers = {a.question_id: a for a in IntakeAnswer.objects.filter(booking=confirmed.booking)}
    assert set(answers) == {feel_safe.pk, injecting.pk}  # empty answers are not stored
    assert answers[feel_safe.pk].acute_risk and not answers[injecting.pk].acute_risk


def test_no_acute_answer_means_no_triage_flag():
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.MULTIPLE_CHOICE)
    IntakeChoiceFactory(question=question, code="ghb")
    IntakeChoiceFactory(question=question, code="crisis", acute_risk=True)

    confirmed = _book(slot, responses=[services.IntakeResponse(question=question, value=["ghb"])])

    assert not confirmed.booking.acute_risk
    assert IntakeAnswer.objects.get(booking=confirmed.booking).value == "ghb"


def test_cancelling_frees_the_seat_at_once():
    slot = SlotFactory()
    booking = _book(slot).booking

    services.booking_cancel(booking=booking)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.sequence == 1
    assert _book(slot).booking.status == Booking.Status.CONFIRMED


def test_a_past_or_cancelled_appointment_cannot_be_changed():
    booking = BookingFactory(status=Booking.Status.CANCELLED)
    with pytest.raises(services.BookingNotChangeable):
        services.booking_cancel(booking=booking)
    past = BookingFactory(slot=SlotFactory(start=timezone.now() - timedelta(hours=1)))
    with pytest.raises(services.BookingNotChangeable):
        services.booking_reschedule(booking=past, slot_id=SlotFactory(service=past.slot.service).pk)


def test_rescheduling_moves_the_booking_and_frees_the_old_slot():
    old = SlotFactory()
    new = SlotFactory(
        service=old.service, location=old.location, start=old.start + timedelta(days=1)
    )
    confirmed = _book(old)

    services.booking_reschedule(booking=confirmed.booking, slot_id=new.pk)

    booking = Booking.objects.get(pk=confirmed.booking.pk)
    assert booking.slot == new and booking.sequence == 1
    assert booking.reference == confirmed.booking.reference
    assert selectors.booking_by_manage_token(token=confirmed.manage_token) == booking
    assert _book(old).booking.slot == old


def test_rescheduling_to_a_taken_slot_keeps_the_old_one():
    old = SlotFactory()
    full = SlotFactory(
        service=old.service, location=old.location, start=old.start + timedelta(days=1)
    )
    _book(full)
    booking = _book(old).booking

    with pytest.raises(services.SlotUnavailable):
        services.booking_reschedule(booking=booking, slot_id=full.pk)

    booking.refresh_from_db()
    assert booking.slot == old and booking.status == Booking.Status.CONFIRMED


def test_rescheduling_to_another_service_is_refused():
    booking = _book(SlotFactory()).booking
    with pytest.raises(services.SlotUnavailable):
        services.booking_reschedule(booking=booking, slot_id=SlotFactory().pk)


def test_the_database_refuses_a_second_live_claim_on_a_seat():
    from django.db import IntegrityError, transaction

    booking = BookingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(
            slot=booking.slot,
            seat=0,
            status=Booking.Status.HELD,
            held_until=timezone.now() + timedelta(minutes=5),
        )


def test_a_hold_on_a_seat_without_an_expired_hold_writes_nothing_but_itself():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    slot = SlotFactory(capacity=3)
    services.slot_hold(slot_id=slot.pk)  # seat 0, live

    with CaptureQueriesContext(connection) as captured:
        services.slot_hold(slot_id=slot.pk)

    writes = [q["sql"] for q in captured if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT")
