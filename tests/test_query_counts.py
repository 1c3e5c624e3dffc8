"""Every client page makes a fixed number of SQL queries, whatever the amount of data."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments import services
from appointments.models import IntakeQuestion
from tests.factories import (
    IntakeChoiceFactory,
    IntakeQuestionFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str, data=None) -> int:
    client.get(url, data or {})  # warm: session, language, caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, data or {})
    assert response.status_code == 200, url
    return len(captured)


def test_the_home_page_costs_the_same_for_one_or_many_services():
    SlotFactory()
    few = _queries(Client(), "/")
    for _ in range(15):
        ServiceFactory()
    assert _queries(Client(), "/") == few


def test_the_intake_page_costs_the_same_for_few_or_many_questions():
    slot = SlotFactory()
    client = Client()
    intake = client.post(reverse("appointments:hold"), {"slot": slot.pk})["Location"]
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SINGLE_CHOICE)
    IntakeChoiceFactory(question=question)
    few = _queries(client, intake)
    for _ in range(10):
        many = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.MULTIPLE_CHOICE)
        for _ in range(5):
            IntakeChoiceFactory(question=many)
    assert _queries(client, intake) == few


def test_the_manage_reschedule_and_contact_pages_cost_the_same_for_few_or_many_slots():
    slot = SlotFactory()
    hold = services.slot_hold(slot_id=slot.pk)
    token = services.booking_confirm(hold_public_id=hold.public_id).manage_token
    urls = [
        reverse("appointments:manage", args=[token]),
        reverse("appointments:reschedule", args=[token]),
        reverse("appointments:contact", args=[token]),
    ]
    few = [_queries(Client(), url) for url in urls]
    for hour in range(1, 40):
        SlotFactory(
            service=slot.service,
            location=slot.location,
            start=slot.start + timedelta(hours=hour),
            capacity=2,
        )
    assert [_queries(Client(), url) for url in urls] == few


def test_the_waitlist_page_costs_the_same_for_few_or_many_slots():
    slot = SlotFactory()
    url = reverse("appointments:waitlist_join", args=[slot.service.pk])
    few = _queries(Client(), url)
    for hour in range(1, 40):
        SlotFactory(service=slot.service, start=slot.start + timedelta(hours=hour))
    assert _queries(Client(), url) == few
