"""The staff pages under /beheer/: day agenda, booking on behalf, day-list export, rota.

Each role gets exactly the pages it may open; a clinician sees and changes only
their own appointments; the buttons go through the same services as everything
else; slot generation from the page and the nightly task leave booked slots alone.
"""

import csv
import io
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appointments import services, tasks
from appointments.models import (
    AccessLogEntry,
    AvailabilityRule,
    Booking,
    IntakeAnswer,
    Message,
    Slot,
)
from appointments.roles import CLINICIAN, FRONT_DESK, FUNCTIONAL_ADMIN, TEAM_LEAD, roles_setup
from tests.conftest import sign_in_with_second_factor
from tests.factories import (
    AvailabilityRuleFactory,
    BookingFactory,
    ClinicianFactory,
    IntakeQuestionFactory,
    LocationFactory,
    ServiceFactory,
    SlotFactory,
)

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
UTC = ZoneInfo("UTC")
# A Tuesday morning in June; the agenda's "today".
NOW = datetime(2026, 6, 9, 9, 0, tzinfo=AMSTERDAM)
TODAY = NOW.date()


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(client, django_user_model):
    """`staff(role)`: a signed-in (two-factor) client for a new user in that role's group."""
    roles_setup()
    counter = iter(range(1000))

    def sign_in(role: str | None, *, permissions=()):
        user = django_user_model.objects.create_user(
            f"medewerker{next(counter)}", password="x-unused-x", is_staff=True
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        for codename in permissions:
            from django.contrib.auth.models import Permission

            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="appointments", codename=codename)
            )
        sign_in_with_second_factor(client, user)
        client.user = user
        return client

    return sign_in


@pytest.fixture
def place():
    """A service, a location and two clinicians, the first with an account of its own."""
    from types import SimpleNamespace

    return SimpleNamespace(
        service=ServiceFactory(name_nl="Chemsex"),
        location=LocationFactory(name="Nieuwe Achtergracht"),
        other_location=LocationFactory(name="Zuidoost"),
        anna=ClinicianFactory(display_name="Anna"),
        bram=ClinicianFactory(display_name="Bram"),
    )


def _slot(place, at: time, *, day: date = TODAY, clinician=None, location=None, capacity=1):
    start = datetime.combine(day, at, tzinfo=AMSTERDAM)
    return SlotFactory(
        clinician=clinician or place.anna,
        service=place.service,
        location=location or place.location,
        start=start,
        end=start + timedelta(minutes=30),
        date=day,
        capacity=capacity,
    )


def _agenda(client, **params):
    return client.get(reverse("admin:staff_agenda"), params)


# --- Who may open what --------------------------------------------------------------

PAGES = {
    "agenda": ("admin:staff_agenda", FRONT_DESK, FUNCTIONAL_ADMIN),
    "export": ("admin:staff_agenda_export", FRONT_DESK, CLINICIAN),
    "book": ("admin:staff_book", FRONT_DESK, CLINICIAN),
    "dashboard": ("admin:staff_dashboard", TEAM_LEAD, FRONT_DESK),
    "generate": ("admin:staff_generate_slots", FRONT_DESK, CLINICIAN),
}


@pytest.mark.parametrize("page", PAGES)
def test_each_staff_page_opens_for_a_role_that_may(staff, page):
    url_name, allowed, _refused = PAGES[page]
    client = staff(allowed)

    response = client.get(reverse(url_name))

    assert response.status_code == 200


@pytest.mark.parametrize("page", PAGES)
def test_each_staff_page_is_refused_to_a_role_that_may_not(staff, page):
    url_name, _allowed, refused = PAGES[page]
    client = staff(refused)

    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("page", PAGES)
def test_each_staff_page_sends_a_session_without_second_factor_to_sign_in(
    client, django_user_model, page
):
    roles_setup()
    user = django_user_model.objects.create_superuser("baas", password="x-unused-x")
    client.force_login(user)  # password only: no verified device in the session

    response = client.get(reverse(PAGES[page][0]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_staff_pages_link_to_each_other_only_where_the_user_may_go(staff):
    client = staff(FRONT_DESK)

    page = client.get(reverse("admin:staff_agenda")).content.decode()

    assert reverse("admin:staff_book") in page
    assert reverse("admin:staff_generate_slots") in page
    assert reverse("admin:staff_dashboard") not in page


# --- Day agenda ---------------------------------------------------------------------


def test_agenda_lists_the_days_appointments_in_time_order_with_a_triage_marker(
    staff, place, frozen
):
    late = BookingFactory(slot=_slot(place, time(15, 0)), reference="LATE-0001", nickname="Kees")
    early = BookingFactory(
        slot=_slot(place, time(10, 0), clinician=place.bram),
        reference="EARL-0001",
        acute_risk=True,
    )
    BookingFactory(slot=_slot(place, time(10, 0), day=TODAY + timedelta(days=1)), reference="TMRW")
    BookingFactory(
        slot=_slot(place, time(11, 0)),
        status=Booking.Status.HELD,
        reference=None,
        held_until=NOW + timedelta(minutes=5),
    )
    client = staff(FRONT_DESK)

    response = _agenda(client)

    page = response.content.decode()
    assert response.status_code == 200
    assert [row.booking for row in response.context["rows"]] == [early, late]
    assert page.index("EARL-0001") < page.index("LATE-0001")
    assert "acuut risico" in page
    assert "Kees" in page and "Bram" in page
    assert "TMRW" not in page


def test_agenda_shows_another_day_a_location_or_a_clinician(staff, place, frozen):
    BookingFactory(slot=_slot(place, time(10, 0)), reference="HERE-0001")
    BookingFactory(
        slot=_slot(place, time(10, 0), clinician=place.bram, location=place.other_location),
        reference="ZUID-0001",
    )
    BookingFactory(
        slot=_slot(place, time(10, 0), day=TODAY + timedelta(days=1)), reference="NEXT-0001"
    )
    client = staff(FRONT_DESK)

    by_location = _agenda(client, locatie=place.other_location.pk).content.decode()
    by_clinician = _agenda(client, zorgverlener=place.anna.pk).content.decode()
    tomorrow = _agenda(client, dag=(TODAY + timedelta(days=1)).isoformat())

    assert "ZUID-0001" in by_location and "HERE-0001" not in by_location
    assert "HERE-0001" in by_clinician and "ZUID-0001" not in by_clinician
    assert "NEXT-0001" in tomorrow.content.decode()
    assert f"dag={TODAY.isoformat()}" in tomorrow.content.decode()  # the "previous day" link


def test_agenda_with_a_malformed_day_falls_back_to_today(staff, place, frozen):
    BookingFactory(slot=_slot(place, time(10, 0)), reference="HERE-0001")
    client = staff(FRONT_DESK)

    response = _agenda(client, dag="gisteren")

    assert response.status_code == 200
    assert "HERE-0001" in response.content.decode()


def test_a_clinician_sees_only_their_own_appointments_on_the_agenda(staff, place, frozen):
    client = staff(CLINICIAN)
    place.anna.user = client.user
    place.anna.save()
    BookingFactory(slot=_slot(place, time(10, 0)), reference="ANNA-0001")
    BookingFactory(slot=_slot(place, time(11, 0), clinician=place.bram), reference="BRAM-0001")

    own = _agenda(client).content.decode()
    asking_for_bram = _agenda(client, zorgverlener=place.bram.pk).content.decode()

    assert "ANNA-0001" in own and "BRAM-0001" not in own
    assert "BRAM-0001" not in asking_for_bram


def test_a_clinician_cannot_change_another_clinicians_appointment(staff, place, frozen):
    client = staff(CLINICIAN)
    place.anna.user = client.user
    place.anna.save()
    brams = BookingFactory(slot=_slot(place, time(8, 0), clinician=place.bram))

    attendance = client.post(
        reverse("admin:staff_agenda_booking", args=[brams.pk]), {"actie": "gekomen"}
    )
    cancel = client.post(reverse("admin:staff_agenda_cancel", args=[brams.pk]))

    assert attendance.status_code == 404
    assert cancel.status_code == 404
    brams.refresh_from_db()
    assert brams.status == Booking.Status.CONFIRMED


def test_attended_and_no_show_buttons_record_attendance(staff, place, frozen):
    came = BookingFactory(slot=_slot(place, time(8, 0)))
    stayed_away = BookingFactory(slot=_slot(place, time(8, 30)))
    later_today = BookingFactory(slot=_slot(place, time(16, 0)))
    client = staff(CLINICIAN)
    place.anna.user = client.user
    place.anna.save()
    url = reverse("admin:staff_agenda_booking", args=[came.pk])

    response = client.post(f"{url}?dag={TODAY}&locatie={place.location.pk}", {"actie": "gekomen"})
    client.post(
        reverse("admin:staff_agenda_booking", args=[stayed_away.pk]), {"actie": "niet_gekomen"}
    )
    # A client who arrives early: today's appointments can be marked before they start.
    client.post(reverse("admin:staff_agenda_booking", args=[later_today.pk]), {"actie": "gekomen"})

    assert response.status_code == 302
    assert response["Location"] == (
        f"{reverse('admin:staff_agenda')}?dag={TODAY}&locatie={place.location.pk}"
    )
    statuses = {b.pk: b.status for b in Booking.objects.all()}
    assert statuses == {
        came.pk: Booking.Status.ATTENDED,
        stayed_away.pk: Booking.Status.NO_SHOW,
        later_today.pk: Booking.Status.ATTENDED,
    }
    came.refresh_from_db()
    assert came.sequence == 1
    logged = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.ATTENDANCE)
    assert sorted(logged.values_list("booking_reference", "detail")) == sorted(
        [
            (came.reference, "gekomen"),
            (stayed_away.reference, "niet_gekomen"),
            (later_today.reference, "gekomen"),
        ]
    )
    assert {entry.actor_id for entry in logged} == {client.user.pk}


def test_attendance_cannot_be_recorded_before_the_day_nor_for_a_cancelled_appointment(
    staff, place, frozen
):
    tomorrow = BookingFactory(slot=_slot(place, time(10, 0), day=TODAY + timedelta(days=1)))
    cancelled = BookingFactory(slot=_slot(place, time(8, 0)), status=Booking.Status.CANCELLED)
    client = staff(FRONT_DESK)

    for booking in (tomorrow, cancelled):
        response = client.post(
            reverse("admin:staff_agenda_booking", args=[booking.pk]), {"actie": "gekomen"}
        )
        assert response.status_code == 302

    assert set(Booking.objects.values_list("status", flat=True)) == {
        Booking.Status.CONFIRMED,
        Booking.Status.CANCELLED,
    }
    with pytest.raises(services.BookingNotChangeable):
        services.booking_mark_attendance(booking=tomorrow, attended=True, now=NOW)


def test_a_wrong_attendance_mark_can_be_corrected(place, frozen):
    booking = BookingFactory(slot=_slot(place, time(8, 0)), status=Booking.Status.NO_SHOW)

    services.booking_mark_attendance(booking=booking, attended=True, now=NOW)

    booking.refresh_from_db()
    assert booking.status == Booking.Status.ATTENDED


def test_cancel_from_the_agenda_asks_first_then_cancels_and_tells_the_client(staff, place, frozen):
    booking = BookingFactory(
        slot=_slot(place, time(14, 0)),
        reference="GONE-0001",
        email="client@example.org",
        contact_channel="email",
    )
    client = staff(FRONT_DESK)
    agenda = _agenda(client).content.decode()
    cancel_url = reverse("admin:staff_agenda_cancel", args=[booking.pk])

    question = client.get(cancel_url)
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    answer = client.post(f"{cancel_url}?dag={TODAY}")

    assert cancel_url in agenda
    assert question.status_code == 200
    assert "krijgt direct een bericht" in question.content.decode()
    assert answer.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    notice = Message.objects.get(booking=booking, kind=Message.Kind.CANCELLED_BY_STAFF)
    assert notice.status == Message.Status.PENDING
    followed = client.get(answer["Location"])
    assert "GONE-0001 is afgezegd" in followed.content.decode()
    assert AccessLogEntry.objects.get(action=AccessLogEntry.Action.CANCEL).booking_reference == (
        "GONE-0001"
    )


def test_an_appointment_that_has_begun_cannot_be_cancelled_from_the_agenda(staff, place, frozen):
    booking = BookingFactory(slot=_slot(place, time(8, 30)))
    client = staff(FRONT_DESK)

    response = client.post(reverse("admin:staff_agenda_cancel", args=[booking.pk]))

    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED


def test_without_change_permission_the_agenda_has_no_buttons_and_refuses_posts(
    staff, place, frozen
):
    booking = BookingFactory(slot=_slot(place, time(8, 0)))
    client = staff(None, permissions=["view_booking", "view_all_bookings"])

    page = _agenda(client).content.decode()
    post = client.post(
        reverse("admin:staff_agenda_booking", args=[booking.pk]), {"actie": "gekomen"}
    )

    assert booking.reference in page
    assert reverse("admin:staff_agenda_booking", args=[booking.pk]) not in page
    assert post.status_code == 403


def test_the_agenda_makes_the_same_number_of_queries_for_one_row_or_many(staff, place, frozen):
    client = staff(FRONT_DESK)
    BookingFactory(slot=_slot(place, time(10, 0)))
    _agenda(client)  # warm up: content types, permission cache

    with CaptureQueriesContext(connection) as one_row:
        _agenda(client)
    for hour in range(11, 17):
        clinician = ClinicianFactory()
        location = LocationFactory()
        BookingFactory(
            slot=_slot(place, time(hour, 0), clinician=clinician, location=location),
            acute_risk=hour % 2 == 0,
        )
    with CaptureQueriesContext(connection) as many_rows:
        response = _agenda(client)

    assert len(response.context["rows"]) == 7
    assert len(many_rows) == len(one_row)


def test_the_agenda_page_has_a_print_stylesheet_and_no_inline_styles(staff, place, frozen):
    BookingFactory(slot=_slot(place, time(10, 0)), acute_risk=True)
    client = staff(FRONT_DESK)

    page = _agenda(client).content.decode()
    css = client.get("/static/css/staff.css")
    css_text = b"".join(css.streaming_content).decode()

    assert "css/staff.css" in page
    assert "style=" not in page and "<style" not in page
    assert "@media print" in css_text


# --- Book on behalf -----------------------------------------------------------------


def _book_url(place) -> str:
    return f"{reverse('admin:staff_book')}?spreekuur={place.service.pk}&locatie={place.location.pk}"


def test_booking_on_behalf_of_a_caller_uses_the_booking_services_and_marks_the_source(
    staff, place, frozen
):
    slot = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    IntakeQuestionFactory(service=place.service, required=True)
    client = staff(FRONT_DESK)

    times = client.get(_book_url(place))
    picked = client.post(_book_url(place), {"slot": slot.pk})
    details_page = client.get(picked["Location"])
    done = client.post(
        picked["Location"],
        {"source": Booking.Source.PHONE, "nickname": "Sam", "language": "nl"},
    )

    assert times.status_code == 200
    assert f'value="{slot.pk}"' in times.content.decode()
    assert picked.status_code == 302
    assert details_page.status_code == 200
    assert done.status_code == 200
    booking = Booking.objects.get(slot=slot)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.source == Booking.Source.PHONE
    assert booking.nickname == "Sam"
    assert not IntakeAnswer.objects.exists()  # a required question is not asked here
    logged = AccessLogEntry.objects.get(action=AccessLogEntry.Action.BOOK)
    assert (logged.booking_reference, logged.detail) == (booking.reference, "phone")
    page = done.content.decode()
    assert booking.reference in page
    assert "/mijn-afspraak/" in page
    assert "no-store" in done["Cache-Control"]
    # Shown once: the page cannot be had again, and posting again books nothing new.
    again = client.post(
        picked["Location"], {"source": Booking.Source.PHONE, "nickname": "Sam", "language": "nl"}
    )
    assert again.status_code == 404
    assert Booking.objects.filter(slot=slot).count() == 1


def test_the_front_desk_books_a_walk_in_within_the_minimum_notice_clients_cannot(
    staff, place, frozen
):
    from django.test import Client

    place.service.min_notice_minutes = 60
    place.service.save()
    soon = _slot(place, time(9, 30))  # in 30 minutes
    started = _slot(place, time(8, 30))  # began half an hour ago
    times_url = reverse("appointments:times", args=[place.service.pk, place.location.pk])
    week = {"week": TODAY.isoformat()}

    online = Client().get(times_url, week).content.decode()
    desk = staff(FRONT_DESK)
    offered = desk.get(_book_url(place) + f"&week={TODAY.isoformat()}").content.decode()
    picked = desk.post(_book_url(place), {"slot": soon.pk})
    done = desk.post(picked["Location"], {"source": Booking.Source.WALK_IN, "language": "nl"})

    assert f'name="slot" value="{soon.pk}"' not in online
    assert f'name="slot" value="{soon.pk}"' in offered
    assert f'name="slot" value="{started.pk}"' not in offered
    assert done.status_code == 200
    booking = Booking.objects.get(slot=soon)
    assert (booking.status, booking.source) == (Booking.Status.CONFIRMED, Booking.Source.WALK_IN)
    with pytest.raises(services.SlotUnavailable):
        services.slot_hold(slot_id=started.pk, by_staff=True)


def test_booking_on_behalf_past_the_cap_of_a_contact_says_so_next_to_the_field(
    staff, place, frozen, settings
):
    settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT = 1
    first = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    second = _slot(place, time(15, 0), day=TODAY + timedelta(days=2))
    client = staff(FRONT_DESK)
    details = {
        "source": Booking.Source.PHONE,
        "language": "nl",
        "email": "beller@example.org",
        "consent": "on",
    }
    client.post(client.post(_book_url(place), {"slot": first.pk})["Location"], details)

    refused = client.post(client.post(_book_url(place), {"slot": second.pk})["Location"], details)

    assert refused.status_code == 200
    assert "de meeste afspraken" in refused.content.decode()
    assert Booking.objects.get(slot=second).status == Booking.Status.HELD


def test_a_walk_in_with_contact_and_consent_gets_a_confirmation_message(staff, place, frozen):
    slot = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    client = staff(TEAM_LEAD)
    picked = client.post(_book_url(place), {"slot": slot.pk})

    done = client.post(
        picked["Location"],
        {
            "source": Booking.Source.WALK_IN,
            "language": "en",
            "phone": "06 12345678",
            "consent": "on",
        },
    )

    booking = Booking.objects.get(slot=slot, status=Booking.Status.CONFIRMED)
    assert booking.source == Booking.Source.WALK_IN
    assert booking.phone == "+31612345678"
    assert booking.language == "en"
    assert Message.objects.filter(booking=booking, kind=Message.Kind.CONFIRMATION).exists()
    assert "staat ook in de bevestiging" in done.content.decode()


def test_a_contact_without_the_callers_consent_is_refused_and_kept_on_the_form(
    staff, place, frozen
):
    slot = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    client = staff(FRONT_DESK)
    picked = client.post(_book_url(place), {"slot": slot.pk})

    response = client.post(
        picked["Location"],
        {"source": Booking.Source.PHONE, "language": "nl", "email": "iemand@example.org"},
    )

    assert response.status_code == 200
    assert "iemand@example.org" in response.content.decode()
    assert response.context["form"].has_error("consent")
    assert Booking.objects.get(slot=slot).status == Booking.Status.HELD


def test_a_taken_time_gives_a_friendly_message_and_the_nearest_free_times(staff, place, frozen):
    taken = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    BookingFactory(slot=taken)
    free = _slot(place, time(15, 0), day=TODAY + timedelta(days=2))
    client = staff(FRONT_DESK)

    response = client.post(_book_url(place), {"slot": taken.pk})

    assert response.status_code == 409
    page = response.content.decode()
    assert "net niet meer vrij" in page
    assert f'value="{free.pk}"' in page
    assert Booking.objects.filter(slot=taken).count() == 1


def test_when_the_held_time_went_to_someone_else_the_desk_picks_another_without_retyping(
    staff, place, frozen
):
    slot = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    other = _slot(place, time(14, 30), day=TODAY + timedelta(days=2))
    client = staff(FRONT_DESK)
    picked = client.post(_book_url(place), {"slot": slot.pk})
    details = {"source": Booking.Source.PHONE, "language": "nl", "nickname": "Robin"}

    # The hold runs out and an online client takes the seat.
    frozen.shift(timedelta(minutes=15))
    online = services.slot_hold(slot_id=slot.pk)
    services.booking_confirm(hold_public_id=online.public_id)
    lost = client.post(picked["Location"], details)
    done = client.post(picked["Location"], {**details, "alternative_slot": other.pk})

    assert lost.status_code == 409
    assert "Robin" in lost.content.decode()
    assert f'value="{other.pk}"' in lost.content.decode()
    assert done.status_code == 200
    assert Booking.objects.get(slot=other, status=Booking.Status.CONFIRMED).nickname == "Robin"
    # The database rule held: one live claim on the first slot, the online client's.
    assert Booking.objects.filter(slot=slot).exclude(status=Booking.Status.EXPIRED).count() == 1


def test_a_hold_made_in_another_browser_cannot_be_confirmed_here(staff, place, frozen):
    slot = _slot(place, time(14, 0), day=TODAY + timedelta(days=2))
    someone_elses = services.slot_hold(slot_id=slot.pk)
    client = staff(FRONT_DESK)

    response = client.get(reverse("admin:staff_book_details", args=[someone_elses.public_id]))

    assert response.status_code == 404


# --- Day list export ----------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def test_the_day_list_exports_as_csv_without_nickname_contact_or_intake(staff, place, frozen):
    booking = BookingFactory(
        slot=_slot(place, time(10, 0)),
        reference="CSV1-0001",
        nickname="Geheime Naam",
        email="geheim@example.org",
        contact_channel="email",
        source=Booking.Source.PHONE,
        acute_risk=True,
    )
    IntakeAnswer.objects.create(
        booking=booking,
        question=IntakeQuestionFactory(service=place.service),
        value="Mijn intake-antwoord",
    )
    BookingFactory(
        slot=_slot(place, time(10, 0), clinician=place.bram, location=place.other_location),
        reference="ELSE-0001",
    )
    client = staff(FRONT_DESK)

    response = client.get(
        reverse("admin:staff_agenda_export"),
        {"dag": TODAY.isoformat(), "locatie": place.location.pk},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="daglijst-2026-06-09.csv"'
    assert "no-store" in response["Cache-Control"]
    rows = _csv_rows(response)
    assert rows == [
        ["datum", "tijd", "locatie", "zorgverlener", "referentie", "status", "bron"],
        [
            "2026-06-09",
            "10:00",
            "Nieuwe Achtergracht",
            "Anna",
            "CSV1-0001",
            "bevestigd",
            "telefoon",
        ],
    ]
    body = response.content.decode("utf-8-sig")
    for secret in ("Geheime Naam", "geheim@example.org", "Mijn intake-antwoord", "acuut"):
        assert secret not in body
    logged = AccessLogEntry.objects.get(action=AccessLogEntry.Action.EXPORT)
    assert logged.detail == "daglijst 2026-06-09: 1 afspraken"


def test_the_day_list_export_guards_against_spreadsheet_formulas(staff, place, frozen):
    for n, name in enumerate(['=HYPERLINK("http://x")', "+31", "-2", "@SUM(A1)"]):
        BookingFactory(
            slot=_slot(place, time(10 + n, 0), clinician=ClinicianFactory(display_name=name))
        )
    client = staff(FRONT_DESK)

    rows = _csv_rows(client.get(reverse("admin:staff_agenda_export"), {"dag": TODAY.isoformat()}))

    assert [row[3] for row in rows[1:]] == [
        '\'=HYPERLINK("http://x")',
        "'+31",
        "'-2",
        "'@SUM(A1)",
    ]


# --- Rota: generating slots ---------------------------------------------------------

# The Monday before summer time ends (Sunday 25 October 2026).
BEFORE_WINTER_TIME = datetime(2026, 10, 19, 8, 0, tzinfo=AMSTERDAM)


def test_generating_slots_from_the_page_keeps_booked_slots_and_lists_the_conflicts(staff):
    with time_machine.travel(BEFORE_WINTER_TIME, tick=False):
        rule = AvailabilityRuleFactory(
            weekday=AvailabilityRule.Weekday.TUESDAY,
            start_time=time(13, 0),
            end_time=time(14, 0),
            valid_from=date(2026, 10, 19),
        )
        client = staff(FRONT_DESK)
        url = reverse("admin:staff_generate_slots")

        form = client.get(url)
        first = client.post(url, {"weeks": 2})
        starts = sorted(Slot.objects.values_list("start", flat=True))
        # 13:00 local is 11:00 UTC before the change and 12:00 UTC after it.
        assert [s.astimezone(UTC).hour for s in starts] == [11, 11, 12, 12]
        after_change = Slot.objects.get(start=datetime(2026, 10, 27, 13, 30, tzinfo=AMSTERDAM))
        booking = BookingFactory(slot=after_change, reference="KEEP-0001")
        # The clinician now stops at 13:30: the booked 13:30 slot is no longer asked for.
        rule.end_time = time(13, 30)
        rule.save()
        second = client.post(url, {"weeks": 2})

    assert form.status_code == 200
    assert form.context["form"]["weeks"].value() == 8
    assert first.status_code == 200 and first.context["report"].created == 4
    assert second.status_code == 200
    assert Slot.objects.filter(pk=after_change.pk).exists()
    assert Slot.objects.count() == 3  # the free 13:30 slot of the 20th is gone
    page = second.content.decode()
    assert "Geboekte tijden die niet meer in het rooster passen" in page
    assert reverse("admin:appointments_booking_change", args=[booking.pk]) in page
    assert "KEEP-0001" in page
    assert [slot.pk for slot, _bookings in second.context["conflicts"]] == [after_change.pk]


def test_generating_slots_refuses_an_impossible_number_of_weeks(staff):
    client = staff(FRONT_DESK)

    response = client.post(reverse("admin:staff_generate_slots"), {"weeks": 0})

    assert response.status_code == 200
    assert response.context["form"].has_error("weeks")
    assert response.context["report"] is None


def test_the_nightly_task_generates_ahead_across_the_start_of_summer_time(settings, caplog):
    settings.SPREEKUUR_SLOT_WEEKS_AHEAD = 2
    with time_machine.travel(datetime(2027, 3, 22, 7, 0, tzinfo=AMSTERDAM), tick=False):
        rule = AvailabilityRuleFactory(
            weekday=AvailabilityRule.Weekday.MONDAY,
            start_time=time(9, 0),
            end_time=time(10, 0),
            valid_from=date(2027, 3, 22),
        )
        first = tasks.slots_generate_ahead()
        starts = sorted(Slot.objects.values_list("start", flat=True))
        booked = Slot.objects.get(start=datetime(2027, 3, 29, 9, 0, tzinfo=AMSTERDAM))
        BookingFactory(slot=booked, nickname="Naam die nooit in een log hoort")
        rule.valid_until = date(2027, 3, 28)  # the rule ends before the booked day
        rule.save()
        with caplog.at_level(logging.INFO, logger="appointments.tasks"):
            second = tasks.slots_generate_ahead()
        again = tasks.slots_generate_ahead()

    # 09:00 local is 08:00 UTC in winter time and 07:00 UTC in summer time.
    assert [s.astimezone(UTC).hour for s in starts] == [8, 8, 7, 7]
    assert first["created"] == 4
    assert second == {"created": 0, "updated": 0, "removed": 1, "retired": 0, "conflicts": 1}
    assert again["conflicts"] == 1 and again["removed"] == 0
    assert Slot.objects.filter(pk=booked.pk).exists()
    assert Booking.objects.get().slot_id == booked.pk
    assert "conflicts': 1" in caplog.text
    assert "Naam die nooit" not in caplog.text
