"""The client's way through, over HTTP: services → times → hold → intake → manage."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from appointments import services
from appointments.models import Booking, IntakeAnswer, IntakeQuestion
from tests.factories import (
    IntakeChoiceFactory,
    IntakeQuestionFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db


def _hold(client, slot):
    response = client.post(reverse("appointments:hold"), {"slot": slot.pk})
    assert response.status_code == 302, response.content
    return response["Location"]


def _manage_url_from(response) -> str:
    assert response.status_code == 302
    assert response["Location"].startswith("/mijn-afspraak/")
    return response["Location"]


def test_home_lists_the_active_services(client):
    slot = SlotFactory()
    SlotFactory(service__active=False, service__name_nl="Verborgen")

    response = client.get("/")

    assert response.status_code == 200
    assert slot.service.name_nl in response.content.decode()
    assert "Verborgen" not in response.content.decode()


def test_one_location_goes_straight_to_the_free_times(client):
    slot = SlotFactory()
    from tests.factories import AvailabilityRuleFactory

    AvailabilityRuleFactory(service=slot.service, location=slot.location, clinician=slot.clinician)

    response = client.get(reverse("appointments:locations", args=[slot.service.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "appointments:times", args=[slot.service.pk, slot.location.pk]
    )


def test_the_free_times_page_shows_a_week_of_free_times_only(client):
    slot = SlotFactory()
    taken = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1)
    )
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=taken.pk).public_id)
    blocked = SlotFactory(
        service=slot.service,
        location=slot.location,
        start=slot.start + timedelta(hours=2),
        blocked=True,
    )

    url = reverse("appointments:times", args=[slot.service.pk, slot.location.pk])
    response = client.get(url, {"week": slot.date.isoformat()})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{slot.pk}"' in html
    assert f'value="{taken.pk}"' not in html
    assert f'value="{blocked.pk}"' not in html


def test_the_free_times_page_makes_a_fixed_number_of_queries(client, django_assert_num_queries):
    first = SlotFactory()
    url = reverse("appointments:times", args=[first.service.pk, first.location.pk])
    params = {"week": first.date.isoformat()}
    client.get(url, params)  # warm the session and caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    for hour in range(1, 60):
        SlotFactory(
            service=first.service,
            location=first.location,
            clinician=first.clinician,
            start=first.start + timedelta(minutes=30 * hour),
            capacity=2,
        )
    with django_assert_num_queries(len(few)):
        response = client.get(url, params)
    assert response.content.decode().count('name="slot"') > 20


def test_a_client_books_without_giving_a_name_and_sees_the_confirmation(client):
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SINGLE_CHOICE)
    IntakeChoiceFactory(question=question, code="ok")
    IntakeChoiceFactory(question=question, code="crisis", acute_risk=True)
    intake_url = _hold(client, slot)

    page = client.get(intake_url)
    assert page.status_code == 200
    response = client.post(intake_url, {f"question_{question.pk}": "crisis"})

    manage_url = _manage_url_from(response)
    page = client.get(manage_url)
    html = page.content.decode()
    booking = Booking.objects.get(slot=slot)
    assert booking.status == Booking.Status.CONFIRMED and booking.acute_risk
    assert booking.reference in html
    assert "113" in html and "0800-0113" in html
    assert page["Cache-Control"].startswith("max-age=0") or "no-store" in page["Cache-Control"]
    assert IntakeAnswer.objects.get(booking=booking).value == "crisis"


def test_bad_input_is_shown_next_to_the_field_and_kept(client):
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, required=True)
    intake_url = _hold(client, slot)

    response = client.post(intake_url, {"nickname": "S" * 60, f"question_{question.pk}": ""})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true"' in html
    assert "S" * 60 in html  # what was typed is kept
    assert Booking.objects.get(slot=slot).status == Booking.Status.HELD


def test_a_time_taken_meanwhile_shows_the_nearest_free_times(client):
    slot = SlotFactory()
    nearby = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1)
    )
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=slot.pk).public_id)

    response = client.post(reverse("appointments:hold"), {"slot": slot.pk})

    assert response.status_code == 409
    assert f'value="{nearby.pk}"' in response.content.decode()


def test_an_expired_hold_keeps_the_answers_and_offers_other_times(client):
    slot = SlotFactory()
    other = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1)
    )
    question = IntakeQuestionFactory(service=slot.service)
    intake_url = _hold(client, slot)
    Booking.objects.filter(slot=slot).update(held_until=timezone.now() - timedelta(minutes=1))
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=slot.pk).public_id)

    response = client.post(intake_url, {f"question_{question.pk}": "Ik kom met een vriend"})

    html = response.content.decode()
    assert response.status_code == 409
    assert "Ik kom met een vriend" in html
    assert f'value="{other.pk}"' in html

    response = client.post(
        intake_url,
        {f"question_{question.pk}": "Ik kom met een vriend", "alternative_slot": other.pk},
    )

    _manage_url_from(response)
    booking = Booking.objects.get(slot=other, status=Booking.Status.CONFIRMED)
    assert IntakeAnswer.objects.get(booking=booking).value == "Ik kom met een vriend"


def test_another_browser_cannot_open_a_hold(client, django_user_model):
    intake_url = _hold(client, SlotFactory())
    from django.test import Client

    assert Client().get(intake_url).status_code == 404


@pytest.mark.parametrize("slot_value", ["999999", "abc", ""])
def test_a_tampered_slot_id_gives_404(client, slot_value):
    response = client.post(reverse("appointments:hold"), {"slot": slot_value})
    assert response.status_code == 404


def test_a_wrong_or_altered_token_gives_404(client):
    slot = SlotFactory()
    response = client.post(_hold(client, slot), {})
    manage_url = _manage_url_from(response)
    token = manage_url.split("/")[2]

    for bad in [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "x",
        Booking.objects.get().reference,
    ]:
        assert client.get(reverse("appointments:manage", args=[bad])).status_code == 404
        assert client.get(reverse("appointments:ics", args=[bad])).status_code == 404


def test_the_calendar_file_has_a_neutral_title(client):
    slot = SlotFactory(
        service__name_nl="Chemsex spreekuur", service__name_en="Chemsex consultation"
    )
    manage_url = _manage_url_from(client.post(_hold(client, slot), {}))
    token = manage_url.split("/")[2]

    response = client.get(reverse("appointments:ics", args=[token]))

    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert "chemsex" not in body.lower()
    event = Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Afspraak bij de GGD"
    assert event["DTSTART"].dt == slot.start
    assert event["UID"] == f"{Booking.objects.get().public_id}@spreekuur"


def test_a_client_cancels_through_the_manage_link(client):
    slot = SlotFactory()
    manage_url = _manage_url_from(client.post(_hold(client, slot), {}))
    token = manage_url.split("/")[2]

    assert client.get(reverse("appointments:cancel", args=[token])).status_code == 200
    response = client.post(reverse("appointments:cancel", args=[token]))

    assert response["Location"] == reverse("appointments:cancelled")
    assert Booking.objects.get().status == Booking.Status.CANCELLED
    # The link is spent: opening it again, or replaying the cancel, finds nothing.
    assert client.get(manage_url).status_code == 404
    assert client.post(reverse("appointments:cancel", args=[token])).status_code == 404


def test_a_manage_link_stops_working_a_day_after_the_appointment(client):
    slot = SlotFactory()
    manage_url = _manage_url_from(client.post(_hold(client, slot), {}))

    with time_machine.travel(slot.end + timedelta(hours=23)):
        assert client.get(manage_url).status_code == 200
    with time_machine.travel(slot.end + timedelta(hours=25)):
        assert client.get(manage_url).status_code == 404


def test_a_client_reschedules_and_the_old_time_is_free_again(client):
    slot = SlotFactory()
    later = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(days=1)
    )
    manage_url = _manage_url_from(client.post(_hold(client, slot), {}))
    token = manage_url.split("/")[2]

    page = client.get(
        reverse("appointments:reschedule", args=[token]), {"week": later.date.isoformat()}
    )
    assert f'value="{later.pk}"' in page.content.decode()
    response = client.post(reverse("appointments:reschedule", args=[token]), {"slot": later.pk})

    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.slot == later and booking.status == Booking.Status.CONFIRMED
    other_client_hold = services.slot_hold(slot_id=slot.pk)
    assert other_client_hold.slot == slot


def test_pages_load_nothing_from_another_host(client):
    slot = SlotFactory()
    intake_url = _hold(client, slot)
    for url in [
        "/",
        reverse("appointments:times", args=[slot.service.pk, slot.location.pk]),
        intake_url,
    ]:
        html = client.get(url).content.decode()
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert external == [], url


def test_the_urls_of_the_flow_name_no_service(client):
    slot = SlotFactory(service__name_nl="Chemsex spreekuur")
    intake_url = _hold(client, slot)
    manage_url = _manage_url_from(client.post(intake_url, {}))
    for url in [
        intake_url,
        manage_url,
        reverse("appointments:times", args=[slot.service.pk, slot.location.pk]),
    ]:
        assert "chemsex" not in url.lower()


def test_english_pages_show_the_english_name(client):
    slot = SlotFactory(service__name_nl="Soa-spreekuur", service__name_en="STI clinic")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "STI clinic" in client.get("/").content.decode()
    assert slot


def test_without_a_week_the_page_opens_at_the_first_free_time(client):
    slot = SlotFactory(start=timezone.now() + timedelta(days=20))

    response = client.get(reverse("appointments:times", args=[slot.service.pk, slot.location.pk]))

    assert f'value="{slot.pk}"' in response.content.decode()
