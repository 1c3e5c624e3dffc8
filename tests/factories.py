"""factory_boy factories for the models. Times are aware and in the future by default."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from appointments import models

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def local_datetime(day, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=AMSTERDAM)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Location

    name = factory.Sequence(lambda n: f"GGD locatie {n}")
    address = factory.Sequence(lambda n: f"Nieuwe Achtergracht {100 + n}")
    postal_code = "1018 WT"


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Service

    name_nl = factory.Sequence(lambda n: f"Spreekuur {n}")
    name_en = factory.Sequence(lambda n: f"Consultation {n}")
    slot_minutes = 30
    booking_horizon_days = 28
    min_notice_minutes = 60


class ClinicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Clinician

    display_name = factory.Sequence(lambda n: f"Zorgverlener {n}")
    profession = models.Clinician.Profession.NURSE


class AvailabilityRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AvailabilityRule

    clinician = factory.SubFactory(ClinicianFactory)
    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = models.AvailabilityRule.Weekday.TUESDAY
    start_time = time(13, 0)
    end_time = time(17, 0)
    capacity = 1
    valid_from = factory.LazyFunction(timezone.localdate)


class SlotFactory(factory.django.DjangoModelFactory):
    """A free slot two days from now at 14:00 local time."""

    class Meta:
        model = models.Slot

    clinician = factory.SubFactory(ClinicianFactory)
    service = factory.SubFactory(ServiceFactory)
    location = factory.SubFactory(LocationFactory)
    start = factory.LazyFunction(
        lambda: local_datetime(timezone.localdate() + timedelta(days=2), time(14, 0))
    )
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=30))
    date = factory.LazyAttribute(lambda o: timezone.localtime(o.start).date())
    capacity = 1


class BookingFactory(factory.django.DjangoModelFactory):
    """A confirmed appointment (its manage token is unknown: set one with the service)."""

    class Meta:
        model = models.Booking

    slot = factory.SubFactory(SlotFactory)
    seat = 0
    status = models.Booking.Status.CONFIRMED
    reference = factory.Sequence(lambda n: f"TEST-{n:04d}")
    confirmed_at = factory.LazyFunction(timezone.now)


class IntakeQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.IntakeQuestion

    service = factory.SubFactory(ServiceFactory)
    kind = models.IntakeQuestion.Kind.SHORT_TEXT
    text_nl = factory.Sequence(lambda n: f"Vraag {n}?")
    text_en = factory.Sequence(lambda n: f"Question {n}?")
    order = factory.Sequence(lambda n: n)


class IntakeChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.IntakeChoice

    question = factory.SubFactory(
        IntakeQuestionFactory, kind=models.IntakeQuestion.Kind.SINGLE_CHOICE
    )
    code = factory.Sequence(lambda n: f"keuze-{n}")
    text_nl = factory.Sequence(lambda n: f"Keuze {n}")
    text_en = factory.Sequence(lambda n: f"Choice {n}")
    order = factory.Sequence(lambda n: n)


class WaitlistEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.WaitlistEntry

    service = factory.SubFactory(ServiceFactory)
    email = factory.Sequence(lambda n: f"wachtende{n}@example.org")
    contact_channel = models.ContactChannel.EMAIL


class MessageFactory(factory.django.DjangoModelFactory):
    """A pending e-mail confirmation for a booking with an address."""

    class Meta:
        model = models.Message

    booking = factory.SubFactory(
        BookingFactory, email="client@example.org", contact_channel=models.ContactChannel.EMAIL
    )
    kind = models.Message.Kind.CONFIRMATION
    channel = models.ContactChannel.EMAIL
    due_at = factory.LazyFunction(timezone.now)


class AccessLogEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AccessLogEntry

    actor_username = "teamleider"
    action = models.AccessLogEntry.Action.VIEW_INTAKE
    booking_reference = "TEST-0001"
