"""Retention with time moved forward: personal data goes when its purpose has."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import AccessLogEntry, Booking, IntakeAnswer, Message, WaitlistEntry
from appointments.retention import booking_personal_data_erase, personal_data_purge
from tests.factories import (
    AccessLogEntryFactory,
    IntakeQuestionFactory,
    SlotFactory,
    WaitlistEntryFactory,
)

pytestmark = pytest.mark.django_db


def _booking(**contact) -> Booking:
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service)
    hold = services.slot_hold(slot_id=slot.pk)
    return services.booking_confirm(
        hold_public_id=hold.public_id,
        nickname="Sam",
        responses=[services.IntakeResponse(question=question, value="Iets persoonlijks")],
        contact=services.ContactDetails(**contact) if contact else services.ContactDetails(),
    ).booking


def _deliver_everything():
    Message.objects.filter(status=Message.Status.PENDING).update(status=Message.Status.SENT)


def test_contact_details_stay_while_a_message_can_still_be_due():
    booking = _booking(email="sam@example.org", channel="email")

    personal_data_purge()

    booking.refresh_from_db()
    assert booking.email == "sam@example.org" and booking.manage_token_sealed


def test_contact_details_go_once_the_appointment_is_over_and_nothing_is_pending():
    booking = _booking(email="sam@example.org", channel="email")
    _deliver_everything()

    with time_machine.travel(booking.slot.end + timedelta(minutes=1)):
        report = personal_data_purge()

    booking.refresh_from_db()
    assert report.contacts == 1
    assert (booking.email, booking.phone, booking.contact_channel) == ("", "", "")
    assert booking.manage_token_sealed == ""
    assert booking.nickname == "Sam"  # intake data has its own, longer term


def test_intake_nickname_and_note_go_after_the_retention_days(settings):
    settings.SPREEKUUR_RETENTION_DAYS = 30
    booking = _booking()
    Booking.objects.filter(pk=booking.pk).update(staff_note="Gesprek ging goed")

    with time_machine.travel(booking.slot.end + timedelta(days=29)):
        personal_data_purge()
    assert IntakeAnswer.objects.filter(booking=booking).exists()

    with time_machine.travel(booking.slot.end + timedelta(days=31)):
        report = personal_data_purge()

    booking.refresh_from_db()
    assert report.intakes == 1
    assert not IntakeAnswer.objects.filter(booking=booking).exists()
    assert (booking.nickname, booking.staff_note) == ("", "")
    # What stays is not personal and still counts for the dashboard.
    assert booking.status == Booking.Status.CONFIRMED and booking.slot_id


def test_a_dry_run_counts_and_changes_nothing(capsys):
    booking = _booking(email="sam@example.org", channel="email")
    _deliver_everything()

    with time_machine.travel(booking.slot.end + timedelta(days=40)):
        call_command("purge_personal_data", "--dry-run")

    assert "Would erase: contact details of 1 bookings, intake data of 1" in capsys.readouterr().out
    booking.refresh_from_db()
    assert booking.email == "sam@example.org"


def test_finished_waitlist_entries_lose_their_contact_and_waiting_ones_keep_it():
    waiting = WaitlistEntryFactory()
    done = WaitlistEntryFactory(status=WaitlistEntry.Status.CANCELLED)

    personal_data_purge()

    waiting.refresh_from_db()
    done.refresh_from_db()
    assert waiting.email and (done.email, done.contact_channel) == ("", "")


def test_a_waitlist_entry_ends_after_its_days_and_loses_its_contact_that_night(settings):
    settings.SPREEKUUR_WAITLIST_DAYS = 30
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=31)):
        old = WaitlistEntryFactory()
        old_offered = WaitlistEntryFactory(status=WaitlistEntry.Status.OFFERED)
    with time_machine.travel(now - timedelta(days=29)):
        recent = WaitlistEntryFactory()

    report = personal_data_purge(now=now)

    old.refresh_from_db()
    recent.refresh_from_db()
    old_offered.refresh_from_db()
    assert old.status == WaitlistEntry.Status.EXPIRED
    assert (old.email, old.phone, old.contact_channel) == ("", "", "")
    assert recent.status == WaitlistEntry.Status.WAITING and recent.email
    # An entry with an offer running is left to the offer's own end.
    assert old_offered.status == WaitlistEntry.Status.OFFERED and old_offered.email
    assert (report.waitlist_expired, report.waitlist_contacts) == (1, 1)


def test_the_waitlist_pages_say_how_long_an_entry_is_kept(client, settings):
    settings.SPREEKUUR_WAITLIST_DAYS = 21
    slot = SlotFactory()

    join = client.get(reverse("appointments:waitlist_join", args=[slot.service.pk]))
    joined = client.get(reverse("appointments:waitlist_joined", args=[slot.service.pk]))

    assert "hoogstens 21 dagen op de wachtlijst" in join.content.decode()
    assert "Na 21 dagen zonder bericht" in joined.content.decode()


def test_the_access_log_is_never_purged():
    AccessLogEntryFactory(booking_reference="ABCD-2345")

    with time_machine.travel(timezone.now() + timedelta(days=3650)):
        personal_data_purge()

    assert AccessLogEntry.objects.filter(booking_reference="ABCD-2345").exists()


def test_a_client_erases_their_data_at_once():
    booking = _booking(email="sam@example.org", channel="email")

    booking_personal_data_erase(booking=booking)

    assert (booking.nickname, booking.email, booking.contact_channel) == ("", "", "")
    assert not IntakeAnswer.objects.filter(booking=booking).exists()
    assert not Message.objects.filter(booking=booking, status=Message.Status.PENDING).exists()
    assert booking.status == Booking.Status.CONFIRMED


def test_the_manage_page_erases_the_clients_data(client):
    from django.urls import reverse

    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service)
    response = client.post(reverse("appointments:hold"), {"slot": slot.pk})
    response = client.post(response["Location"], {f"question_{question.pk}": "Iets"})
    token = response["Location"].split("/")[2]

    assert client.get(reverse("appointments:erase", args=[token])).status_code == 200
    client.post(reverse("appointments:erase", args=[token]))

    booking = Booking.objects.get(slot=slot)
    assert booking.personal_data_erased_at is not None
    assert not IntakeAnswer.objects.filter(booking=booking).exists()
    assert client.get(reverse("appointments:erase", args=["wrong-token"])).status_code == 404


def test_expired_sessions_are_cleared_every_night(client):
    from django.contrib.sessions.models import Session
    from django.utils import timezone as tz

    from appointments import tasks

    client.post(reverse("appointments:hold"), {"slot": SlotFactory().pk})
    assert Session.objects.count() == 1

    with time_machine.travel(tz.now() + timedelta(days=1)):
        tasks.sessions_clear()

    assert Session.objects.count() == 0
