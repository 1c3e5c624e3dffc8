from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from appointments import roles
from appointments.management.commands.seed_demo import easter_sunday
from appointments.models import (
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
)

pytestmark = pytest.mark.django_db

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MODELS = [
    Location,
    Service,
    IntakeQuestion,
    IntakeChoice,
    Clinician,
    AvailabilityRule,
    Closure,
    Slot,
    Booking,
    IntakeAnswer,
    Message,
]


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in MODELS}
    counts["User"] = get_user_model().objects.count()
    return counts


def test_seed_demo_creates_three_services_in_dutch_and_english():
    _seed()

    names = set(Service.objects.values_list("name_nl", "name_en"))
    assert names == {
        ("Chemsex spreekuur", "Chemsex consultation"),
        ("PrEP-spreekuur", "PrEP consultation"),
        ("Soa-spreekuur", "STI consultation"),
    }
    chemsex = Service.objects.get(name_nl="Chemsex spreekuur")
    assert chemsex.slot_minutes == 45
    assert chemsex.description_nl and chemsex.description_en
    assert "legitimeren" in chemsex.what_to_bring_nl
    assert Location.objects.filter(postal_code="1018 WT").exists()
    assert Location.objects.count() == 2


def test_seed_demo_chemsex_intake_flags_only_the_crisis_answer_as_acute():
    _seed()

    chemsex = Service.objects.get(name_nl="Chemsex spreekuur")
    questions = IntakeQuestion.objects.filter(service=chemsex)
    assert questions.count() >= 6
    assert all(q.text_nl and q.text_en for q in questions)
    assert not questions.filter(required=True).exists()

    substances = questions.get(text_nl__startswith="Welke middelen")
    assert substances.kind == IntakeQuestion.Kind.MULTIPLE_CHOICE
    assert {"crystal-meth", "mephedrone", "ghb"} <= set(
        substances.choices.values_list("code", flat=True)
    )
    assert questions.filter(kind=IntakeQuestion.Kind.YES_NO, text_nl__contains="slammen").exists()

    safe = questions.get(text_nl="Voel je je nu veilig?")
    acute = IntakeChoice.objects.filter(acute_risk=True)
    assert list(acute.values_list("question", "code")) == [(safe.pk, "crisis")]
    assert safe.choices.count() == 3
    assert IntakeQuestion.objects.filter(service__name_nl="PrEP-spreekuur").exists()
    assert IntakeQuestion.objects.filter(service__name_nl="Soa-spreekuur").exists()


def test_seed_demo_creates_four_clinicians_with_rules_and_future_slots():
    _seed()

    assert Clinician.objects.count() == 4
    for clinician in Clinician.objects.all():
        assert clinician.rules.exists(), clinician
        assert clinician.services.exists() and clinician.locations.exists()
    assert AvailabilityRule.objects.filter(capacity__gt=1).exists()
    assert Closure.objects.filter(clinician__isnull=False).count() == 1

    now = timezone.now()
    assert not Slot.objects.filter(start__lt=now).exists()
    for service in Service.objects.all():
        assert Slot.objects.filter(service=service, start__gt=now).exists(), service


def test_seed_demo_closes_locations_on_christmas_and_generates_no_slots_then():
    with time_machine.travel(datetime(2026, 12, 10, 9, 0, tzinfo=AMSTERDAM), tick=False):
        _seed()

    for location in Location.objects.all():
        assert Closure.objects.filter(
            location=location, starts_on=date(2026, 12, 25), ends_on=date(2026, 12, 26)
        ).exists()
        assert Closure.objects.filter(location=location, starts_on=date(2027, 1, 1)).exists()
    assert not Slot.objects.filter(date__in=[date(2026, 12, 25), date(2026, 12, 26)]).exists()


def test_seed_demo_makes_one_staff_user_per_role_and_no_superuser():
    _seed()

    users = get_user_model().objects.all()
    assert {user.username: [g.name for g in user.groups.all()] for user in users} == {
        "balie": [roles.FRONT_DESK],
        "zorgverlener": [roles.CLINICIAN],
        "teamleider": [roles.TEAM_LEAD],
        "beheerder": [roles.FUNCTIONAL_ADMIN],
    }
    assert all(user.is_staff and user.is_active and not user.is_superuser for user in users)
    assert all(user.has_usable_password() for user in users)
    assert users.get(username="teamleider").has_perm("appointments.view_dashboard")


def test_seed_demo_prints_how_to_sign_in_but_no_password():
    output = _seed()

    assert "http://127.0.0.1:8000/beheer/" in output
    assert "Aanmelden: .venv/bin/python manage.py demo_login" in output
    assert "wachtwoord" not in output.lower()


def test_seed_demo_gives_the_clinician_account_appointments_one_with_acute_risk():
    _seed()

    user = get_user_model().objects.get(username="zorgverlener")
    own = Booking.objects.filter(slot__clinician__user=user, status=Booking.Status.CONFIRMED)
    assert user.clinician.display_name == "Sanne"
    assert own.count() >= 2
    acute = own.get(acute_risk=True)
    assert [answer.value for answer in acute.answers.filter(acute_risk=True)] == ["crisis"]
    assert "\n" in acute.answers.get(question__text_nl__startswith="Welke middelen").value
    # Appointments of other clinicians too, so the clinician's narrower view shows.
    assert Booking.objects.exclude(slot__clinician__user=user).exists()
    # One left an e-mail address, so its page shows a message history.
    assert Message.objects.filter(booking__in=own).exists()


def test_seed_demo_a_second_run_changes_nothing():
    _seed()
    before = _counts()
    hashes = dict(get_user_model().objects.values_list("username", "password"))

    second_output = _seed()

    assert _counts() == before
    assert "bestaat al" in second_output
    assert dict(get_user_model().objects.values_list("username", "password")) == hashes


def test_seed_demo_refuses_to_run_in_production(settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError):
        _seed()

    assert not Service.objects.exists()


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, date(2024, 3, 31)), (2025, date(2025, 4, 20)), (2027, date(2027, 3, 28))],
)
def test_easter_sunday_matches_the_calendar(year, easter):
    assert easter_sunday(year) == easter
