from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from appointments import services
from appointments.models import AvailabilityRule, Booking, Slot
from tests.factories import (
    AvailabilityRuleFactory,
    BookingFactory,
    ClinicianFactory,
    LocationFactory,
    SlotFactory,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UTC = ZoneInfo("UTC")

pytestmark = pytest.mark.django_db

# 2026-10-25 is the Sunday summer time ends; 2027-03-28 the Sunday it starts.
BEFORE_WINTER_TIME = datetime(2026, 10, 19, 8, 0, tzinfo=AMSTERDAM)


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_slots_keep_local_wall_clock_times_across_the_change_to_winter_time():
    rule = AvailabilityRuleFactory(
        weekday=AvailabilityRule.Weekday.TUESDAY,
        start_time=time(13, 0),
        end_time=time(14, 0),
        valid_from=date(2026, 10, 19),
    )
    services.slots_generate(start=date(2026, 10, 19), weeks=2)

    starts = [s.start for s in Slot.objects.filter(rule=rule).order_by("start")]
    assert [s.astimezone(AMSTERDAM).time() for s in starts] == [time(13, 0), time(13, 30)] * 2
    # 13:00 in Amsterdam is 11:00 UTC in summer and 12:00 UTC in winter.
    assert starts[0].astimezone(UTC).hour == 11
    assert starts[2].astimezone(UTC).hour == 12
    assert [s.date for s in Slot.objects.filter(rule=rule).order_by("start")] == [
        date(2026, 10, 20),
        date(2026, 10, 20),
        date(2026, 10, 27),
        date(2026, 10, 27),
    ]


@time_machine.travel(datetime(2027, 3, 22, 8, 0, tzinfo=AMSTERDAM), tick=False)
def test_a_wall_clock_time_that_does_not_exist_gets_no_slot():
    AvailabilityRuleFactory(
        weekday=AvailabilityRule.Weekday.SUNDAY,
        start_time=time(1, 0),
        end_time=time(4, 0),
        valid_from=date(2027, 3, 22),
    )
    services.slots_generate(start=date(2027, 3, 22), weeks=1)

    local_times = sorted(s.start.astimezone(AMSTERDAM).time() for s in Slot.objects.all())
    assert time(2, 0) not in local_times and time(2, 30) not in local_times
    assert local_times == [time(1, 0), time(1, 30), time(3, 0), time(3, 30)]


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_generation_is_idempotent():
    AvailabilityRuleFactory(valid_from=date(2026, 10, 19))
    first = services.slots_generate(start=date(2026, 10, 19), weeks=4)
    count = Slot.objects.count()

    second = services.slots_generate(start=date(2026, 10, 19), weeks=4)

    assert first.created == count == 4 * 8
    assert (second.created, second.updated, second.removed, second.retired) == (0, 0, 0, 0)
    assert Slot.objects.count() == count


def _queries_of_two_runs(*, clinicians: int, weeks: int) -> tuple[list[str], list[str]]:
    for _ in range(clinicians):
        clinician = ClinicianFactory()
        for weekday in range(5):
            AvailabilityRuleFactory(
                clinician=clinician,
                weekday=weekday,
                start_time=time(9, 0),
                end_time=time(17, 0),
                valid_from=date(2026, 10, 19),
            )
    runs = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            services.slots_generate(start=date(2026, 10, 19), weeks=weeks)
        runs.append([query["sql"] for query in queries.captured_queries])
    assert Slot.objects.count() == clinicians * weeks * 5 * 16
    Slot.objects.all().delete()
    AvailabilityRule.objects.all().delete()
    return runs[0], runs[1]


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_the_queries_of_a_run_do_not_grow_with_the_number_of_slots(postgresql):
    # PostgreSQL: elsewhere new slots go in through bulk_create, in batches.
    small_first, small_again = _queries_of_two_runs(clinicians=1, weeks=1)
    large_first, large_again = _queries_of_two_runs(clinicians=6, weeks=6)  # 36 times the slots

    assert len(large_first) == len(small_first)
    assert len(large_again) == len(small_again)
    # A run that changes nothing only reads: rules, closures, slots, booking counts
    # (the savepoint is the empty write transaction, inside the test's own).
    reads = [query for query in large_again if "SAVEPOINT" not in query]
    assert len(reads) == 4
    assert all(query.startswith("SELECT") for query in reads)


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_a_slot_made_meanwhile_at_a_wanted_time_is_skipped_and_not_counted(postgresql):
    rule = AvailabilityRuleFactory(
        weekday=AvailabilityRule.Weekday.TUESDAY,
        start_time=time(13, 0),
        end_time=time(14, 0),
        valid_from=date(2026, 10, 19),
    )
    wanted = [
        services._Wanted(
            rule.clinician_id,
            rule.service_id,
            rule.location_id,
            rule.pk,
            start,
            start + timedelta(minutes=30),
            date(2026, 10, 20),
            1,
        )
        for start in (
            datetime(2026, 10, 20, 13, 0, tzinfo=AMSTERDAM),
            datetime(2026, 10, 20, 13, 30, tzinfo=AMSTERDAM),
        )
    ]
    # A concurrent run (or staff) made the first one after this run looked.
    made_meanwhile = Slot.objects.create(**wanted[0]._asdict())

    assert services._insert_slots(wanted) == 1
    assert Slot.objects.filter(clinician=rule.clinician).count() == 2
    assert Slot.objects.get(clinician=rule.clinician, start=wanted[0].start) == made_meanwhile


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_closures_of_a_location_or_a_clinician_get_no_slots():
    from appointments.models import Closure

    rule = AvailabilityRuleFactory(valid_from=date(2026, 10, 19))
    other = AvailabilityRuleFactory(valid_from=date(2026, 10, 19))
    Closure.objects.create(
        starts_on=date(2026, 10, 20),
        ends_on=date(2026, 10, 20),
        location=rule.location,
        reason="Studiedag",
    )
    Closure.objects.create(
        starts_on=date(2026, 10, 27),
        ends_on=date(2026, 10, 28),
        clinician=other.clinician,
        reason="Ziek",
    )

    services.slots_generate(start=date(2026, 10, 19), weeks=2)

    assert set(Slot.objects.filter(rule=rule).values_list("date", flat=True)) == {
        date(2026, 10, 27)
    }
    assert set(Slot.objects.filter(rule=other).values_list("date", flat=True)) == {
        date(2026, 10, 20)
    }


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_a_rule_change_never_removes_or_moves_a_booked_slot():
    rule = AvailabilityRuleFactory(
        valid_from=date(2026, 10, 19), start_time=time(13, 0), end_time=time(15, 0)
    )
    services.slots_generate(start=date(2026, 10, 19), weeks=1)
    booked_slot = Slot.objects.get(rule=rule, start=datetime(2026, 10, 20, 14, 0, tzinfo=AMSTERDAM))
    booking = BookingFactory(slot=booked_slot)
    cancelled_slot = Slot.objects.get(
        rule=rule, start=datetime(2026, 10, 20, 14, 30, tzinfo=AMSTERDAM)
    )
    BookingFactory(slot=cancelled_slot, status=Booking.Status.CANCELLED)

    rule.start_time, rule.end_time = time(9, 0), time(10, 0)
    rule.save()
    report = services.slots_generate(start=date(2026, 10, 19), weeks=1)

    booking.refresh_from_db()
    assert booking.slot_id == booked_slot.pk
    assert Slot.objects.filter(pk=booked_slot.pk, start=booked_slot.start).exists()
    assert report.conflicts == [booked_slot]
    # Never-claimed slots go, a slot with history stays but can no longer be booked.
    assert report.removed == 2
    assert Slot.objects.get(pk=cancelled_slot.pk).blocked
    assert report.created == 2


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_slots_made_by_hand_keep_their_place_and_are_never_changed():
    rule = AvailabilityRuleFactory(
        weekday=AvailabilityRule.Weekday.TUESDAY,
        start_time=time(13, 0),
        end_time=time(14, 0),
        valid_from=date(2026, 10, 19),
    )
    # Staff made one at a time the rule wants, for another service and location,
    # and one for a clinician without rules.
    at_wanted_time = SlotFactory(
        clinician=rule.clinician,
        start=datetime(2026, 10, 20, 13, 0, tzinfo=AMSTERDAM),
        end=datetime(2026, 10, 20, 13, 45, tzinfo=AMSTERDAM),
        date=date(2026, 10, 20),
    )
    elsewhere = SlotFactory(start=datetime(2026, 10, 21, 9, 0, tzinfo=AMSTERDAM))

    report = services.slots_generate(start=date(2026, 10, 19), weeks=1)

    assert (report.created, report.updated, report.removed, report.retired) == (1, 0, 0, 0)
    assert report.conflicts == []
    assert Slot.objects.get(clinician=rule.clinician, rule=rule).start == datetime(
        2026, 10, 20, 13, 30, tzinfo=AMSTERDAM
    )
    for made_by_hand in (at_wanted_time, elsewhere):
        kept = Slot.objects.get(pk=made_by_hand.pk)
        assert (kept.rule, kept.service, kept.end, kept.blocked) == (
            None,
            made_by_hand.service,
            made_by_hand.end,
            False,
        )


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_a_rule_change_updates_its_slots_in_place_unless_that_moves_a_booking():
    rule = AvailabilityRuleFactory(
        valid_from=date(2026, 10, 19), start_time=time(13, 0), end_time=time(14, 0), capacity=2
    )
    services.slots_generate(start=date(2026, 10, 19), weeks=1)
    booked, free = Slot.objects.filter(rule=rule).order_by("start")
    BookingFactory(slot=booked)

    rule.capacity = 3
    rule.save()
    more_seats = services.slots_generate(start=date(2026, 10, 19), weeks=1)

    assert (more_seats.created, more_seats.updated, more_seats.removed) == (0, 2, 0)
    assert more_seats.conflicts == []
    assert [slot.capacity for slot in Slot.objects.filter(rule=rule)] == [3, 3]

    old_location = rule.location
    rule.location = LocationFactory()
    rule.save()
    moved = services.slots_generate(start=date(2026, 10, 19), weeks=1)

    # The free slot moves with its rule; the booked one stays where the client expects it.
    assert (moved.created, moved.updated, moved.removed) == (0, 1, 0)
    assert moved.conflicts == [booked]
    assert Slot.objects.get(pk=free.pk).location == rule.location
    assert Slot.objects.get(pk=booked.pk).location == old_location
    assert Booking.objects.get(slot=booked).status == Booking.Status.CONFIRMED


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_past_slots_are_never_touched():
    rule = AvailabilityRuleFactory(
        weekday=AvailabilityRule.Weekday.MONDAY,
        valid_from=date(2026, 10, 12),
        start_time=time(6, 0),
        end_time=time(7, 0),
    )
    past = Slot.objects.create(
        clinician=rule.clinician,
        service=rule.service,
        location=rule.location,
        rule=rule,
        start=datetime(2026, 10, 19, 6, 0, tzinfo=AMSTERDAM),
        end=datetime(2026, 10, 19, 6, 30, tzinfo=AMSTERDAM),
        date=date(2026, 10, 19),
    )
    rule.delete()

    services.slots_generate(start=date(2026, 10, 12), weeks=2)

    assert Slot.objects.filter(pk=past.pk).exists()


@time_machine.travel(BEFORE_WINTER_TIME, tick=False)
def test_generate_slots_command_reports_what_it_did(capsys):
    clinician = ClinicianFactory()
    AvailabilityRuleFactory(clinician=clinician, valid_from=date(2026, 10, 19))

    call_command("generate_slots", "--weeks", "2")

    assert "16 created" in capsys.readouterr().out
    assert Slot.objects.count() == 16
