"""Each staff role sees and does exactly what it may in the admin, and nothing more.

The four roles are the groups of `appointments.roles`; every user here is a
plain staff user in one group, signed in with a verified second factor. Two
clinicians each have one appointment: "own" belongs to the clinician whose
account signs in as Zorgverlener, "other" to a colleague.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from appointments import roles
from appointments.models import Booking, IntakeAnswer, IntakeQuestion, Slot
from tests.conftest import sign_in_with_second_factor
from tests.factories import (
    BookingFactory,
    ClinicianFactory,
    IntakeChoiceFactory,
    IntakeQuestionFactory,
    MessageFactory,
    ServiceFactory,
    SlotFactory,
    WaitlistEntryFactory,
)

pytestmark = pytest.mark.django_db

FRONT_DESK, CLINICIAN, TEAM_LEAD, ADMIN = (
    roles.FRONT_DESK,
    roles.CLINICIAN,
    roles.TEAM_LEAD,
    roles.FUNCTIONAL_ADMIN,
)
ALL_ROLES = [FRONT_DESK, CLINICIAN, TEAM_LEAD, ADMIN]

ACUTE_TEXT = "Nee, ik ben in acute nood"
SUBSTANCE_TEXTS = ["Middel Alfa", "Middel Bravo"]
OTHER_ANSWER = "Antwoord van een andere cliënt"
NOTE = "Notitie die alleen de zorg mag lezen"
# The questions as their codes are stored: must never reach a page.
CODES = ["code-acute-nood", "code-middel-alfa", "code-middel-bravo"]


@pytest.fixture(autouse=True)
def _roles():
    roles.roles_setup()


@pytest.fixture
def world(django_user_model):
    """Two clinicians, one appointment each; the first has an acute-risk intake and a note."""
    clinician_user = django_user_model.objects.create_user(
        "zorg", password="x-unused-x", is_staff=True
    )
    clinician_user.groups.add(Group.objects.get(name=CLINICIAN))
    own_clinician = ClinicianFactory(user=clinician_user)
    other_clinician = ClinicianFactory()
    service = ServiceFactory()

    own = BookingFactory(
        slot=SlotFactory(clinician=own_clinician, service=service),
        reference="OWNA-AAAA",
        acute_risk=True,
        staff_note=NOTE,
    )
    other = BookingFactory(
        slot=SlotFactory(clinician=other_clinician, service=service),
        reference="OTHR-BBBB",
    )

    safe = IntakeQuestionFactory(
        service=service,
        kind=IntakeQuestion.Kind.SINGLE_CHOICE,
        text_nl="Voel je je nu veilig?",
        order=2,
    )
    IntakeChoiceFactory(question=safe, code="code-acute-nood", text_nl=ACUTE_TEXT, acute_risk=True)
    substances = IntakeQuestionFactory(
        service=service,
        kind=IntakeQuestion.Kind.MULTIPLE_CHOICE,
        text_nl="Welke middelen gebruik je?",
        order=1,
    )
    IntakeChoiceFactory(question=substances, code="code-middel-alfa", text_nl="Middel Alfa")
    IntakeChoiceFactory(question=substances, code="code-middel-bravo", text_nl="Middel Bravo")
    free_text = IntakeQuestionFactory(service=service, text_nl="Nog iets?", order=3)
    IntakeAnswer.objects.create(
        booking=own, question=safe, value="code-acute-nood", acute_risk=True
    )
    IntakeAnswer.objects.create(
        booking=own, question=substances, value="code-middel-alfa\ncode-middel-bravo"
    )
    IntakeAnswer.objects.create(booking=other, question=free_text, value=OTHER_ANSWER)

    return SimpleNamespace(
        clinician_user=clinician_user,
        own=own,
        other=other,
        own_message=MessageFactory(booking=own),
        other_message=MessageFactory(booking=other),
        waitlist_entry=WaitlistEntryFactory(service=service),
        question=safe,
    )


def _signed_in(user) -> Client:
    return sign_in_with_second_factor(Client(), user)


@pytest.fixture
def as_role(world, django_user_model):
    """A signed-in client for a role; the clinician is the one who owns `world.own`."""

    def make(role: str) -> Client:
        if role == CLINICIAN:
            return _signed_in(world.clinician_user)
        user = django_user_model.objects.create_user(
            f"user-{len(role)}-{role[:4].lower()}", password="x-unused-x", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return _signed_in(user)

    return make


def _url(model: str, view: str, *args) -> str:
    return reverse(f"admin:appointments_{model}_{view}", args=args)


def _rows(response) -> list:
    return list(response.context["cl"].result_list)


def _actions(response) -> set[str]:
    form = response.context["action_form"]  # None when the user may run no action
    return {name for name, _label in form.fields["action"].choices} if form else set()


# --- setup_roles ---------------------------------------------------------------------------


def _role_permissions() -> dict[str, set[str]]:
    return {
        group.name: set(group.permissions.values_list("codename", flat=True))
        for group in Group.objects.filter(name__in=ALL_ROLES)
    }


def test_setup_roles_is_idempotent_and_puts_back_what_was_changed():
    call_command("setup_roles", stdout=None)
    first = _role_permissions()
    front_desk = Group.objects.get(name=FRONT_DESK)
    # Someone hands the front desk the intake by hand; the next run takes it away.
    front_desk.permissions.add(
        *Group.objects.get(name=CLINICIAN).permissions.filter(codename="view_intake")
    )

    call_command("setup_roles", stdout=None)
    call_command("setup_roles", stdout=None)

    assert _role_permissions() == first
    assert Group.objects.filter(name__in=ALL_ROLES).count() == 4
    assert first[FRONT_DESK] == set(roles.ROLE_PERMISSIONS[FRONT_DESK])


def test_only_clinicians_and_team_leads_may_read_intake_answers():
    readers = {
        name for name, codenames in roles.ROLE_PERMISSIONS.items() if "view_intake" in codenames
    }
    assert readers == {CLINICIAN, TEAM_LEAD}
    assert not any(
        codename.endswith(("_booking", "_message", "_waitlistentry", "_bookings", "_intake"))
        for codename in roles.ROLE_PERMISSIONS[ADMIN]
    )


# --- Appointments: list, detail, search ----------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (FRONT_DESK, {"OWNA-AAAA", "OTHR-BBBB"}),
        (CLINICIAN, {"OWNA-AAAA"}),
        (TEAM_LEAD, {"OWNA-AAAA", "OTHR-BBBB"}),
    ],
)
def test_booking_list_shows_each_role_its_appointments(as_role, role, expected):
    response = as_role(role).get(_url("booking", "changelist"))

    assert response.status_code == 200
    assert {booking.reference for booking in _rows(response)} == expected


def test_a_clinician_account_without_a_linked_clinician_sees_no_appointments(
    world, django_user_model
):
    user = django_user_model.objects.create_user("los", password="x-unused-x", is_staff=True)
    user.groups.add(Group.objects.get(name=CLINICIAN))
    client = _signed_in(user)

    bookings = client.get(_url("booking", "changelist"))
    slots = client.get(_url("slot", "changelist"))

    assert _rows(bookings) == [] and _rows(slots) == []
    assert client.get(_url("booking", "change", world.own.pk)).status_code == 404


@pytest.mark.parametrize(
    ("role", "own", "other"),
    [(FRONT_DESK, 200, 200), (CLINICIAN, 200, 404), (TEAM_LEAD, 200, 200), (ADMIN, 403, 403)],
)
def test_booking_change_page_opens_only_within_the_role(world, as_role, role, own, other):
    client = as_role(role)

    assert client.get(_url("booking", "change", world.own.pk)).status_code == own
    assert client.get(_url("booking", "change", world.other.pk)).status_code == other


def test_a_clinician_gets_404_on_every_page_of_another_clinicians_appointment(world, as_role):
    client = as_role(CLINICIAN)

    for view in ("change", "history", "delete"):
        assert client.get(_url("booking", view, world.other.pk)).status_code == 404
    response = client.post(
        _url("booking", "change", world.other.pk), {"status": Booking.Status.NO_SHOW}
    )
    assert response.status_code == 404
    world.other.refresh_from_db()
    assert world.other.status == Booking.Status.CONFIRMED


@pytest.mark.parametrize(
    ("role", "finds_other"), [(FRONT_DESK, True), (CLINICIAN, False), (TEAM_LEAD, True)]
)
def test_search_by_reference_finds_only_appointments_the_role_may_see(
    world, as_role, role, finds_other
):
    client = as_role(role)
    url = _url("booking", "changelist")

    own = _rows(client.get(url, {"q": "OWNA-AAAA"}))
    other = _rows(client.get(url, {"q": "OTHR-BBBB"}))

    assert own == [world.own]
    assert other == ([world.other] if finds_other else [])


# --- Intake answers, triage and the note ---------------------------------------------------


def _page(client, booking) -> str:
    response = client.get(_url("booking", "change", booking.pk))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("role", [CLINICIAN, TEAM_LEAD])
def test_clinician_and_team_lead_read_the_answers_as_texts_triage_first(world, as_role, role):
    page = _page(as_role(role), world.own)

    triage = page.index("Let op: acuut risico")
    assert triage < page.index('id="intake"') < page.index('name="status"')
    # The answer that raised the flag is named in the warning and in the list.
    assert page.count(ACUTE_TEXT) == 2
    assert all(text in page for text in SUBSTANCE_TEXTS)
    assert not any(code in page for code in CODES)
    assert NOTE in page and 'name="staff_note"' in page
    assert "0800-0113" in page


@pytest.mark.parametrize("role", [FRONT_DESK])
def test_front_desk_sees_that_there_is_a_triage_flag_but_no_answers_and_no_note(
    world, as_role, role
):
    client = as_role(role)

    own, other = _page(client, world.own), _page(client, world.other)

    assert "Let op: acuut risico" in own  # to route a caller, not why
    assert "Let op: acuut risico" not in other
    for page in (own, other):
        assert ACUTE_TEXT not in page and OTHER_ANSWER not in page
        assert not any(text in page for text in SUBSTANCE_TEXTS)
        assert not any(code in page for code in CODES)
        assert 'id="intake"' not in page
        assert NOTE not in page and "staff_note" not in page


def test_team_lead_reads_the_answers_of_every_appointment(world, as_role):
    assert OTHER_ANSWER in _page(as_role(TEAM_LEAD), world.other)


def test_a_clinician_never_reads_another_clinicians_answers(world, as_role):
    client = as_role(CLINICIAN)

    response = client.get(_url("booking", "change", world.other.pk))

    assert response.status_code == 404
    assert OTHER_ANSWER not in response.content.decode()


def test_intake_answers_are_read_only_through_the_admin_method_that_checks_the_role(
    world, as_role, rf, django_user_model
):
    from django.contrib import admin
    from django.core.exceptions import PermissionDenied

    desk_user = django_user_model.objects.create_user("balie-x", is_staff=True)
    desk_user.groups.add(Group.objects.get(name=FRONT_DESK))
    request = rf.get("/")
    request.user = desk_user

    with pytest.raises(PermissionDenied):
        admin.site._registry[Booking].intake_answers(request, world.own)


_FORM = {"messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0", "language": "nl"}


def test_clinician_marks_attendance_and_writes_a_note_but_not_the_client_details(world, as_role):
    response = as_role(CLINICIAN).post(
        _url("booking", "change", world.own.pk),
        {
            **_FORM,
            "status": Booking.Status.ATTENDED,
            "staff_note": "Verwezen naar verslavingszorg.",
            "nickname": "Veranderd",
            "source": Booking.Source.PHONE,
            "acute_risk": "",
        },
    )

    assert response.status_code == 302
    world.own.refresh_from_db()
    assert world.own.status == Booking.Status.ATTENDED
    assert world.own.staff_note == "Verwezen naar verslavingszorg."
    assert world.own.nickname == "" and world.own.source == Booking.Source.ONLINE
    assert world.own.acute_risk  # the flag follows the answers, nobody clears it by hand


def test_front_desk_cannot_write_the_note(world, as_role):
    response = as_role(FRONT_DESK).post(
        _url("booking", "change", world.own.pk),
        {
            **_FORM,
            "status": Booking.Status.NO_SHOW,
            "staff_note": "Door de balie",
            "nickname": "Kees",
            "source": Booking.Source.PHONE,
        },
    )

    assert response.status_code == 302
    world.own.refresh_from_db()
    assert world.own.status == Booking.Status.NO_SHOW
    assert world.own.nickname == "Kees"
    assert world.own.staff_note == NOTE


def test_a_clinician_may_only_move_between_the_appointment_statuses(world, as_role):
    as_role(CLINICIAN).post(
        _url("booking", "change", world.own.pk),
        {**_FORM, "status": Booking.Status.CANCELLED, "staff_note": ""},
    )

    world.own.refresh_from_db()
    assert world.own.status == Booking.Status.CONFIRMED


# --- Messages and the waitlist --------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"), [(FRONT_DESK, 2), (CLINICIAN, 1), (TEAM_LEAD, 2), (ADMIN, None)]
)
def test_messages_are_those_of_appointments_the_role_may_see(world, as_role, role, expected):
    client = as_role(role)

    response = client.get(_url("message", "changelist"))

    if expected is None:
        assert response.status_code == 403
        return
    assert len(_rows(response)) == expected
    other_status = client.get(_url("message", "change", world.other_message.pk)).status_code
    assert other_status == (404 if role == CLINICIAN else 200)


@pytest.mark.parametrize(
    ("role", "may_send_again"), [(FRONT_DESK, True), (CLINICIAN, False), (TEAM_LEAD, True)]
)
def test_send_again_action_needs_the_change_permission(world, as_role, role, may_send_again):
    from appointments.models import Message

    Message.objects.filter(pk=world.own_message.pk).update(status=Message.Status.FAILED)
    client = as_role(role)
    url = _url("message", "changelist")

    listed = client.get(url)
    client.post(url, {"action": "send_again", "_selected_action": [world.own_message.pk]})

    world.own_message.refresh_from_db()
    assert ("send_again" in _actions(listed)) is may_send_again
    assert (world.own_message.status == Message.Status.PENDING) is may_send_again


@pytest.mark.parametrize(
    ("role", "status"), [(FRONT_DESK, 200), (CLINICIAN, 403), (TEAM_LEAD, 200), (ADMIN, 403)]
)
def test_the_waitlist_is_for_front_desk_and_team_lead(world, as_role, role, status):
    assert as_role(role).get(_url("waitlistentry", "changelist")).status_code == status


def test_nobody_but_a_superuser_deletes_an_appointment(world, as_role):
    for role in (FRONT_DESK, CLINICIAN, TEAM_LEAD):
        client = as_role(role)
        client.post(
            _url("booking", "changelist"),
            {"action": "delete_selected", "_selected_action": [world.own.pk], "post": "yes"},
        )
        assert client.get(_url("booking", "delete", world.own.pk)).status_code == 403
    assert Booking.objects.filter(pk=world.own.pk).exists()


# --- Functional admin -----------------------------------------------------------------------


def test_functional_admin_gets_403_on_client_data_and_200_on_configuration(world, as_role):
    client = as_role(ADMIN)

    for model in ("booking", "message", "waitlistentry", "slot", "closure", "availabilityrule"):
        assert client.get(_url(model, "changelist")).status_code == 403, model
    for model in ("service", "intakequestion", "location"):
        assert client.get(_url(model, "changelist")).status_code == 200, model
        assert client.get(_url(model, "add")).status_code == 200, model
    assert client.get(_url("intakequestion", "change", world.question.pk)).status_code == 200
    assert client.get(_url("service", "change", world.own.slot.service_id)).status_code == 200


def test_deleting_a_question_with_answers_names_no_appointment(world, as_role):
    response = as_role(ADMIN).get(_url("intakequestion", "delete", world.question.pk))

    page = response.content.decode()
    assert response.status_code == 200
    assert "OWNA-AAAA" not in page
    assert "Intake-antwoorden: 1" in page


# --- Slots and configuration for the front desk and clinicians ------------------------------


def test_front_desk_blocks_a_slot_with_the_action(world, as_role):
    as_role(FRONT_DESK).post(
        _url("slot", "changelist"), {"action": "block", "_selected_action": [world.other.slot_id]}
    )

    assert Slot.objects.get(pk=world.other.slot_id).blocked


def test_a_clinician_sees_only_own_slots_and_cannot_block_them(world, as_role):
    client = as_role(CLINICIAN)
    url = _url("slot", "changelist")

    listed = client.get(url)
    client.post(url, {"action": "block", "_selected_action": [world.own.slot_id]})

    assert _rows(listed) == [world.own.slot]
    assert "block" not in _actions(listed)
    assert not Slot.objects.get(pk=world.own.slot_id).blocked
    assert client.get(_url("slot", "change", world.other.slot_id)).status_code == 404


def test_front_desk_cannot_add_or_change_intake_questions(world, as_role):
    client = as_role(FRONT_DESK)

    assert client.get(_url("intakequestion", "add")).status_code == 403
    assert client.get(_url("intakequestion", "change", world.question.pk)).status_code == 403
    assert client.get(_url("intakequestion", "changelist")).status_code == 403


def test_team_lead_reads_intake_questions_but_cannot_change_them(world, as_role):
    client = as_role(TEAM_LEAD)

    page = client.get(_url("intakequestion", "change", world.question.pk))
    posted = client.post(_url("intakequestion", "change", world.question.pk), {"text_nl": "x"})

    assert page.status_code == 200 and 'name="text_nl"' not in page.content.decode()
    assert posted.status_code == 403
    assert client.get(_url("intakequestion", "add")).status_code == 403


@pytest.mark.parametrize(("role", "may_link"), [(FRONT_DESK, False), (TEAM_LEAD, True)])
def test_only_a_team_lead_links_an_account_to_a_clinician(world, as_role, role, may_link):
    clinician = world.own.slot.clinician

    page = as_role(role).get(_url("clinician", "change", clinician.pk)).content.decode()

    assert ('name="user"' in page) is may_link


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (FRONT_DESK, ["Dagagenda", "Afspraak maken voor een beller"], ["Dashboard met cijfers"]),
        (TEAM_LEAD, ["Dagagenda", "Dashboard met cijfers"], []),
        (ADMIN, [], ["Dagagenda", "Afspraak maken voor een beller"]),
    ],
)
def test_the_admin_index_links_to_the_staff_pages_a_role_may_use(
    client, django_user_model, role, shown, hidden
):
    roles.roles_setup()
    user = django_user_model.objects.create_user("medewerker", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    sign_in_with_second_factor(client, user)

    html = client.get(reverse("admin:index")).content.decode()

    assert all(text in html for text in shown)
    assert not any(text in html for text in hidden)
