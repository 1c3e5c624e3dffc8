"""The dashboard: appointments per week, fill rate and no-show rate, without personal data.

The figures are checked against a small data set worked out by hand; weeks follow
Amsterdam dates (a Monday 00:30 appointment belongs to that Monday's week, though
it is still Sunday in UTC) on SQLite and PostgreSQL alike.
"""

import re
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments import selectors
from appointments.models import Booking, Closure
from appointments.roles import CLINICIAN, TEAM_LEAD, roles_setup
from tests.conftest import sign_in_with_second_factor
from tests.factories import BookingFactory, LocationFactory, ServiceFactory, SlotFactory

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 6, 9, 9, 0, tzinfo=AMSTERDAM)  # a Tuesday
Status = Booking.Status


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team_lead(client, django_user_model):
    roles_setup()
    user = django_user_model.objects.create_user("teamleider", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=TEAM_LEAD))
    return sign_in_with_second_factor(client, user)


def _slot(service, location, day: date, at: time = time(10, 0), **fields):
    start = datetime.combine(day, at, tzinfo=AMSTERDAM)
    return SlotFactory(
        service=service,
        location=location,
        start=start,
        end=start + timedelta(minutes=30),
        date=day,
        **fields,
    )


def _book(slot, status, seat=0, **fields):
    return BookingFactory(slot=slot, status=status, seat=seat, **fields)


@pytest.fixture
def known():
    """Two services, two locations, a handful of appointments (figures in the tests)."""
    chemsex = ServiceFactory(name_nl="Chemsex")
    prep = ServiceFactory(name_nl="PrEP")
    centrum = LocationFactory(name="Centrum")
    zuidoost = LocationFactory(name="Zuidoost")

    # The week of Monday 1 June.
    two_seats = _slot(chemsex, centrum, date(2026, 6, 1), capacity=2)
    _book(two_seats, Status.ATTENDED, seat=0, nickname="Persoonlijk")
    _book(two_seats, Status.NO_SHOW, seat=1)
    _book(_slot(chemsex, centrum, date(2026, 6, 2)), Status.ATTENDED)
    _book(_slot(prep, zuidoost, date(2026, 6, 3)), Status.CANCELLED)
    _slot(prep, zuidoost, date(2026, 6, 4), blocked=True)  # not offered
    _slot(chemsex, zuidoost, date(2026, 6, 5))  # offered, left free
    closed = _slot(chemsex, zuidoost, date(2026, 6, 2), at=time(11, 0))  # closed day
    Closure.objects.create(
        starts_on=closed.date, ends_on=closed.date, location=zuidoost, reason="Studiedag"
    )
    # The week before.
    _book(_slot(prep, centrum, date(2026, 5, 26)), Status.NO_SHOW)
    # Monday 8 June 00:30 in Amsterdam is Sunday 7 June 22:30 UTC: this week, not the last.
    _book(_slot(chemsex, centrum, date(2026, 6, 8), at=time(0, 30)), Status.CONFIRMED)
    # Next week (in the chart, not in the figures of the past weeks).
    _book(_slot(chemsex, centrum, date(2026, 6, 16)), Status.CONFIRMED)
    # Before the chart's first week (Monday 23 March).
    _book(_slot(chemsex, centrum, date(2026, 3, 16)), Status.ATTENDED)
    # A hold is not an appointment.
    _book(
        _slot(chemsex, centrum, date(2026, 6, 17)),
        Status.HELD,
        reference=None,
        held_until=NOW + timedelta(minutes=5),
    )
    return SimpleNamespace(chemsex=chemsex, prep=prep, centrum=centrum, zuidoost=zuidoost)


def test_bookings_per_week_count_appointments_by_their_amsterdam_week(known, frozen):
    weeks = selectors.bookings_per_week(first_monday=date(2026, 3, 23), weeks=16)

    figures = {w.monday: (w.appointments, w.attended, w.no_show, w.cancelled) for w in weeks}
    assert len(weeks) == 16
    assert weeks[0].monday == date(2026, 3, 23) and weeks[-1].monday == date(2026, 7, 6)
    assert figures[date(2026, 5, 25)] == (1, 0, 1, 0)
    assert figures[date(2026, 6, 1)] == (3, 2, 1, 1)
    assert figures[date(2026, 6, 8)] == (1, 0, 0, 0)
    assert figures[date(2026, 6, 15)] == (1, 0, 0, 0)
    assert sum(w.appointments for w in weeks) == 6  # 16 March lies before the first week


def test_dashboard_shows_the_weeks_and_the_rates_for_a_known_data_set(team_lead, known, frozen):
    response = team_lead.get(reverse("admin:staff_dashboard"))

    assert response.status_code == 200
    weeks = response.context["weeks"]
    assert weeks[0].monday == date(2026, 3, 23)  # 12 weeks up to and including this one
    assert weeks[-1].monday == date(2026, 7, 6)  # and 4 ahead
    per_service = {row.label: row for row in response.context["per_service"]}
    per_location = {row.label: row for row in response.context["per_location"]}
    total = response.context["total"]

    def figures(row):
        return (
            row.seats_offered,
            row.seats_booked,
            row.fill_rate,
            row.attended,
            row.no_show,
            row.no_show_rate,
        )

    assert figures(per_service["Chemsex"]) == (5, 4, "80%", 2, 1, "33%")
    assert figures(per_service["PrEP"]) == (2, 1, "50%", 0, 1, "100%")
    assert figures(per_location["Centrum"]) == (5, 5, "100%", 2, 2, "50%")
    assert figures(per_location["Zuidoost"]) == (2, 0, "0%", 0, 0, "–")
    assert figures(total) == (7, 5, "71%", 2, 2, "50%")


def test_dashboard_rates_of_the_coming_weeks(team_lead, known, frozen):
    response = team_lead.get(reverse("admin:staff_dashboard"), {"periode": "komend"})

    per_service = {row.label: row for row in response.context["per_service"]}
    assert response.context["rates_first"] == date(2026, 6, 10)
    assert (per_service["Chemsex"].seats_offered, per_service["Chemsex"].seats_booked) == (2, 1)
    assert per_service["Chemsex"].no_show_rate == "–"


def test_dashboard_draws_an_accessible_svg_chart_with_the_figures_beside_it(
    team_lead, known, frozen
):
    page = team_lead.get(reverse("admin:staff_dashboard")).content.decode()

    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in page
    assert '<title id="chart-title">' in page and '<desc id="chart-desc">' in page
    assert page.count("<rect ") == 16
    # Coordinates with a decimal point, also when the page is in Dutch (decimal comma).
    assert not re.search(r'<(rect|line)[^>]*="[0-9]+,[0-9]', page)
    assert "Week 23 (vanaf 1 jun): 3 afspraken" in page
    assert "<table" in page and "wk 23 (1 jun)" in page
    assert "<script" not in page.split('id="content-main"')[1]
    assert "style=" not in page


def test_dashboard_shows_no_personal_data(team_lead, known, frozen):
    page = team_lead.get(reverse("admin:staff_dashboard")).content.decode()

    assert "Persoonlijk" not in page
    for reference in Booking.objects.exclude(reference=None).values_list("reference", flat=True):
        assert reference not in page


def test_dashboard_makes_a_fixed_number_of_queries(team_lead, frozen):
    url = reverse("admin:staff_dashboard")
    team_lead.get(url)  # warm up: content types, permission cache
    with CaptureQueriesContext(connection) as empty:
        team_lead.get(url)

    chemsex, prep = ServiceFactory(), ServiceFactory()
    for n in range(6):
        location = LocationFactory()
        for service in (chemsex, prep):
            slot = _slot(service, location, date(2026, 6, 1) + timedelta(days=n))
            _book(slot, [Status.ATTENDED, Status.NO_SHOW, Status.CONFIRMED][n % 3])
    with CaptureQueriesContext(connection) as full:
        response = team_lead.get(url)

    assert len(response.context["per_location"]) == 6
    assert len(full) == len(empty)


def test_dashboard_is_for_those_who_may_see_figures(client, django_user_model):
    roles_setup()
    user = django_user_model.objects.create_user("zorg", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=CLINICIAN))
    sign_in_with_second_factor(client, user)

    assert client.get(reverse("admin:staff_dashboard")).status_code == 403


def test_dashboard_with_no_data_at_all(team_lead, frozen):
    response = team_lead.get(reverse("admin:staff_dashboard"))

    assert response.status_code == 200
    assert response.context["total"].fill_rate == "–"
    assert "Geen tijdsloten in deze periode." in response.content.decode()
