"""The waitlist: join, get the first time that frees up, take it or let it go to the next."""

import re
import threading
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Booking, ContactChannel, Message, WaitlistEntry
from appointments.notifications.outbox import outbox_dispatch
from appointments.notifications.sms import LocmemSmsBackend
from appointments.waitlist import (
    OfferUnavailable,
    waitlist_accept,
    waitlist_decline,
    waitlist_join,
    waitlist_offer_by_token,
    waitlist_offer_free_slots,
)
from tests.factories import (
    AMSTERDAM,
    AvailabilityRuleFactory,
    BookingFactory,
    LocationFactory,
    SlotFactory,
)

# A Tuesday morning: offers are not made during the SMS quiet hours.
MORNING = datetime(2027, 6, 8, 10, 0, tzinfo=AMSTERDAM)
Status = WaitlistEntry.Status


@pytest.fixture
def morning(time_machine):
    time_machine.move_to(MORNING, tick=False)
    return time_machine


def _slot(**kwargs):
    """A free slot the day after tomorrow at 14:00: far enough ahead to be offered."""
    return SlotFactory(**kwargs)


def _join(slot, *, location=None, email="", phone="", channel=ContactChannel.EMAIL):
    email = email or ("wacht@example.org" if channel == ContactChannel.EMAIL else "")
    return waitlist_join(
        service=slot.service, location=location, email=email, phone=phone, channel=channel
    )


def _offer_url(entry_with_message) -> str:
    """The offer link from the e-mail the client received."""
    outbox_dispatch()
    (message,) = [m for m in mail.outbox if m.to == [entry_with_message.email]]
    match = re.search(r"https?://\S+?(/wachtlijst/[\w-]+/)", message.body)
    assert match, message.body
    return match.group(1)


# --- Joining ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_free_times_page_links_to_the_waitlist(client, morning):
    slot = _slot()

    response = client.get(reverse("appointments:times", args=[slot.service.pk, slot.location.pk]))

    join_url = reverse("appointments:waitlist_join", args=[slot.service.pk])
    assert f"{join_url}?locatie={slot.location.pk}" in response.content.decode()


@pytest.mark.django_db
def test_a_client_joins_the_waitlist_through_the_page(client, morning):
    slot = _slot()
    AvailabilityRuleFactory(service=slot.service, location=slot.location)
    url = reverse("appointments:waitlist_join", args=[slot.service.pk])
    url += f"?locatie={slot.location.pk}"

    page = client.get(url)
    response = client.post(url, {"email": " Wacht@Example.org ", "consent": "on"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert response["Location"] == reverse("appointments:waitlist_joined", args=[slot.service.pk])
    done = client.get(response["Location"])
    assert "Je staat op de wachtlijst" in done.content.decode()
    entry = WaitlistEntry.objects.get()
    assert (entry.service, entry.location, entry.status) == (slot.service, slot.location, "waiting")
    assert (entry.email, entry.phone, entry.contact_channel) == ("wacht@example.org", "", "email")
    assert entry.offer_token_hash is None and entry.offers_made == 0


@pytest.mark.django_db
def test_joining_by_sms_keeps_only_the_number_in_e164(client, morning):
    slot = _slot()
    url = reverse("appointments:waitlist_join", args=[slot.service.pk])

    response = client.post(
        url,
        {
            "email": "wacht@example.org",
            "phone": "06-12345678",
            "contact_channel": "sms",
            "consent": "on",
        },
    )

    assert response.status_code == 302
    entry = WaitlistEntry.objects.get()
    assert entry.location is None  # any location
    assert (entry.phone, entry.email, entry.contact_channel) == ("+31612345678", "", "sms")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"consent": "on"}, "email", "Vul een e-mailadres of een mobiel nummer in."),
        ({"phone": "020 555 1234", "consent": "on"}, "phone", "Dit is geen mobiel nummer."),
        ({"email": "wacht@example.org"}, "consent", "Zet een vinkje."),
        (
            {"email": "wacht@example.org", "phone": "0612345678", "consent": "on"},
            "contact_channel",
            "Kies of je het bericht per e-mail of per sms wilt krijgen.",
        ),
    ],
)
def test_a_wrong_join_form_says_what_is_wrong_and_keeps_what_was_typed(
    client, morning, data, field, text
):
    slot = _slot()
    url = reverse("appointments:waitlist_join", args=[slot.service.pk])

    response = client.post(url, data)

    html = response.content.decode()
    assert response.status_code == 200
    assert text in html
    assert response.context["form"].has_error(field)
    for value in (data.get("email"), data.get("phone")):
        if value:
            assert f'value="{value}"' in html
    assert not WaitlistEntry.objects.exists()


@pytest.mark.django_db
def test_a_location_of_another_service_gives_404(client, morning):
    slot = _slot()
    other = LocationFactory()
    url = reverse("appointments:waitlist_join", args=[slot.service.pk])

    assert client.get(url, {"locatie": other.pk}).status_code == 404
    assert client.get(url, {"locatie": "abc"}).status_code == 404


# --- Offers -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_cancelled_appointment_is_offered_to_the_first_client_waiting(morning):
    booking = BookingFactory(slot=_slot())
    slot = booking.slot
    first = _join(slot, email="eerste@example.org")
    second = _join(slot, email="tweede@example.org")
    assert waitlist_offer_free_slots() == 0  # nothing free yet

    services.booking_cancel(booking=booking)
    made = waitlist_offer_free_slots()

    first.refresh_from_db()
    second.refresh_from_db()
    assert made == 1
    assert first.status == Status.OFFERED and first.offers_made == 1
    assert first.offer.slot == slot and first.offer.status == Booking.Status.HELD
    assert first.offer.held_until == timezone.now() + timedelta(
        minutes=settings.SPREEKUUR_WAITLIST_OFFER_MINUTES
    )
    assert second.status == Status.WAITING and second.offer is None
    assert Message.objects.filter(waitlist_entry=first, kind=Message.Kind.WAITLIST_OFFER).count()


@pytest.mark.django_db
def test_the_offer_email_has_the_link_and_no_service_name(client, morning):
    slot = _slot(service__name_nl="Chemsex-spreekuur", service__name_en="Chemsex consultation")
    entry = _join(slot)
    waitlist_offer_free_slots()

    url = _offer_url(entry)

    (message,) = mail.outbox
    everything = " ".join([message.subject, message.body, message.alternatives[0][0]])
    assert "chemsex" not in everything.lower()
    assert url in message.alternatives[0][0]
    page = client.get(url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"] or page["Cache-Control"].startswith("max-age=0")
    assert "14:00" in page.content.decode()


@pytest.mark.django_db
def test_an_sms_offer_carries_the_link(morning):
    slot = _slot()
    _join(slot, phone="+31612345678", channel=ContactChannel.SMS)
    waitlist_offer_free_slots()

    outbox_dispatch()

    (sms,) = LocmemSmsBackend.outbox
    assert "/wachtlijst/" in sms["body"]


@pytest.mark.django_db
def test_taking_the_offer_leads_to_the_intake_and_books_the_time(client, morning):
    slot = _slot()
    entry = _join(slot)
    waitlist_offer_free_slots()
    url = _offer_url(entry)
    entry.refresh_from_db()
    hold = entry.offer

    response = client.post(url, {"answer": "accept"})

    intake_url = reverse("appointments:intake", args=[hold.public_id])
    assert response.status_code == 302 and response["Location"] == intake_url
    assert client.get(intake_url).status_code == 200
    response = client.post(intake_url, {})
    assert response.status_code == 302 and response["Location"].startswith("/mijn-afspraak/")
    hold.refresh_from_db()
    entry.refresh_from_db()
    assert hold.status == Booking.Status.CONFIRMED and hold.slot == slot
    assert entry.status == Status.BOOKED
    # The link has done its work.
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_a_taken_offer_opens_again_in_another_browser_until_it_is_booked(client, morning):
    from django.test import Client

    entry = _join(_slot())
    waitlist_offer_free_slots()
    url = _offer_url(entry)
    client.post(url, {"answer": "accept"})
    entry.refresh_from_db()

    other = Client()
    response = other.post(url, {"answer": "accept"})

    assert response["Location"] == reverse("appointments:intake", args=[entry.offer.public_id])
    assert other.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_saying_no_gives_the_time_to_the_next_client(client, morning):
    slot = _slot()
    first = _join(slot, email="eerste@example.org")
    second = _join(slot, email="tweede@example.org")
    waitlist_offer_free_slots()
    url = _offer_url(first)

    response = client.post(url, {"answer": "decline"})

    assert response.status_code == 302 and response["Location"] == reverse("appointments:home")
    first.refresh_from_db()
    assert first.status == Status.CANCELLED and first.offer is None
    assert first.offer_token_hash is None and first.offer_token_sealed == ""
    assert client.get(url).status_code == 404
    assert waitlist_offer_free_slots() == 1
    second.refresh_from_db()
    assert second.status == Status.OFFERED and second.offer.slot == slot


@pytest.mark.django_db
def test_an_offer_that_runs_out_goes_to_the_next_client(client, morning):
    slot = _slot()
    first = _join(slot, email="eerste@example.org")
    second = _join(slot, email="tweede@example.org")
    waitlist_offer_free_slots()
    url = _offer_url(first)

    morning.shift(timedelta(minutes=settings.SPREEKUUR_WAITLIST_OFFER_MINUTES, seconds=1))
    assert client.get(url).status_code == 404
    made = waitlist_offer_free_slots()

    first.refresh_from_db()
    second.refresh_from_db()
    assert made == 1
    assert first.status == Status.CANCELLED and first.offers_made == 1
    assert second.status == Status.OFFERED and second.offer.slot == slot
    assert Booking.objects.filter(slot=slot, status=Booking.Status.HELD).count() == 1
    assert client.get(url).status_code == 404


@pytest.mark.django_db
def test_running_twice_makes_no_second_offer_for_the_same_slot(morning):
    slot = _slot()
    first = _join(slot, email="eerste@example.org")
    second = _join(slot, email="tweede@example.org")

    assert waitlist_offer_free_slots() == 1
    assert waitlist_offer_free_slots() == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.offers_made == 1 and second.status == Status.WAITING
    assert Booking.objects.filter(slot=slot).count() == 1
    assert Message.objects.filter(kind=Message.Kind.WAITLIST_OFFER).count() == 1


@pytest.mark.django_db
def test_a_client_waiting_for_one_location_is_not_offered_another(morning):
    slot = _slot()
    elsewhere = LocationFactory()
    picky = _join(slot, location=elsewhere, email="eerste@example.org")
    anywhere = _join(slot, email="tweede@example.org")

    assert waitlist_offer_free_slots() == 1

    picky.refresh_from_db()
    anywhere.refresh_from_db()
    assert picky.status == Status.WAITING
    assert anywhere.offer.slot == slot


@pytest.mark.django_db
def test_a_time_that_starts_too_soon_is_not_offered(morning):
    soon = SlotFactory(start=timezone.now() + timedelta(hours=2))
    entry = _join(soon)

    assert waitlist_offer_free_slots() == 0

    later = SlotFactory(
        service=soon.service, location=soon.location, start=timezone.now() + timedelta(hours=4)
    )
    assert waitlist_offer_free_slots() == 1
    entry.refresh_from_db()
    assert entry.offer.slot == later


@pytest.mark.django_db
def test_no_offers_are_made_at_night(time_machine):
    time_machine.move_to(MORNING.replace(hour=23), tick=False)
    entry = _join(_slot())

    assert waitlist_offer_free_slots() == 0

    time_machine.move_to(MORNING + timedelta(days=1), tick=False)
    assert waitlist_offer_free_slots() == 1
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED


@pytest.mark.django_db
def test_an_answered_offer_cannot_be_answered_again(morning):
    entry = _join(_slot())
    waitlist_offer_free_slots()
    entry.refresh_from_db()

    waitlist_decline(entry=entry)

    with pytest.raises(OfferUnavailable):
        waitlist_accept(entry=entry)
    with pytest.raises(OfferUnavailable):
        waitlist_decline(entry=entry)


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "x" * 200])
def test_a_wrong_token_gives_404(client, morning, token):
    entry = _join(_slot())
    waitlist_offer_free_slots()

    assert waitlist_offer_by_token(token=token) is None
    assert client.get(reverse("appointments:waitlist_offer", args=[token])).status_code == 404
    response = client.post(
        reverse("appointments:waitlist_offer", args=[token]), {"answer": "accept"}
    )
    assert response.status_code == 404
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED


@pytest.mark.django_db
def test_a_tampered_answer_gives_404_and_changes_nothing(client, morning):
    entry = _join(_slot())
    waitlist_offer_free_slots()
    url = _offer_url(entry)

    assert client.post(url, {"answer": "maybe"}).status_code == 404
    entry.refresh_from_db()
    assert entry.status == Status.OFFERED


# --- Under real concurrency ---------------------------------------------------------------

RUNS = 8


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_make_one_offer_per_free_seat_and_one_per_client(postgresql):
    # A fixed morning, passed in: time_machine would reach into every thread.
    now = (timezone.localtime() + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    shared = SlotFactory(capacity=2)
    single = SlotFactory(
        service=shared.service, location=shared.location, start=shared.start + timedelta(hours=1)
    )
    entries = [
        _join(shared, email=f"wachtende{i}@example.org")
        for i in range(5)  # more clients than the three free seats
    ]
    barrier = threading.Barrier(RUNS)
    outcomes: list = [None] * RUNS

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = waitlist_offer_free_slots(now=now)
        except Exception as error:  # noqa: BLE001 - every outcome is checked below
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not any(thread.is_alive() for thread in threads)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == 3
    offered = WaitlistEntry.objects.filter(status=Status.OFFERED).order_by("created_at", "pk")
    # First come, first served, even across concurrent runs.
    assert [e.pk for e in offered] == [e.pk for e in entries[:3]]
    assert [e.offers_made for e in offered] == [1, 1, 1]
    holds = Booking.objects.filter(status=Booking.Status.HELD)
    assert sorted((h.slot_id, h.seat) for h in holds) == [
        (shared.pk, 0),
        (shared.pk, 1),
        (single.pk, 0),
    ]
    assert Message.objects.filter(kind=Message.Kind.WAITLIST_OFFER).count() == 3
