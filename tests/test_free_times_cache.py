"""Clients share one reading of a week of free times for a few seconds; staff never do."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments import services
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_for_two_seconds(settings):
    settings.SPREEKUUR_FREE_TIMES_CACHE_SECONDS = 2


def _times_page(client, slot):
    url = reverse("appointments:times", args=[slot.service.pk, slot.location.pk])
    return client.get(url, {"week": slot.date.isoformat()})


def _queries_of(callable_):
    with CaptureQueriesContext(connection) as queries:
        response = callable_()
    return response, len(queries)


def test_a_second_client_within_the_window_runs_no_query_for_the_times(
    client, shared_for_two_seconds
):
    slot = SlotFactory()

    _first, first_count = _queries_of(lambda: _times_page(client, slot))
    second, second_count = _queries_of(lambda: _times_page(client, slot))

    assert f'value="{slot.pk}"' in second.content.decode()
    assert second_count == first_count - 1  # service and location still read; the times not


def test_a_time_taken_within_the_window_is_still_shown_and_gets_the_friendly_answer(
    client, shared_for_two_seconds
):
    slot = SlotFactory()
    nearby = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1)
    )
    _times_page(client, slot)
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=slot.pk).public_id)

    assert f'value="{slot.pk}"' in _times_page(client, slot).content.decode()
    taken = client.post(reverse("appointments:hold"), {"slot": slot.pk})

    assert taken.status_code == 409
    assert f'value="{nearby.pk}"' in taken.content.decode()  # read fresh


def test_after_the_window_the_page_shows_the_change(client, shared_for_two_seconds):
    slot = SlotFactory()
    _times_page(client, slot)
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=slot.pk).public_id)

    with time_machine.travel(timezone.now() + timedelta(seconds=3)):
        page = _times_page(client, slot)

    assert f'value="{slot.pk}"' not in page.content.decode()


def test_zero_seconds_reads_the_times_for_every_page(client, settings):
    settings.SPREEKUUR_FREE_TIMES_CACHE_SECONDS = 0
    slot = SlotFactory()
    _times_page(client, slot)
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=slot.pk).public_id)

    assert f'value="{slot.pk}"' not in _times_page(client, slot).content.decode()
