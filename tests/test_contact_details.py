"""Contact details and consent: asked in the intake, changed or removed on the manage page."""

import pytest
from django.core import mail
from django.urls import reverse

from appointments import services
from appointments.forms import ContactForm, masked_email, masked_phone
from appointments.models import Booking, ContactChannel, Message
from appointments.notifications.outbox import outbox_dispatch
from appointments.notifications.sms import LocmemSmsBackend
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    """These tests send SMS on the real clock; quiet hours have tests of their own."""
    settings.SPREEKUUR_SMS_QUIET_FROM, settings.SPREEKUUR_SMS_QUIET_UNTIL = 24, 0


CONSENT = "on"


def _intake_url(client, slot) -> str:
    response = client.post(reverse("appointments:hold"), {"slot": slot.pk})
    assert response.status_code == 302, response.content
    return response["Location"]


def _booked_with(contact: services.ContactDetails) -> services.ConfirmedBooking:
    slot = SlotFactory()
    return services.booking_confirm(
        hold_public_id=services.slot_hold(slot_id=slot.pk).public_id, contact=contact
    )


def _pending(booking: Booking):
    return Message.objects.filter(booking=booking, status=Message.Status.PENDING)


# --- The form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("06-12345678", "+31612345678"),
        ("0612345678", "+31612345678"),
        ("06 1234 5678", "+31612345678"),
        ("(06) 12 34 56 78", "+31612345678"),
        ("+31 6 1234 5678", "+31612345678"),
        ("+31612345678", "+31612345678"),
        ("0031 6 12345678", "+31612345678"),
        ("+44 7911 123456", "+447911123456"),
    ],
)
def test_a_mobile_number_is_stored_in_e164_form(typed, stored):
    form = ContactForm({"phone": typed, "consent": CONSENT})

    assert form.is_valid(), form.errors
    assert form.contact_details() == services.ContactDetails(
        phone=stored, channel=ContactChannel.SMS
    )


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("020-5555555", "not_mobile"),  # a landline in Amsterdam: no SMS
        ("+31 20 555 5555", "not_mobile"),
        ("06123", "invalid_phone"),
        ("hallo", "invalid_phone"),
        ("06-GGDGGDGG", "invalid_phone"),
        ("+99 123", "invalid_phone"),
        ("06 12345678 ext 12", "invalid_phone"),
    ],
)
def test_a_number_an_sms_cannot_reach_is_refused_in_plain_dutch(typed, code):
    form = ContactForm({"phone": typed, "consent": CONSENT})

    assert not form.is_valid()
    assert form.has_error("phone", code)
    assert "06 12345678" in form.errors["phone"][0]


def test_an_email_address_is_stored_in_lower_case():
    form = ContactForm({"email": "  Sam@Example.ORG ", "consent": CONSENT})

    assert form.is_valid(), form.errors
    assert form.contact_details() == services.ContactDetails(
        email="sam@example.org", channel=ContactChannel.EMAIL
    )


def test_nothing_filled_in_gives_empty_contact_details():
    form = ContactForm({})

    assert form.is_valid(), form.errors
    assert form.contact_details() == services.ContactDetails()


def test_both_address_and_number_need_a_choice_of_channel():
    data = {"email": "sam@example.org", "phone": "0612345678", "consent": CONSENT}

    without_choice = ContactForm(data)
    with_choice = ContactForm(data | {"contact_channel": "sms"})

    assert without_choice.has_error("contact_channel", "channel_required")
    assert with_choice.is_valid(), with_choice.errors
    assert with_choice.contact_details() == services.ContactDetails(
        email="sam@example.org", phone="+31612345678", channel=ContactChannel.SMS
    )


def test_a_wrong_number_without_consent_reports_both_at_once():
    form = ContactForm({"phone": "hallo"})

    assert form.has_error("phone", "invalid_phone")
    assert form.has_error("consent", "consent_required")


def test_contact_details_are_masked_for_display():
    assert masked_email("sam@example.org") == "s•••@example.org"
    assert masked_phone("+31612345678") == "+31 6 •••• 5678"
    assert masked_phone("+447911123456") == "+44 7 •••• 3456"


# --- The intake -------------------------------------------------------------------------


def test_booking_with_an_email_and_consent_sends_a_discreet_confirmation(client):
    slot = SlotFactory(service__name_nl="Chemsex-spreekuur")
    intake_url = _intake_url(client, slot)

    response = client.post(intake_url, {"email": "Sam@Example.org", "consent": CONSENT})

    assert response.status_code == 302, response.content
    booking = Booking.objects.get(slot=slot)
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.email, booking.phone, booking.contact_channel) == (
        "sam@example.org",
        "",
        "email",
    )
    assert booking.language == "nl"
    assert _pending(booking).filter(kind=Message.Kind.REMINDER).count() == 2

    outbox_dispatch()

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["sam@example.org"]
    assert sent.subject.startswith("Je afspraak bij de GGD op ")
    assert "chemsex" not in sent.subject.lower()
    assert "chemsex" not in sent.body.lower()
    assert LocmemSmsBackend.outbox == []


def test_booking_with_a_number_sends_the_confirmation_by_sms(client):
    slot = SlotFactory()
    intake_url = _intake_url(client, slot)

    response = client.post(intake_url, {"phone": "06-12345678", "consent": CONSENT})

    assert response.status_code == 302, response.content
    outbox_dispatch()
    assert [sms["to"] for sms in LocmemSmsBackend.outbox] == ["+31612345678"]
    assert mail.outbox == []


def test_booking_without_contact_details_sends_no_messages(client):
    slot = SlotFactory()
    intake_url = _intake_url(client, slot)

    response = client.post(intake_url, {})

    assert response.status_code == 302, response.content
    booking = Booking.objects.get(slot=slot)
    assert booking.status == Booking.Status.CONFIRMED
    assert (booking.email, booking.phone, booking.contact_channel) == ("", "", "")
    assert not Message.objects.exists()
    outbox_dispatch()
    assert mail.outbox == [] and LocmemSmsBackend.outbox == []


def test_contact_details_without_consent_book_nothing_and_keep_what_was_typed(client):
    slot = SlotFactory()
    intake_url = _intake_url(client, slot)

    response = client.post(
        intake_url, {"nickname": "Sam", "email": "sam@example.org", "phone": "06 1234 5678"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "Zet een vinkje" in html
    assert 'value="sam@example.org"' in html
    assert 'value="06 1234 5678"' in html
    assert 'value="Sam"' in html
    assert 'aria-invalid="true"' in html
    assert Booking.objects.get(slot=slot).status == Booking.Status.HELD
    assert not Message.objects.exists()


def test_consent_without_contact_details_asks_for_an_address_or_number(client):
    slot = SlotFactory()
    intake_url = _intake_url(client, slot)

    response = client.post(intake_url, {"consent": CONSENT})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Vul een e-mailadres of een mobiel nummer in" in html
    assert Booking.objects.get(slot=slot).status == Booking.Status.HELD


def test_the_intake_shows_the_contact_fields_as_one_optional_section(client):
    slot = SlotFactory()

    html = client.get(_intake_url(client, slot)).content.decode()

    assert "Bericht over je afspraak?" in html
    assert "nooit waar de afspraak over gaat" in html
    assert 'type="email"' in html and 'type="tel"' in html


# --- The contact page -------------------------------------------------------------------


def test_the_manage_page_links_to_the_contact_page(client):
    confirmed = _booked_with(services.ContactDetails())

    html = client.get(reverse("appointments:manage", args=[confirmed.manage_token])).content
    assert reverse("appointments:contact", args=[confirmed.manage_token]) in html.decode()


def test_the_contact_page_shows_the_current_details_masked(client):
    confirmed = _booked_with(
        services.ContactDetails(
            email="sam@example.org", phone="+31612345678", channel=ContactChannel.EMAIL
        )
    )

    response = client.get(reverse("appointments:contact", args=[confirmed.manage_token]))

    html = response.content.decode()
    assert response.status_code == 200
    assert "s•••@example.org" in html and "+31 6 •••• 5678" in html
    assert "sam@example.org" not in html and "612345678" not in html
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_changing_to_a_number_moves_pending_reminders_to_sms(client):
    confirmed = _booked_with(
        services.ContactDetails(email="sam@example.org", channel=ContactChannel.EMAIL)
    )
    booking = confirmed.booking
    assert set(_pending(booking).values_list("channel", flat=True)) == {"email"}

    response = client.post(
        reverse("appointments:contact", args=[confirmed.manage_token]),
        {"phone": "+31 6 8765 4321", "consent": CONSENT},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("appointments:manage", args=[confirmed.manage_token])
    booking.refresh_from_db()
    assert (booking.email, booking.phone, booking.contact_channel) == ("", "+31687654321", "sms")
    reminders = _pending(booking).filter(kind=Message.Kind.REMINDER)
    assert reminders.count() == 2
    assert set(reminders.values_list("channel", flat=True)) == {"sms"}
    assert not _pending(booking).filter(channel="email").exists()


def test_a_new_number_on_the_contact_page_needs_consent_too(client):
    confirmed = _booked_with(
        services.ContactDetails(email="sam@example.org", channel=ContactChannel.EMAIL)
    )

    response = client.post(
        reverse("appointments:contact", args=[confirmed.manage_token]), {"phone": "0612345678"}
    )

    assert response.status_code == 200
    assert 'value="0612345678"' in response.content.decode()
    confirmed.booking.refresh_from_db()
    assert confirmed.booking.email == "sam@example.org"


def test_saving_an_empty_contact_form_removes_nothing(client):
    confirmed = _booked_with(
        services.ContactDetails(email="sam@example.org", channel=ContactChannel.EMAIL)
    )

    response = client.post(reverse("appointments:contact", args=[confirmed.manage_token]), {})

    assert response.status_code == 200
    confirmed.booking.refresh_from_db()
    assert confirmed.booking.email == "sam@example.org"


def test_removing_the_details_cancels_every_pending_message(client):
    confirmed = _booked_with(
        services.ContactDetails(
            email="sam@example.org", phone="+31612345678", channel=ContactChannel.SMS
        )
    )
    booking = confirmed.booking
    assert _pending(booking).count() == 3  # the confirmation and two reminders

    response = client.post(
        reverse("appointments:contact", args=[confirmed.manage_token]), {"remove": "1"}
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.email, booking.phone, booking.contact_channel) == ("", "", "")
    assert booking.manage_token_sealed == ""
    assert not _pending(booking).exists()
    assert set(Message.objects.filter(booking=booking).values_list("status", flat=True)) == {
        Message.Status.CANCELLED
    }
    outbox_dispatch()
    assert mail.outbox == [] and LocmemSmsBackend.outbox == []
    assert booking.status == Booking.Status.CONFIRMED


def test_the_contact_page_of_a_cancelled_appointment_opens_nothing(client):
    confirmed = _booked_with(
        services.ContactDetails(email="sam@example.org", channel=ContactChannel.EMAIL)
    )
    services.booking_cancel(booking=confirmed.booking)
    url = reverse("appointments:contact", args=[confirmed.manage_token])

    response = client.post(url, {"phone": "0612345678", "consent": CONSENT})

    assert response.status_code == 404
    confirmed.booking.refresh_from_db()
    assert confirmed.booking.phone == ""


def test_the_contact_page_gives_404_for_a_wrong_token(client):
    _booked_with(services.ContactDetails())

    assert client.get(reverse("appointments:contact", args=["not-the-token"])).status_code == 404
    response = client.post(reverse("appointments:contact", args=["not-the-token"]), {"remove": "1"})
    assert response.status_code == 404
