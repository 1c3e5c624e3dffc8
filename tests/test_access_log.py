"""The access log (NEN 7513) is written per look and cannot be changed afterwards."""

import pytest
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.test import RequestFactory

from appointments.access_log import access_log_record
from appointments.models import AccessLogEntry
from appointments.roles import CLINICIAN, roles_setup
from tests.factories import ClinicianFactory

pytestmark = pytest.mark.django_db


def _request(user, address="203.0.113.7"):
    request = RequestFactory().get("/beheer/", REMOTE_ADDR=address)
    request.user = user
    return request


def test_an_entry_says_who_on_whose_behalf_what_and_from_where(django_user_model):
    roles_setup()
    user = django_user_model.objects.create_user("zorgverlener", is_staff=True)
    user.groups.add(*Group.objects.filter(name=CLINICIAN))
    ClinicianFactory(user=user, display_name="Sanne")

    entry = access_log_record(
        request=_request(user),
        action=AccessLogEntry.Action.VIEW_INTAKE,
        booking_reference="ABCD-2345",
    )

    entry.refresh_from_db()
    assert (entry.actor_username, entry.action, entry.booking_reference) == (
        "zorgverlener",
        "view_intake",
        "ABCD-2345",
    )
    assert entry.on_behalf_of.startswith("Sanne")
    assert entry.ip_address == "203.0.113.7"
    assert entry.result == AccessLogEntry.Result.ALLOWED


def test_the_database_refuses_to_change_or_delete_an_entry(postgresql, django_user_model):
    user = django_user_model.objects.create_user("teamleider", is_staff=True)
    entry = access_log_record(request=_request(user), action=AccessLogEntry.Action.EXPORT)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(detail="weggepoetst")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessLogEntry.objects.filter(pk=entry.pk, detail="").exists()


def test_the_entry_survives_the_account(django_user_model):
    user = django_user_model.objects.create_user("oud", is_staff=True)
    entry = access_log_record(request=_request(user), action=AccessLogEntry.Action.SEARCH)

    user.delete()

    entry = AccessLogEntry.objects.get(pk=entry.pk)
    assert entry.actor_username == "oud"


def _staff(django_user_model, client, role, username):
    from tests.conftest import sign_in_with_second_factor

    roles_setup()
    user = django_user_model.objects.create_user(username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    sign_in_with_second_factor(client, user)
    return user


def test_a_clinician_reading_intake_answers_is_logged(client, django_user_model):
    from django.urls import reverse

    from tests.factories import BookingFactory, SlotFactory

    user = _staff(django_user_model, client, CLINICIAN, "sanne")
    clinician = ClinicianFactory(user=user)
    booking = BookingFactory(slot=SlotFactory(clinician=clinician))

    response = client.get(reverse("admin:appointments_booking_change", args=[booking.pk]))

    assert response.status_code == 200
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.VIEW_INTAKE)
    assert (entry.actor_username, entry.booking_reference) == ("sanne", booking.reference)


def test_the_front_desk_opening_a_booking_reads_no_intake_and_logs_no_intake_read(
    client, django_user_model
):
    from django.urls import reverse

    from appointments.roles import FRONT_DESK
    from tests.factories import BookingFactory

    _staff(django_user_model, client, FRONT_DESK, "balie")
    booking = BookingFactory()

    client.get(reverse("admin:appointments_booking_change", args=[booking.pk]))

    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.VIEW_INTAKE).exists()


def test_a_search_and_a_change_are_logged_without_the_data(client, django_user_model):
    from django.urls import reverse

    from appointments.roles import TEAM_LEAD
    from tests.factories import BookingFactory

    _staff(django_user_model, client, TEAM_LEAD, "teamleider")
    booking = BookingFactory(staff_note="")

    client.get(reverse("admin:appointments_booking_changelist"), {"q": booking.reference})
    client.post(
        reverse("admin:appointments_booking_change", args=[booking.pk]),
        {
            "status": "attended",
            "staff_note": "Geheime notitie",
            "language": "nl",
            "source": "online",
            "messages-TOTAL_FORMS": "0",
            "messages-INITIAL_FORMS": "0",
        },
    )

    search = AccessLogEntry.objects.get(action=AccessLogEntry.Action.SEARCH)
    assert search.booking_reference == booking.reference
    change = AccessLogEntry.objects.get(action=AccessLogEntry.Action.CHANGE)
    assert "status" in change.detail and "Geheime" not in change.detail


def test_nobody_can_change_or_delete_the_log_through_the_admin(client, django_user_model):
    from django.urls import reverse

    from appointments.roles import TEAM_LEAD

    user = _staff(django_user_model, client, TEAM_LEAD, "teamleider")
    entry = access_log_record(request=_request(user), action=AccessLogEntry.Action.EXPORT)

    change = client.post(
        reverse("admin:appointments_accesslogentry_change", args=[entry.pk]), {"detail": "x"}
    )
    delete = client.post(
        reverse("admin:appointments_accesslogentry_delete", args=[entry.pk]), {"post": "yes"}
    )

    assert change.status_code == 403 and delete.status_code == 403
    assert AccessLogEntry.objects.get(pk=entry.pk).detail == ""
    listing = client.get(reverse("admin:appointments_accesslogentry_changelist"))
    assert listing.status_code == 200


def test_the_daily_check_tells_team_leads_who_looked_far_more_than_usual(
    django_user_model, settings
):
    from datetime import timedelta

    from django.core import mail
    from django.utils import timezone

    from appointments.access_log import access_unusual_notify
    from appointments.roles import TEAM_LEAD

    settings.SPREEKUUR_ACCESS_ALERT_FLOOR, settings.SPREEKUUR_ACCESS_ALERT_FACTOR = 25, 3
    roles_setup()
    lead = django_user_model.objects.create_user(
        "teamleider", email="teamleider@example.org", is_staff=True
    )
    lead.groups.add(Group.objects.get(name=TEAM_LEAD))
    now = timezone.now()
    rows = []
    for _ in range(40):  # the curious one: 40 looks today, none before
        rows.append(AccessLogEntry(actor_username="nieuwsgierig", action="view_intake"))
    for _ in range(30):  # a busy but usual day for someone who reads 28 a day
        rows.append(AccessLogEntry(actor_username="druk", action="view_intake"))
    AccessLogEntry.objects.bulk_create(rows)
    # History ten days back (entries cannot be changed afterwards, so they are
    # written then): "druk" reads 28 a day.
    import time_machine

    with time_machine.travel(now - timedelta(days=10)):
        AccessLogEntry.objects.bulk_create(
            AccessLogEntry(actor_username="druk", action="view_intake") for _ in range(28 * 28)
        )

    unusual = access_unusual_notify(now=now + timedelta(minutes=1))

    assert [item.actor_username for item in unusual] == ["nieuwsgierig"]
    (alert,) = mail.outbox
    assert alert.to == ["teamleider@example.org"]
    assert "nieuwsgierig: 40 keer" in alert.body
    assert "druk" not in alert.body
