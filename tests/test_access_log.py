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
