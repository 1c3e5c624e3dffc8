"""Abuse limits and friendly error pages: 429 for a flood, 503 when the database is down."""

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from appointments import selectors
from appointments.models import Booking
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


def test_a_script_hoarding_slots_runs_out_after_a_few_holds(settings):
    settings.SPREEKUUR_RATE_HOLD = "6/10m"
    slots = [SlotFactory() for _ in range(20)]

    answers = [
        # A fresh browser (no session) each time, as a script would be.
        Client().post(reverse("appointments:hold"), {"slot": slot.pk}).status_code
        for slot in slots
    ]

    assert answers[:6] == [302] * 6
    assert set(answers[6:]) == {429}
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 6


def test_the_429_page_is_friendly_bilingual_and_says_when_to_try_again(settings):
    settings.SPREEKUUR_RATE_HOLD = "1/10m"
    slot = SlotFactory()
    Client().post(reverse("appointments:hold"), {"slot": slot.pk})

    dutch = Client().post(reverse("appointments:hold"), {"slot": slot.pk})
    english = Client(HTTP_ACCEPT_LANGUAGE="en").post(
        reverse("appointments:hold"), {"slot": slot.pk}
    )

    assert dutch.status_code == english.status_code == 429
    assert dutch["Retry-After"] == "300"
    assert "Even rustig aan" in dutch.content.decode()
    assert "Traceback" not in dutch.content.decode()
    assert 'lang="en"' in english.content.decode()


def test_guessing_manage_links_is_limited_too(settings):
    settings.SPREEKUUR_RATE_MANAGE = "3/10m"
    client = Client()

    answers = [
        client.get(reverse("appointments:manage", args=[f"guess-{i}"])).status_code
        for i in range(5)
    ]

    assert answers == [404, 404, 404, 429, 429]


def test_a_database_outage_gives_the_503_page_not_a_traceback(monkeypatch):
    def database_down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(selectors, "services_active", database_down)
    client = Client(raise_request_exception=False)

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "Even niet bereikbaar" in response.content.decode()

    monkeypatch.undo()
    assert client.get("/").status_code == 200  # and back by itself


def test_any_other_error_gives_the_friendly_500_page(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(selectors, "services_active", broken)

    response = Client(raise_request_exception=False).get("/")

    assert response.status_code == 500
    assert "Er ging iets mis" in response.content.decode()


def test_one_contact_holds_a_limited_number_of_future_appointments(settings):
    settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT = 2
    client = Client()

    def book(email):
        slot = SlotFactory()
        intake = client.post(reverse("appointments:hold"), {"slot": slot.pk})["Location"]
        return client.post(intake, {"email": email, "consent": "on", "nickname": "Sam"}), slot

    first, _ = book("sam@example.org")
    second, _ = book("SAM@example.org")
    third, slot = book("sam@example.org")

    assert first.status_code == second.status_code == 302
    assert third.status_code == 200
    html = third.content.decode()
    assert "staan al 2 afspraken" in html and 'aria-invalid="true"' in html
    assert "sam@example.org" in html  # what was typed is kept
    assert Booking.objects.get(slot=slot).status == Booking.Status.HELD
    # Without the address the same client can still book.
    intake = reverse("appointments:intake", args=[Booking.objects.get(slot=slot).public_id])
    assert client.post(intake, {"nickname": "Sam"}).status_code == 302
