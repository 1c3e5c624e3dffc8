from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import factory
import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import (
    AccessLogEntry,
    AvailabilityRule,
    Booking,
    Clinician,
    Closure,
    IntakeAnswer,
    IntakeChoice,
    IntakeQuestion,
    Location,
    Message,
    Service,
    Slot,
    WaitlistEntry,
)
from tests.conftest import sign_in_with_second_factor
from tests.factories import (
    AccessLogEntryFactory,
    AvailabilityRuleFactory,
    BookingFactory,
    ClinicianFactory,
    IntakeChoiceFactory,
    LocationFactory,
    MessageFactory,
    ServiceFactory,
    SlotFactory,
    WaitlistEntryFactory,
)

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# The management form of the (read-only) message inline on a booking.
_NO_INLINE_ROWS = {"messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0"}


# Closures and groups have no factory in tests/factories.py (yet).


class _ClosureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Closure

    starts_on = factory.LazyFunction(timezone.localdate)
    ends_on = factory.LazyAttribute(lambda closure: closure.starts_on)
    location = factory.SubFactory(LocationFactory)
    reason = "Scholing"


class _GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Groep {n}")


def _make(model, superuser):
    factories = {
        Location: LocationFactory,
        Service: ServiceFactory,
        Clinician: ClinicianFactory,
        AvailabilityRule: AvailabilityRuleFactory,
        Closure: _ClosureFactory,
        Slot: SlotFactory,
        IntakeQuestion: lambda: IntakeChoiceFactory().question,
        IntakeChoice: IntakeChoiceFactory,
        Booking: BookingFactory,
        Message: MessageFactory,
        AccessLogEntry: AccessLogEntryFactory,
        WaitlistEntry: WaitlistEntryFactory,
        Group: _GroupFactory,
    }
    if model is type(superuser):
        return superuser
    assert model in factories, (
        f"{model.__name__} is registered in the admin but has no factory here"
    )
    return factories[model]()


@pytest.fixture
def staff_client(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("beheer", password="x-unused-x")
    sign_in_with_second_factor(client, superuser)
    client.superuser = superuser
    return client


# Our models and groups; the admin pages of django-otp and django-axes are theirs.
REGISTERED = sorted(
    (m for m in admin.site._registry if m._meta.app_label in {"appointments", "auth"}),
    key=lambda model: model._meta.label,
)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_superuser_can_open_changelist_and_change_page(staff_client, model):
    obj = _make(model, staff_client.superuser)
    opts = model._meta

    changelist = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    change = staff_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    )

    assert changelist.status_code == 200
    assert change.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_superuser_can_open_add_page_unless_adding_is_not_allowed(staff_client, model):
    opts = model._meta

    response = staff_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))

    not_addable = {Booking, Message, WaitlistEntry, AccessLogEntry}  # only code creates these
    assert response.status_code == (403 if model in not_addable else 200)


def test_intake_answers_are_not_in_the_admin():
    assert not admin.site.is_registered(IntakeAnswer)
    assert admin.site.is_registered(IntakeQuestion)


def _changelist_queries(client, model) -> int:
    url = reverse(f"admin:appointments_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_slot_changelist_makes_the_same_number_of_queries_for_2_or_20_rows(staff_client):
    for slot in SlotFactory.create_batch(2):
        BookingFactory(slot=slot)
    few = _changelist_queries(staff_client, Slot)

    for slot in SlotFactory.create_batch(18):
        BookingFactory(slot=slot)
    many = _changelist_queries(staff_client, Slot)

    assert many == few


def test_booking_changelist_makes_the_same_number_of_queries_for_2_or_20_rows(staff_client):
    BookingFactory.create_batch(2)
    few = _changelist_queries(staff_client, Booking)

    BookingFactory.create_batch(18)
    many = _changelist_queries(staff_client, Booking)

    assert many == few


def test_slot_changelist_counts_appointments_and_live_holds_but_not_the_rest(staff_client):
    slot = SlotFactory(capacity=4)
    BookingFactory(slot=slot, seat=0)
    BookingFactory(
        slot=slot,
        seat=1,
        status=Booking.Status.HELD,
        reference=None,
        held_until=timezone.now() + timedelta(minutes=5),
    )
    BookingFactory(
        slot=slot,
        seat=2,
        status=Booking.Status.HELD,
        reference=None,
        held_until=timezone.now() - timedelta(minutes=1),
    )
    BookingFactory(slot=slot, seat=3, status=Booking.Status.CANCELLED)

    response = staff_client.get(reverse("admin:appointments_slot_changelist"))

    [row] = response.context["cl"].result_list
    assert row._seats_taken == 2


def test_block_and_unblock_actions_switch_the_chosen_slots(staff_client):
    chosen, other = SlotFactory.create_batch(2)
    url = reverse("admin:appointments_slot_changelist")

    staff_client.post(url, {"action": "block", "_selected_action": [chosen.pk]})
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.blocked and not other.blocked

    staff_client.post(url, {"action": "unblock", "_selected_action": [chosen.pk]})
    chosen.refresh_from_db()
    assert not chosen.blocked


def test_bookings_are_found_by_reference_but_never_by_nickname(staff_client):
    booking = BookingFactory(reference="K7Q2M9X4", nickname="Kees")
    url = reverse("admin:appointments_booking_changelist")

    by_reference = staff_client.get(url, {"q": "K7Q2M9X4"})
    by_nickname = staff_client.get(url, {"q": "Kees"})

    assert list(by_reference.context["cl"].result_list) == [booking]
    assert list(by_nickname.context["cl"].result_list) == []


def test_booking_change_page_never_shows_the_manage_token_hash(staff_client):
    secret_hash = "ab" * 32
    booking = BookingFactory(manage_token_hash=secret_hash)

    response = staff_client.get(reverse("admin:appointments_booking_change", args=[booking.pk]))

    assert response.status_code == 200
    assert secret_hash not in response.content.decode()


def test_booking_day_filter_shows_the_appointments_of_one_day(staff_client):
    tuesday = BookingFactory(slot=SlotFactory(start=datetime(2030, 1, 8, 10, tzinfo=AMSTERDAM)))
    BookingFactory(slot=SlotFactory(start=datetime(2030, 1, 9, 10, tzinfo=AMSTERDAM)))
    url = reverse("admin:appointments_booking_changelist")

    response = staff_client.get(url, {"dag": "2030-01-08"})

    assert list(response.context["cl"].result_list) == [tuesday]


def test_staff_cannot_move_a_cancelled_booking_back_into_its_seat(staff_client):
    booking = BookingFactory(status=Booking.Status.CANCELLED)
    url = reverse("admin:appointments_booking_change", args=[booking.pk])

    staff_client.post(
        url,
        {
            "status": Booking.Status.CONFIRMED,
            "nickname": "",
            "language": "nl",
            "source": "online",
            **_NO_INLINE_ROWS,
        },
    )

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_staff_can_mark_an_appointment_attended(staff_client):
    booking = BookingFactory()
    url = reverse("admin:appointments_booking_change", args=[booking.pk])

    response = staff_client.post(
        url,
        {
            "status": Booking.Status.ATTENDED,
            "nickname": "",
            "language": "nl",
            "source": "online",
            **_NO_INLINE_ROWS,
        },
    )

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED
