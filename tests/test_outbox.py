"""The outbox rules, with time frozen: what is written when, and what is sent when.

Every moment here is an aware Europe/Amsterdam time; the quiet-hours cases run
on both nights the clocks change (spring 2027-03-27/28, autumn 2026-10-24/25).
"""

import logging
import smtplib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.mail.backends.base import BaseEmailBackend

from appointments import services, tasks
from appointments.models import Booking, Message
from appointments.notifications import outbox
from appointments.notifications.outbox import outbox_dispatch
from appointments.notifications.sms import BaseSmsBackend, LocmemSmsBackend
from appointments.services import ContactDetails
from tests.factories import ServiceFactory, SlotFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
EMAIL = "client.private@example.org"
PHONE = "+31612345678"
Kind, Status = Message.Kind, Message.Status


def at(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def hours_between(later: datetime, earlier: datetime) -> float:
    # Through UTC: Python subtracts two times of one zone on the wall clock.
    return (later.astimezone(UTC) - earlier.astimezone(UTC)).total_seconds() / 3600


def make_slot(start: datetime, *, hours=(24, 2), service=None):
    service = service or ServiceFactory(reminder_hours=list(hours))
    return SlotFactory(start=start, end=start + timedelta(minutes=30), service=service)


def book(slot, *, channel: str = "email", language: str = "nl") -> Booking:
    contact = {
        "email": ContactDetails(email=EMAIL, channel="email"),
        "sms": ContactDetails(phone=PHONE, channel="sms"),
        "": ContactDetails(),
    }[channel]
    hold = services.slot_hold(slot_id=slot.pk)
    return services.booking_confirm(
        hold_public_id=hold.public_id, contact=contact, language=language
    ).booking


def messages_of(booking: Booking, **filters) -> list[Message]:
    return list(Message.objects.filter(booking=booking, **filters).order_by("due_at", "pk"))


def reminders(booking: Booking, status=Status.PENDING) -> list[datetime]:
    return [m.due_at for m in messages_of(booking, kind=Kind.REMINDER, status=status)]


@pytest.fixture
def frozen():
    with time_machine.travel(at(2026, 6, 10, 9, 0), tick=False) as traveller:
        yield traveller


# --- Written with the booking ---------------------------------------------------------


def test_confirmation_and_default_reminders_are_written_with_the_booking(
    frozen, django_capture_on_commit_callbacks
):
    slot = make_slot(at(2026, 6, 12, 14, 0))

    with django_capture_on_commit_callbacks() as callbacks:
        booking = book(slot)

    confirmation = messages_of(booking, kind=Kind.CONFIRMATION)
    assert [(m.channel, m.status, m.due_at) for m in confirmation] == [
        ("email", Status.PENDING, at(2026, 6, 10, 9, 0))
    ]
    assert reminders(booking) == [at(2026, 6, 11, 14, 0), at(2026, 6, 12, 12, 0)]
    assert {m.appointment_start for m in messages_of(booking, kind=Kind.REMINDER)} == {slot.start}
    # The worker is told only after the commit, so it finds the rows; no argument.
    assert callbacks == [tasks.outbox_dispatch.delay]


def test_a_failure_after_the_messages_were_written_leaves_neither_booking_nor_messages(
    frozen, monkeypatch
):
    slot = make_slot(at(2026, 6, 12, 14, 0))

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "_add_reminders", broken)
    with pytest.raises(RuntimeError):
        book(slot)  # the confirmation row was already written when this failed

    assert Message.objects.count() == 0
    assert Booking.objects.get().status == Booking.Status.HELD


def test_reminder_hours_come_from_the_service(frozen):
    three_days = book(make_slot(at(2026, 6, 13, 10, 0), hours=[72, 1]))
    none = book(make_slot(at(2026, 6, 13, 11, 0), hours=[]))

    assert reminders(three_days) == [at(2026, 6, 10, 10, 0), at(2026, 6, 13, 9, 0)]
    assert reminders(none) == []
    assert len(messages_of(none, kind=Kind.CONFIRMATION)) == 1


def test_a_reminder_whose_moment_has_passed_is_not_written(frozen):
    booking = book(make_slot(at(2026, 6, 10, 12, 0)))  # in three hours: 24 h has passed

    assert reminders(booking) == [at(2026, 6, 10, 10, 0)]


def test_a_booking_without_contact_gets_no_messages(frozen):
    booking = book(make_slot(at(2026, 6, 12, 14, 0)), channel="")

    assert messages_of(booking) == []


# --- Cancel and reschedule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("by_staff", "kind"), [(False, Kind.CANCEL_RECEIPT), (True, Kind.CANCELLED_BY_STAFF)]
)
def test_cancel_cancels_pending_reminders_and_writes_a_receipt(frozen, by_staff, kind):
    booking = book(make_slot(at(2026, 6, 12, 14, 0)))
    outbox_dispatch()  # the confirmation goes
    frozen.shift(timedelta(hours=1))

    services.booking_cancel(booking=booking, by_staff=by_staff)

    assert reminders(booking) == []
    assert len(reminders(booking, status=Status.CANCELLED)) == 2
    assert [(m.kind, m.status, m.due_at) for m in messages_of(booking, status=Status.PENDING)] == [
        (kind, Status.PENDING, at(2026, 6, 10, 10, 0))
    ]
    assert messages_of(booking, kind=Kind.CONFIRMATION)[0].status == Status.SENT


def test_the_cancel_receipt_carries_a_calendar_cancellation(frozen, mailoutbox):
    booking = book(make_slot(at(2026, 6, 12, 14, 0)))
    outbox_dispatch()
    services.booking_cancel(booking=booking)

    outbox_dispatch()

    assert len(mailoutbox) == 2
    confirmation_ics, cancel_ics = (str(m.message()).replace("\r\n", "\n") for m in mailoutbox)
    assert "METHOD:PUBLISH" in confirmation_ics and "SEQUENCE:0" in confirmation_ics
    assert "METHOD:CANCEL" in cancel_ics and "SEQUENCE:1" in cancel_ics
    uid = f"UID:{booking.public_id}@spreekuur"
    assert uid in confirmation_ics and uid in cancel_ics


@pytest.mark.parametrize(
    ("by_staff", "kind"), [(False, Kind.RESCHEDULE_RECEIPT), (True, Kind.RESCHEDULED_BY_STAFF)]
)
def test_reschedule_moves_the_reminders_to_the_new_time(frozen, by_staff, kind):
    old = make_slot(at(2026, 6, 12, 14, 0))
    new = make_slot(at(2026, 6, 15, 11, 0), service=old.service)
    booking = book(old)

    services.booking_reschedule(booking=booking, slot_id=new.pk, by_staff=by_staff)

    cancelled = messages_of(booking, kind=Kind.REMINDER, status=Status.CANCELLED)
    assert [m.appointment_start for m in cancelled] == [old.start, old.start]
    assert reminders(booking) == [at(2026, 6, 14, 11, 0), at(2026, 6, 15, 9, 0)]
    assert {m.appointment_start for m in messages_of(booking, kind=Kind.REMINDER)} == {
        old.start,
        new.start,
    }
    receipts = messages_of(booking, kind=kind)
    assert [(m.status, m.due_at) for m in receipts] == [(Status.PENDING, at(2026, 6, 10, 9, 0))]


# --- Dropped at send time ---------------------------------------------------------------


def test_a_reminder_for_an_old_appointment_time_is_dropped_when_due(frozen, mailoutbox):
    booking = book(make_slot(at(2026, 6, 12, 14, 0)))
    stale = Message.objects.create(
        booking=booking,
        kind=Kind.REMINDER,
        channel="email",
        due_at=at(2026, 6, 10, 9, 0),
        appointment_start=at(2026, 6, 11, 14, 0),  # a time the booking no longer has
    )

    report = outbox_dispatch()

    stale.refresh_from_db()
    assert stale.status == Status.CANCELLED
    assert report.dropped == 1 and report.sent == 1
    assert [m.subject for m in mailoutbox] == ["Je afspraak bij de GGD op vr 12 jun om 14:00"]


def test_a_removed_contact_drops_pending_messages_when_due(frozen, mailoutbox):
    booking = book(make_slot(at(2026, 6, 12, 14, 0)))
    outbox_dispatch()
    # Removed without going through the service (a race, or a data fix by hand):
    # the address is read at the moment of sending, so nothing goes.
    Booking.objects.filter(pk=booking.pk).update(email="", contact_channel="")

    frozen.move_to(at(2026, 6, 11, 14, 0))
    report = outbox_dispatch()

    assert report.sent == 0 and report.dropped == 1
    assert len(mailoutbox) == 1  # the confirmation only
    assert [m.status for m in messages_of(booking, kind=Kind.REMINDER)] == [
        Status.CANCELLED,
        Status.PENDING,
    ]


def test_removing_the_contact_through_the_service_cancels_everything_pending(frozen):
    booking = book(make_slot(at(2026, 6, 12, 14, 0)))

    services.booking_contact_update(
        booking=booking, contact=ContactDetails(), manage_token="unused"
    )

    assert messages_of(booking, status=Status.PENDING) == []
    assert len(messages_of(booking, status=Status.CANCELLED)) == 3


# --- Quiet hours for SMS, on both nights the clocks change ------------------------------

# (the Saturday, the Sunday) of each change: spring forward and fall back.
NIGHTS = {
    "summer-time-starts": ((2027, 3, 27), (2027, 3, 28)),
    "summer-time-ends": ((2026, 10, 24), (2026, 10, 25)),
}


@pytest.fixture(params=list(NIGHTS))
def night(request):
    return NIGHTS[request.param]


def test_a_reminder_that_would_fall_at_2330_goes_at_2159(night):
    saturday, sunday = night
    appointment = at(*sunday, 10, 0)
    hours = hours_between(appointment, at(*saturday, 23, 30))
    with time_machine.travel(at(*saturday, 12, 0), tick=False) as traveller:
        booking = book(make_slot(appointment, hours=[hours]), channel="sms")
        assert reminders(booking) == [at(*saturday, 21, 59)]

        traveller.move_to(at(*saturday, 21, 58))
        outbox_dispatch()
        assert len(LocmemSmsBackend.outbox) == 1  # the confirmation
        traveller.move_to(at(*saturday, 21, 59))
        outbox_dispatch()

    assert len(LocmemSmsBackend.outbox) == 2
    assert "herinnering" in LocmemSmsBackend.outbox[1]["body"]


def test_a_reminder_that_would_fall_at_0700_goes_at_2159_the_evening_before(night):
    saturday, sunday = night
    with time_machine.travel(at(*saturday, 12, 0), tick=False):
        booking = book(make_slot(at(*sunday, 10, 0), hours=[3]), channel="sms")

    assert reminders(booking) == [at(*saturday, 21, 59)]
    assert hours_between(at(*sunday, 10, 0), at(*sunday, 7, 0)) == 3


def test_a_reminder_whose_evening_has_passed_goes_at_0800_if_before_the_appointment(night):
    saturday, sunday = night
    with time_machine.travel(at(*saturday, 22, 30), tick=False):
        at_ten = book(make_slot(at(*sunday, 10, 0), hours=[3]), channel="sms")
        at_eight = book(make_slot(at(*sunday, 8, 0), hours=[1]), channel="sms")

    assert reminders(at_ten) == [at(*sunday, 8, 0)]
    assert reminders(at_eight) == []  # 08:00 is not before the appointment: no reminder


def test_a_confirmation_sms_at_2300_waits_until_0800(night):
    saturday, sunday = night
    with time_machine.travel(at(*saturday, 23, 0), tick=False) as traveller:
        booking = book(make_slot(at(*sunday, 14, 0), hours=[]), channel="sms")
        (confirmation,) = messages_of(booking)
        assert confirmation.due_at == at(*sunday, 8, 0)

        outbox_dispatch()
        traveller.move_to(at(*sunday, 7, 59))
        outbox_dispatch()
        assert LocmemSmsBackend.outbox == []
        traveller.move_to(at(*sunday, 8, 0))
        outbox_dispatch()

    assert len(LocmemSmsBackend.outbox) == 1
    assert LocmemSmsBackend.outbox[0]["to"] == PHONE


def test_an_sms_claimed_in_the_night_waits_for_the_morning(night):
    saturday, sunday = night
    with time_machine.travel(at(*saturday, 21, 0), tick=False) as traveller:
        booking = book(make_slot(at(*sunday, 14, 0), hours=[]), channel="sms")
        # The worker was down: the confirmation is still due when it comes back at night.
        traveller.move_to(at(*saturday, 22, 5))
        report = outbox_dispatch()

    (confirmation,) = messages_of(booking)
    assert report.postponed == 1 and LocmemSmsBackend.outbox == []
    assert (confirmation.status, confirmation.due_at) == (Status.PENDING, at(*sunday, 8, 0))
    assert confirmation.attempts == 0


def test_email_is_never_held_back_at_night(night, mailoutbox):
    saturday, sunday = night
    appointment = at(*sunday, 10, 0)
    hours = hours_between(appointment, at(*saturday, 23, 30))
    with time_machine.travel(at(*saturday, 23, 0), tick=False) as traveller:
        booking = book(make_slot(appointment, hours=[hours]), channel="email")
        assert messages_of(booking, kind=Kind.CONFIRMATION)[0].due_at == at(*saturday, 23, 0)
        assert reminders(booking) == [at(*saturday, 23, 30)]

        outbox_dispatch()
        traveller.move_to(at(*saturday, 23, 30))
        outbox_dispatch()

    assert len(mailoutbox) == 2


# --- Failures and retries ---------------------------------------------------------------


class RefusingEmailBackend(BaseEmailBackend):
    """An SMTP server that refuses the recipient and quotes the address back."""

    def send_messages(self, email_messages):
        to = email_messages[0].to[0]
        raise smtplib.SMTPRecipientsRefused({to: (550, f"5.1.1 <{to}>: unknown".encode())})


class RefusingSmsBackend(BaseSmsBackend):
    def send(self, *, to: str, body: str, reference: str) -> str:
        raise RuntimeError(f"provider refused {to}: {body}")


@pytest.mark.parametrize(
    ("channel", "setting", "backend", "secret"),
    [
        (
            "email",
            "MAILERS",
            {"default": {"BACKEND": "tests.test_outbox.RefusingEmailBackend"}},
            EMAIL,
        ),
        ("sms", "SMS_BACKEND", "tests.test_outbox.RefusingSmsBackend", PHONE),
    ],
)
def test_a_failing_backend_is_retried_with_backoff_then_failed_without_personal_data(
    frozen, settings, caplog, channel, setting, backend, secret
):
    settings.SPREEKUUR_OUTBOX_MAX_ATTEMPTS = 4
    setattr(settings, setting, backend)
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]), channel=channel)
    (message,) = messages_of(booking)
    caplog.set_level(logging.INFO)

    waits = []
    for attempt in range(1, 5):
        report = outbox_dispatch()
        message.refresh_from_db()
        assert message.attempts == attempt
        assert secret not in message.last_error and "@" not in message.last_error
        if attempt < 4:
            assert (report.retried, message.status) == (1, Status.PENDING)
            waits.append(message.due_at - datetime.now(tz=UTC))
            # Not before it is due again.
            frozen.move_to(message.due_at - timedelta(seconds=1))
            assert outbox_dispatch().claimed == 0
            frozen.move_to(message.due_at)

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert (report.failed, message.status) == (1, Status.FAILED)
    assert message.last_error in ("SMTPRecipientsRefused", "RuntimeError")
    assert secret not in caplog.text
    # Failed is final: nothing picks it up again.
    frozen.shift(timedelta(days=1))
    assert outbox_dispatch().claimed == 0


def test_a_message_that_failed_before_is_sent_once_the_backend_works(frozen, settings, mailoutbox):
    settings.MAILERS = {"default": {"BACKEND": "tests.test_outbox.RefusingEmailBackend"}}
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]))
    outbox_dispatch()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    frozen.shift(timedelta(minutes=1))

    outbox_dispatch()

    (message,) = messages_of(booking)
    assert (message.status, message.attempts, message.last_error) == (Status.SENT, 2, "")
    assert len(mailoutbox) == 1


# --- Claims, leases and running twice -----------------------------------------------------


def test_a_message_whose_dispatcher_lost_its_lease_is_sent_by_the_next(frozen, mailoutbox):
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]))
    (message,) = messages_of(booking)
    # A dispatcher claimed it and was killed before sending.
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_until=at(2026, 6, 10, 8, 59), attempts=1
    )

    report = outbox_dispatch()

    message.refresh_from_db()
    assert (report.sent, message.status, message.attempts) == (1, Status.SENT, 2)
    assert message.claimed_until is None
    assert len(mailoutbox) == 1


def test_an_sms_the_provider_already_has_is_not_sent_again_after_a_crash(frozen):
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]), channel="sms")
    (message,) = messages_of(booking)
    # A worker handed it to the provider and died before it could mark it sent.
    LocmemSmsBackend.outbox.append(
        {"to": booking.phone, "body": "…", "reference": str(message.public_id)}
    )
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING,
        claimed_until=at(2026, 6, 10, 8, 59),
        send_started_at=at(2026, 6, 10, 8, 54),
        attempts=1,
    )

    report = outbox_dispatch()

    message.refresh_from_db()
    assert (report.recovered, message.status) == (1, Status.SENT)
    assert message.provider_id == f"locmem-{message.public_id}"
    assert len(LocmemSmsBackend.outbox) == 1


def test_an_sms_that_never_reached_the_provider_is_sent_after_a_crash(frozen):
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]), channel="sms")
    (message,) = messages_of(booking)
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING,
        claimed_until=at(2026, 6, 10, 8, 59),
        send_started_at=at(2026, 6, 10, 8, 54),
        attempts=1,
    )

    report = outbox_dispatch()

    assert (report.recovered, report.sent) == (0, 1)
    assert [sms["reference"] for sms in LocmemSmsBackend.outbox] == [str(message.public_id)]


def test_sending_commits_send_started_before_the_provider_sees_the_message(frozen, settings):
    seen = []

    class Spy(BaseSmsBackend):
        def send(self, *, to, body, reference):
            seen.append(Message.objects.get(public_id=reference).send_started_at)
            return "spy"

    settings.SMS_BACKEND = f"{__name__}.SpyBackend"
    globals()["SpyBackend"] = Spy
    book(make_slot(at(2026, 6, 12, 14, 0), hours=[]), channel="sms")

    outbox_dispatch()

    assert seen and seen[0] is not None


def test_a_message_under_a_live_lease_is_left_to_its_dispatcher(frozen, mailoutbox):
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]))
    (message,) = messages_of(booking)
    Message.objects.filter(pk=message.pk).update(
        status=Status.SENDING, claimed_until=at(2026, 6, 10, 9, 4), attempts=1
    )

    assert outbox_dispatch().claimed == 0
    frozen.move_to(at(2026, 6, 10, 9, 4, 1))
    assert outbox_dispatch().sent == 1
    assert len(mailoutbox) == 1


def test_dispatching_twice_in_a_row_sends_nothing_twice(frozen, mailoutbox):
    email_booking = book(make_slot(at(2026, 6, 12, 14, 0)))
    sms_booking = book(make_slot(at(2026, 6, 12, 15, 0)), channel="sms")

    first, second = outbox_dispatch(), outbox_dispatch()

    assert (first.sent, second.claimed, second.sent) == (2, 0, 0)
    assert len(mailoutbox) == 1 and len(LocmemSmsBackend.outbox) == 1
    for booking in (email_booking, sms_booking):
        (confirmation,) = messages_of(booking, kind=Kind.CONFIRMATION)
        assert confirmation.status == Status.SENT and confirmation.sent_at is not None
    message_id = mailoutbox[0].extra_headers["Message-ID"]
    assert str(messages_of(email_booking, kind=Kind.CONFIRMATION)[0].public_id) in message_id
    assert mailoutbox[0].to == [EMAIL]


def test_the_dispatch_task_sends_what_is_due(frozen, mailoutbox):
    book(make_slot(at(2026, 6, 12, 14, 0)))

    result = tasks.outbox_dispatch.apply().get()

    assert result["sent"] == 1 and len(mailoutbox) == 1


def test_a_dispatcher_that_outlived_its_lease_leaves_a_taken_over_message_alone(
    frozen, settings, monkeypatch
):
    """Dispatcher A claims, stalls past its lease (a paused VM, a hung connection), and
    dispatcher B claims the message. A must not send it now: B is sending it."""
    booking = book(make_slot(at(2026, 6, 12, 14, 0), hours=[]), channel="sms")
    (message,) = messages_of(booking)
    real_claim = outbox._claim

    def claim_then_stall(**kwargs):
        claimed = real_claim(**kwargs)
        frozen.shift(timedelta(seconds=settings.SPREEKUUR_OUTBOX_LEASE_SECONDS + 1))
        real_claim(now=datetime.now(tz=UTC), limit=10)  # B takes over
        return claimed

    monkeypatch.setattr(outbox, "_claim", claim_then_stall)
    report = outbox_dispatch()  # A carries on after its stall
    monkeypatch.setattr(outbox, "_claim", real_claim)

    message.refresh_from_db()
    assert LocmemSmsBackend.outbox == [] and report.sent == 0
    assert (message.status, message.attempts) == (Status.SENDING, 2)  # B's claim stands
    # B died too: once B's lease has run out, the next dispatcher sends it, once.
    frozen.shift(timedelta(seconds=settings.SPREEKUUR_OUTBOX_LEASE_SECONDS + 1))
    assert outbox_dispatch().sent == 1
    assert len(LocmemSmsBackend.outbox) == 1


# --- Batches ------------------------------------------------------------------------------


def _due_sms_reminders(settings, count: int) -> list[Booking]:
    """`count` confirmed SMS bookings, each with a reminder that is due now."""
    settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT = count
    bookings = [
        book(make_slot(at(2026, 6, 12, 9, 0) + timedelta(hours=n), hours=[]), channel="sms")
        for n in range(count)
    ]
    outbox_dispatch()  # the confirmations go
    LocmemSmsBackend.outbox = []
    for booking in bookings:
        Message.objects.create(
            booking=booking,
            kind=Kind.REMINDER,
            channel="sms",
            due_at=at(2026, 6, 10, 9, 0),
            appointment_start=booking.slot.start,
        )
    return bookings


def test_a_batch_commits_send_started_for_all_its_messages_before_the_first_send(frozen, settings):
    _due_sms_reminders(settings, 3)
    seen = []

    class Spy(BaseSmsBackend):
        def send(self, *, to, body, reference):
            seen.append(
                Message.objects.filter(kind=Kind.REMINDER, send_started_at__isnull=True).count()
            )
            return "spy"

    settings.SMS_BACKEND = f"{__name__}.BatchSpyBackend"
    globals()["BatchSpyBackend"] = Spy

    assert outbox_dispatch().sent == 3
    assert seen == [0, 0, 0]


def test_a_batch_drops_its_obsolete_messages_and_sends_the_rest(frozen, settings):
    kept, cancelled, moved = _due_sms_reminders(settings, 3)
    services.booking_cancel(booking=cancelled, by_staff=True)
    Message.objects.filter(booking=cancelled, kind=Kind.REMINDER).update(status=Status.PENDING)
    moved.slot.start += timedelta(days=1)
    moved.slot.end += timedelta(days=1)
    moved.slot.save()
    LocmemSmsBackend.outbox = []

    report = outbox_dispatch()

    # The staff's cancellation notice goes out in the same batch.
    assert (report.claimed, report.sent, report.dropped) == (4, 2, 2)
    sent = {sms["reference"] for sms in LocmemSmsBackend.outbox}
    for booking in (cancelled, moved):
        assert str(messages_of(booking, kind=Kind.REMINDER)[0].public_id) not in sent
    assert str(messages_of(kept, kind=Kind.REMINDER)[0].public_id) in sent
    statuses = {
        booking.pk: messages_of(booking, kind=Kind.REMINDER)[0].status
        for booking in (kept, cancelled, moved)
    }
    assert statuses == {
        kept.pk: Status.SENT,
        cancelled.pk: Status.CANCELLED,
        moved.pk: Status.CANCELLED,
    }


def test_each_sent_message_of_a_batch_keeps_its_own_provider_id(frozen, settings):
    bookings = _due_sms_reminders(settings, 3)

    assert outbox_dispatch().sent == 3

    for booking in bookings:
        (reminder,) = messages_of(booking, kind=Kind.REMINDER)
        assert reminder.status == Status.SENT and reminder.claimed_until is None
        assert reminder.provider_id == f"locmem-{reminder.public_id}"


def test_one_failure_in_a_batch_is_retried_alone(frozen, settings):
    first, failing, last = _due_sms_reminders(settings, 3)

    class RefusesOne(BaseSmsBackend):
        def send(self, *, to, body, reference):
            if reference == str(messages_of(failing, kind=Kind.REMINDER)[0].public_id):
                raise RuntimeError("refused")
            return LocmemSmsBackend().send(to=to, body=body, reference=reference)

    settings.SMS_BACKEND = f"{__name__}.RefusesOneBackend"
    globals()["RefusesOneBackend"] = RefusesOne

    report = outbox_dispatch()

    assert (report.sent, report.retried) == (2, 1)
    assert [m.status for m in messages_of(failing, kind=Kind.REMINDER)] == [Status.PENDING]
    assert len(LocmemSmsBackend.outbox) == 2


@pytest.mark.parametrize("count", [1, 10])
def test_a_batch_costs_the_same_queries_whatever_its_size(
    frozen, settings, count, django_assert_num_queries
):
    """Claim (4, in its transaction), read, mark started, mark sent: 7, not 3 per message."""
    _due_sms_reminders(settings, count)

    with django_assert_num_queries(7):
        report = outbox_dispatch()

    assert report.sent == count


class SpyEmailBackend(BaseEmailBackend):
    """Records, at each e-mail, how many messages were already marked sent."""

    seen: list[int] = []

    def send_messages(self, email_messages):
        SpyEmailBackend.seen.append(Message.objects.filter(status=Status.SENT).count())
        return len(email_messages)


def test_each_email_of_a_batch_is_marked_sent_as_soon_as_it_has_gone(frozen, settings):
    """SMTP cannot be asked after a crash what it has: an e-mail not yet marked sent
    goes out again, so a batch must not keep its sent e-mails unmarked until its end."""
    settings.MAILERS = {"default": {"BACKEND": "tests.test_outbox.SpyEmailBackend"}}
    settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT = 3
    SpyEmailBackend.seen = []
    for hour in (10, 11, 12):
        book(make_slot(at(2026, 6, 12, hour, 0), hours=[]))

    assert outbox_dispatch().sent == 3
    assert SpyEmailBackend.seen == [0, 1, 2]
