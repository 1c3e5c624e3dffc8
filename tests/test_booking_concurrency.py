"""The booking rule under real concurrency: many clients, own connections, one instant.

Each client is a thread with its own PostgreSQL connection. A barrier releases
them together, so their transactions overlap for real.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from appointments import services
from appointments.models import Booking
from tests.factories import BookingFactory, SlotFactory

CLIENTS = 24

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def _run_concurrently(action, clients: int = CLIENTS) -> list:
    barrier = threading.Barrier(clients)
    outcomes: list = [None] * clients

    def client(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = action(index)
        except Exception as error:  # noqa: BLE001 - every outcome is counted by the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def _book(slot_id: int):
    hold = services.slot_hold(slot_id=slot_id)
    return services.booking_confirm(hold_public_id=hold.public_id).booking


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_clients_never_overbook_a_slot(postgresql, capacity):
    slot = SlotFactory(capacity=capacity)

    outcomes = _run_concurrently(lambda _i: _book(slot.pk))

    booked = [o for o in outcomes if isinstance(o, Booking)]
    refused = [o for o in outcomes if isinstance(o, services.SlotUnavailable)]
    unexpected = [o for o in outcomes if not isinstance(o, (Booking, services.SlotUnavailable))]
    assert unexpected == []
    assert len(booked) == capacity
    assert len(refused) == CLIENTS - capacity
    assert Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED).count() == capacity
    assert sorted(b.seat for b in booked) == list(range(capacity))


@pytest.mark.parametrize("capacity", [1, 3])
def test_concurrent_holds_never_exceed_capacity(postgresql, capacity):
    slot = SlotFactory(capacity=capacity)

    outcomes = _run_concurrently(lambda _i: services.slot_hold(slot_id=slot.pk))

    holds = [o for o in outcomes if isinstance(o, Booking)]
    assert len(holds) == capacity
    assert all(isinstance(o, (Booking, services.SlotUnavailable)) for o in outcomes)
    live = Booking.objects.filter(
        slot=slot, status=Booking.Status.HELD, held_until__gt=timezone.now()
    )
    assert live.count() == capacity


def test_clients_racing_for_seats_of_expired_holds_get_each_seat_once(postgresql):
    slot = SlotFactory(capacity=3)
    past = timezone.now() - timedelta(minutes=1)
    for seat in range(3):
        Booking.objects.create(slot=slot, seat=seat, status=Booking.Status.HELD, held_until=past)

    outcomes = _run_concurrently(lambda _i: _book(slot.pk))

    assert len([o for o in outcomes if isinstance(o, Booking)]) == 3
    assert Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED).count() == 3
    assert Booking.objects.filter(slot=slot, status=Booking.Status.EXPIRED).count() == 3


def test_a_confirming_client_and_a_new_client_never_both_get_an_expired_seat(postgresql):
    """The owner of an expired hold confirms while others race for its seat."""
    slot = SlotFactory(capacity=1)
    owner_hold = services.slot_hold(slot_id=slot.pk)
    Booking.objects.filter(pk=owner_hold.pk).update(
        held_until=timezone.now() - timedelta(seconds=1)
    )

    def action(index: int):
        if index == 0:
            try:
                return services.booking_confirm(hold_public_id=owner_hold.public_id).booking
            except services.HoldExpired as error:
                return error
        return _book(slot.pk)

    outcomes = _run_concurrently(action)

    assert len([o for o in outcomes if isinstance(o, Booking)]) == 1
    assert Booking.objects.filter(slot=slot, status=Booking.Status.CONFIRMED).count() == 1


def test_concurrent_reschedules_into_one_free_seat_move_one_booking(postgresql):
    target = SlotFactory(capacity=1)
    bookings = [
        BookingFactory(
            slot=SlotFactory(
                service=target.service,
                location=target.location,
                start=target.start + timedelta(hours=i + 1),
            )
        )
        for i in range(CLIENTS)
    ]

    def action(index: int):
        return services.booking_reschedule(booking=bookings[index], slot_id=target.pk)

    outcomes = _run_concurrently(action)

    moved = [o for o in outcomes if isinstance(o, Booking)]
    assert len(moved) == 1
    assert Booking.objects.filter(slot=target).count() == 1
    # Every other booking kept its own slot.
    for booking in bookings:
        booking.refresh_from_db()
    assert sum(1 for b in bookings if b.slot_id != target.pk) == CLIENTS - 1
