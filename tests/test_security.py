"""Security tests (issue 5), marked `security` and run in CI.

1. IDOR: walking ids and references opens nothing that is not one's own.
2. CSRF: every POST, client and staff, is refused without a token (and works with one).
3. Token tampering and replay: an altered or spent link is the same 404 as an unknown one;
   an expired hold whose seat went to someone else books nothing.
4. Script payloads typed by a client come out escaped on client and staff pages.
5. Oversized and malformed input gives a clear error, never a 500.
6. Headers: no-store on pages with personal data; framing, sniffing, referrer and CSP on all.

Rate limits are raised for this module: these tests send many requests from one address
and test what the views do with them, not the limits (test_abuse_and_errors does).
"""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from appointments import roles, services
from appointments.models import (
    Booking,
    Closure,
    ContactChannel,
    IntakeAnswer,
    IntakeQuestion,
    Message,
    WaitlistEntry,
)
from appointments.selectors import hash_manage_token
from appointments.views import SESSION_HOLDS
from tests.conftest import sign_in_with_second_factor
from tests.factories import (
    BookingFactory,
    ClinicianFactory,
    IntakeChoiceFactory,
    IntakeQuestionFactory,
    LocationFactory,
    MessageFactory,
    ServiceFactory,
    SlotFactory,
    WaitlistEntryFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.security]

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
]

# Pages under a manage token, by URL name.
MANAGE_PAGES = ["manage", "ics", "cancel", "reschedule", "contact", "erase"]


@pytest.fixture(autouse=True)
def _roomy_rate_limits(settings):
    for name in ("HOLD", "BOOK", "MANAGE", "WAITLIST"):
        setattr(settings, f"SPREEKUUR_RATE_{name}", "10000/m")


@pytest.fixture(autouse=True)
def _roles():
    roles.roles_setup()


# --- Helpers -------------------------------------------------------------------------


def _book(slot=None, **kwargs) -> services.ConfirmedBooking:
    """A confirmed appointment made through the booking services; its token is known."""
    slot = slot or SlotFactory()
    hold = services.slot_hold(slot_id=slot.pk)
    return services.booking_confirm(hold_public_id=hold.public_id, **kwargs)


def _give_holds(client: Client, *holds: Booking) -> None:
    """Put holds in the browser's session, as picking a time there would."""
    session = client.session
    session[SESSION_HOLDS] = [str(hold.public_id) for hold in holds]
    session.save()


def _manage_url(name: str, token: str) -> str:
    return reverse(f"appointments:{name}", args=[token])


def _staff(django_user_model, role: str, *, clinician=None, csrf: bool = False) -> Client:
    """A signed-in (two factors) client for a new user in `role`, linked to `clinician`."""
    user = django_user_model.objects.create_user(
        f"staff-{django_user_model.objects.count()}", password="x-unused-x", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    if clinician is not None:
        clinician.user = user
        clinician.save(update_fields=["user"])
    client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
    return sign_in_with_second_factor(client, user)


def _snapshot() -> dict:
    """Everything a POST could change, to compare before and after."""
    return {
        "bookings": list(
            Booking.objects.order_by("pk").values_list(
                "pk",
                "status",
                "slot_id",
                "seat",
                "held_until",
                "sequence",
                "acute_risk",
                "contact_channel",
                "personal_data_erased_at",
                "cancelled_at",
            )
        ),
        "personal": [
            (b.nickname, b.email, b.phone, b.staff_note) for b in Booking.objects.order_by("pk")
        ],
        "answers": IntakeAnswer.objects.count(),
        "messages": list(Message.objects.order_by("pk").values_list("pk", "status")),
        "waitlist": list(
            WaitlistEntry.objects.order_by("pk").values_list("pk", "status", "offer_id")
        ),
    }


def _shows_an_error(response) -> bool:
    """A clear refusal: the form again with an error, or a plain 400/404/409."""
    if response.status_code in (400, 404, 409):
        return True
    html = response.content.decode()
    return response.status_code == 200 and (
        'aria-invalid="true"' in html or "errorlist" in html or "errornote" in html
    )


def _offer(slot, token: str = "offer-token-" + "x" * 30) -> SimpleNamespace:
    """A waitlist entry with a live offer of `slot`, and the offer link's token."""
    hold = services.slot_hold(slot_id=slot.pk)
    hold.held_until = timezone.now() + timedelta(hours=2)
    hold.save(update_fields=["held_until"])
    entry = WaitlistEntryFactory(
        service=slot.service,
        status=WaitlistEntry.Status.OFFERED,
        offer=hold,
        offer_token_hash=hash_manage_token(token),
    )
    return SimpleNamespace(entry=entry, hold=hold, token=token)


# --- 1. IDOR -------------------------------------------------------------------------


def test_a_hold_of_another_browser_gives_404():
    mine, theirs = Client(), Client()
    intake_url = mine.post(reverse("appointments:hold"), {"slot": SlotFactory().pk})["Location"]
    # The other browser holds a time of its own: a session with holds is not enough.
    assert theirs.post(reverse("appointments:hold"), {"slot": SlotFactory().pk}).status_code == 302
    before = _snapshot()

    assert theirs.get(intake_url).status_code == 404
    assert theirs.post(intake_url, {"nickname": "Indringer"}).status_code == 404
    assert Client().get(intake_url).status_code == 404
    assert _snapshot() == before


@pytest.mark.parametrize("identifier", ["reference", "public_id", "pk", "sha256", "sealed"])
def test_a_manage_page_opens_with_its_token_only(identifier):
    confirmed = _book(contact=services.ContactDetails(email="c@example.org", channel="email"))
    booking = confirmed.booking
    guess = {
        "reference": booking.reference,
        "public_id": str(booking.public_id),
        "pk": str(booking.pk),
        "sha256": booking.manage_token_hash,
        "sealed": booking.manage_token_sealed[:100],
    }[identifier]
    client = Client()
    before = _snapshot()

    for name in MANAGE_PAGES:
        assert client.get(_manage_url(name, guess)).status_code == 404, name
    for name in ("cancel", "erase", "contact", "reschedule"):
        assert client.post(_manage_url(name, guess), {"remove": "1"}).status_code == 404, name
    assert client.get(reverse("appointments:waitlist_offer", args=[guess])).status_code == 404
    assert _snapshot() == before
    # The real link still works: the 404s above are not a broken page.
    assert client.get(_manage_url("manage", confirmed.manage_token)).status_code == 200


def test_a_waitlist_offer_opens_with_its_token_only():
    offer = _offer(SlotFactory())
    entry = offer.entry
    client = Client()
    for guess in [str(entry.public_id), str(entry.pk), entry.offer_token_hash, str(offer.hold.pk)]:
        url = reverse("appointments:waitlist_offer", args=[guess])
        assert client.get(url).status_code == 404
        assert client.post(url, {"answer": "accept"}).status_code == 404
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.OFFERED
    url = reverse("appointments:waitlist_offer", args=[offer.token])
    assert client.get(url).status_code == 200


def _unbookable_slots(service, location) -> dict:
    """One slot of each kind that no client may hold, all of the same service and place."""
    now = timezone.now()
    closed_location = LocationFactory()
    closed_clinician = ClinicianFactory()
    day = timezone.localdate() + timedelta(days=3)
    Closure.objects.create(starts_on=day, ends_on=day, location=closed_location, reason="x")
    Closure.objects.create(starts_on=day, ends_on=day, clinician=closed_clinician, reason="x")
    in_three_days = timezone.localtime(SlotFactory.build().start) + timedelta(days=1)
    full = SlotFactory(service=service, location=location)
    _book(full)
    return {
        "blocked": SlotFactory(service=service, location=location, blocked=True),
        "past": SlotFactory(
            service=service,
            location=location,
            start=now - timedelta(days=1),
            end=now - timedelta(days=1) + timedelta(minutes=30),
        ),
        "too soon": SlotFactory(
            service=service,
            location=location,
            start=now + timedelta(minutes=10),
            end=now + timedelta(minutes=40),
        ),
        "beyond the horizon": SlotFactory(
            service=service,
            location=location,
            start=now + timedelta(days=service.booking_horizon_days + 2),
            end=now + timedelta(days=service.booking_horizon_days + 2, minutes=30),
        ),
        "closed location": SlotFactory(
            service=service, location=closed_location, start=in_three_days
        ),
        "closed clinician": SlotFactory(
            service=service, location=location, clinician=closed_clinician, start=in_three_days
        ),
        "inactive service": SlotFactory(service__active=False, location=location),
        "inactive location": SlotFactory(service=service, location__active=False),
        "inactive clinician": SlotFactory(
            service=service, location=location, clinician__active=False
        ),
        "full": full,
    }


def test_walking_slot_ids_in_the_hold_form_holds_only_bookable_slots():
    # At a time of its own: a refused slot with a free twin at its time gives the twin.
    bookable = SlotFactory(start=SlotFactory.build().start + timedelta(hours=3))
    refused = _unbookable_slots(bookable.service, bookable.location)
    last_id = max(slot.pk for slot in [bookable, *refused.values()])
    client = Client(raise_request_exception=False)

    answers = {
        slot_id: client.post(reverse("appointments:hold"), {"slot": slot_id}).status_code
        for slot_id in range(1, last_id + 5)
    }

    refused_ids = {slot.pk for slot in refused.values()}
    held_slots = set(
        Booking.objects.filter(status=Booking.Status.HELD).values_list("slot_id", flat=True)
    )
    expired_slots = set(
        Booking.objects.filter(status=Booking.Status.EXPIRED).values_list("slot_id", flat=True)
    )
    assert not (held_slots | expired_slots) & refused_ids
    for name, slot in refused.items():
        assert answers[slot.pk] in (404, 409), name
    assert answers[bookable.pk] == 302
    assert all(code < 500 for code in answers.values())


def test_walking_slot_ids_in_the_reschedule_form_moves_only_to_a_bookable_slot():
    confirmed = _book()
    booking = confirmed.booking
    later = SlotFactory(
        service=booking.slot.service,
        location=booking.slot.location,
        start=booking.slot.start + timedelta(days=1, hours=2),
    )
    refused = _unbookable_slots(booking.slot.service, booking.slot.location)
    refused["other service"] = SlotFactory(location=booking.slot.location)
    url = _manage_url("reschedule", confirmed.manage_token)
    client = Client(raise_request_exception=False)

    for name, slot in refused.items():
        response = client.post(url, {"slot": slot.pk})
        assert response.status_code in (404, 409), name
        booking.refresh_from_db()
        assert booking.slot_id == confirmed.booking.slot_id, name
    assert client.post(url, {"slot": later.pk}).status_code == 302
    booking.refresh_from_db()
    assert booking.slot == later


@pytest.fixture
def two_clinicians(django_user_model):
    """Clinician A (signed in) and colleague B, each with a slot, appointment and message."""
    service = ServiceFactory()
    a, b = ClinicianFactory(), ClinicianFactory()
    own = BookingFactory(slot=SlotFactory(clinician=a, service=service), reference="OWNA-AAAA")
    other = BookingFactory(
        slot=SlotFactory(clinician=b, service=service), reference="OTHR-BBBB", staff_note="B"
    )
    return SimpleNamespace(
        client=_staff(django_user_model, roles.CLINICIAN, clinician=a),
        own=own,
        other=other,
        own_message=MessageFactory(booking=own),
        other_message=MessageFactory(booking=other),
        waitlist_entry=WaitlistEntryFactory(service=service),
    )


def _admin(model: str, view: str, *args) -> str:
    return reverse(f"admin:appointments_{model}_{view}", args=args)


def test_a_clinician_cannot_open_a_colleagues_booking_slot_or_message_by_id(two_clinicians):
    w = two_clinicians
    client = w.client
    for model, own, other in [
        ("booking", w.own, w.other),
        ("slot", w.own.slot, w.other.slot),
        ("message", w.own_message, w.other_message),
    ]:
        assert client.get(_admin(model, "change", own.pk)).status_code == 200, model
        for view in ("change", "history", "delete"):
            response = client.get(_admin(model, view, other.pk))
            assert response.status_code in (403, 404), (model, view)
            assert "OTHR-BBBB" not in response.content.decode(), (model, view)


def test_a_clinician_cannot_change_or_act_on_a_colleagues_booking(two_clinicians):
    w = two_clinicians
    client = w.client
    before = _snapshot()

    responses = [
        client.post(
            _admin("booking", "change", w.other.pk),
            {"status": Booking.Status.NO_SHOW, "staff_note": "overschreven"},
        ),
        client.post(
            reverse("admin:staff_agenda_booking", args=[w.other.pk]),
            {"actie": "niet_gekomen"},
        ),
        client.get(reverse("admin:staff_agenda_cancel", args=[w.other.pk])),
        client.post(reverse("admin:staff_agenda_cancel", args=[w.other.pk])),
        client.post(
            _admin("booking", "changelist"),
            {"action": "delete_selected", "_selected_action": [w.other.pk]},
        ),
        client.post(
            _admin("slot", "changelist"),
            {"action": "block", "_selected_action": [w.other.slot.pk]},
        ),
    ]

    assert [r.status_code for r in responses[:4]] == [404, 404, 404, 404]
    assert all(r.status_code < 500 for r in responses)
    assert _snapshot() == before
    w.other.slot.refresh_from_db()
    assert not w.other.slot.blocked


def test_a_clinicians_lists_and_searches_never_show_a_colleagues_booking(two_clinicians):
    w = two_clinicians
    client = w.client
    other_link = _admin("booking", "change", w.other.pk)
    for url, params in [
        (_admin("booking", "changelist"), {}),
        (_admin("booking", "changelist"), {"q": "OTHR-BBBB"}),
        (
            _admin("booking", "changelist"),
            {"slot__clinician__id__exact": w.other.slot.clinician_id},
        ),
        (_admin("slot", "changelist"), {"clinician__id__exact": w.other.slot.clinician_id}),
        (_admin("message", "changelist"), {"q": "OTHR-BBBB"}),
        (reverse("admin:staff_agenda"), {"dag": w.other.slot.date.isoformat()}),
        (
            reverse("admin:staff_agenda"),
            {"dag": w.other.slot.date.isoformat(), "zorgverlener": w.other.slot.clinician_id},
        ),
    ]:
        response = client.get(url, params)
        assert response.status_code == 200, (url, params)
        html = response.content.decode()
        # The search term itself comes back in the page's links; no row of it does.
        assert other_link not in html and f"<td>{w.other.reference}" not in html, (url, params)
        assert _admin("slot", "change", w.other.slot.pk) not in html, (url, params)
        if response.context and "cl" in response.context:
            rows = list(response.context["cl"].result_list)
            assert w.other not in rows and w.other.slot not in rows, (url, params)
            assert w.other_message not in rows, (url, params)


@pytest.mark.parametrize(
    ("role", "model", "obj"),
    [
        (roles.CLINICIAN, "waitlistentry", "waitlist_entry"),
        (roles.CLINICIAN, "accesslogentry", None),
        (roles.CLINICIAN, "intakequestion", "question"),
        (roles.FRONT_DESK, "accesslogentry", None),
        (roles.FRONT_DESK, "intakequestion", "question"),
        (roles.FUNCTIONAL_ADMIN, "booking", "other"),
        (roles.FUNCTIONAL_ADMIN, "slot", "slot"),
        (roles.FUNCTIONAL_ADMIN, "message", "other_message"),
        (roles.FUNCTIONAL_ADMIN, "waitlistentry", "waitlist_entry"),
    ],
)
def test_admin_urls_of_objects_outside_a_role_are_refused(
    two_clinicians, django_user_model, role, model, obj
):
    from appointments.access_log import AccessLogEntry

    w = two_clinicians
    objects = {
        "waitlist_entry": w.waitlist_entry,
        "other": w.other,
        "slot": w.other.slot,
        "other_message": w.other_message,
        "question": IntakeQuestionFactory(service=w.other.slot.service),
        None: AccessLogEntry.objects.create(actor_username="x", action="view_intake"),
    }
    client = _staff(django_user_model, role)
    target = objects[obj]

    for view in ("change", "history", "delete"):
        response = client.get(_admin(model, view, target.pk))
        missing = client.get(_admin(model, view, 999_999))
        # Refused, or Django's "does not exist" redirect to the index.
        assert response.status_code in (302, 403, 404), view
        if response.status_code == 302:
            assert response["Location"] == reverse("admin:index"), view
        if model in ("booking", "slot", "message"):
            # Client data: not even whether the id exists shows. (For the other models
            # Django's history page answers 403 for an id that exists and redirects
            # for one that does not; those ids carry no client data.)
            assert response.status_code == missing.status_code, view
    assert client.get(_admin(model, "changelist")).status_code == 403


@pytest.mark.parametrize(
    "lookup",
    [
        "answers__value=x",
        "answers__value__icontains=x",
        "answers__question__id__exact=1",
        "answers__acute_risk=1",
        "slot__clinician__user__password__startswith=p",
        "_to_field=manage_token_hash",
    ],
)
def test_admin_list_filters_cannot_reach_into_intake_answers_or_accounts(django_user_model, lookup):
    BookingFactory()
    desk = _staff(django_user_model, roles.FRONT_DESK)
    response = desk.get(f"{_admin('booking', 'changelist')}?{lookup}")
    assert response.status_code == 400


# --- 2. CSRF -------------------------------------------------------------------------


@pytest.fixture
def client_world():
    """A booking with a token and contact, a second free time, an offer, a hold of this browser."""
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service)
    later = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(days=1)
    )
    confirmed = _book(
        slot,
        nickname="Sam",
        contact=services.ContactDetails(email="sam@example.org", channel=ContactChannel.EMAIL),
    )
    hold = services.slot_hold(slot_id=SlotFactory(service=slot.service).pk)
    offer = _offer(SlotFactory(service=slot.service, location=slot.location))
    return SimpleNamespace(
        slot=slot,
        later=later,
        question=question,
        token=confirmed.manage_token,
        booking=confirmed.booking,
        hold=hold,
        offer=offer,
    )


def _client_posts(w) -> dict:
    return {
        "hold": (reverse("appointments:hold"), {"slot": w.later.pk}),
        "intake": (
            reverse("appointments:intake", args=[w.hold.public_id]),
            {"nickname": "Kim", f"question_{w.question.pk}": "antwoord"},
        ),
        "cancel": (_manage_url("cancel", w.token), {}),
        "reschedule": (_manage_url("reschedule", w.token), {"slot": w.later.pk}),
        "contact": (
            _manage_url("contact", w.token),
            {"email": "nieuw@example.org", "consent": "on"},
        ),
        "contact remove": (_manage_url("contact", w.token), {"remove": "1"}),
        "erase": (_manage_url("erase", w.token), {}),
        "waitlist join": (
            reverse("appointments:waitlist_join", args=[w.slot.service_id]),
            {"email": "wacht@example.org", "consent": "on"},
        ),
        "waitlist offer": (
            reverse("appointments:waitlist_offer", args=[w.offer.token]),
            {"answer": "accept"},
        ),
        "set_language": (reverse("set_language"), {"language": "en", "next": "/"}),
    }


CLIENT_POSTS = [
    "hold",
    "intake",
    "cancel",
    "reschedule",
    "contact",
    "contact remove",
    "erase",
    "waitlist join",
    "waitlist offer",
    "set_language",
]


def _with_csrf_token(client: Client, data: dict) -> dict:
    """The same form data with a valid CSRF token (cookie and field), as a browser sends it."""
    secret = "a" * 32  # Django accepts the unmasked secret as the form token
    client.cookies[settings.CSRF_COOKIE_NAME] = secret
    return {**data, "csrfmiddlewaretoken": secret}


@pytest.mark.parametrize("endpoint", CLIENT_POSTS)
def test_every_client_post_is_refused_without_a_csrf_token(client_world, endpoint):
    client = Client(enforce_csrf_checks=True)
    _give_holds(client, client_world.hold)
    url, data = _client_posts(client_world)[endpoint]
    before = _snapshot()

    refused = client.post(url, data)

    assert refused.status_code == 403
    assert "django_language" not in refused.cookies
    assert _snapshot() == before
    # With a token the same request goes through: the 403 was the CSRF check.
    accepted = client.post(url, _with_csrf_token(client, data))
    assert accepted.status_code in (200, 302), accepted.content[:300]
    assert _snapshot() != before or endpoint == "set_language"


@pytest.fixture
def staff_world(django_user_model):
    """A team lead's CSRF-enforcing client, a confirmed appointment today, a free time later."""
    clinician = ClinicianFactory()
    now = timezone.localtime()
    started = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    today_slot = SlotFactory(
        clinician=clinician,
        start=started,
        end=started + timedelta(minutes=30),
        date=started.date(),
    )
    booking = BookingFactory(slot=today_slot, nickname="Sam")
    free = SlotFactory(service=today_slot.service, location=today_slot.location)
    return SimpleNamespace(
        client=_staff(django_user_model, roles.TEAM_LEAD, csrf=True),
        booking=booking,
        future=BookingFactory(
            slot=SlotFactory(service=today_slot.service, location=today_slot.location)
        ),
        free=free,
    )


def _staff_posts(w) -> dict:
    service, location = w.free.service, w.free.location
    book_query = f"?spreekuur={service.pk}&locatie={location.pk}"
    return {
        "agenda attendance": (
            reverse("admin:staff_agenda_booking", args=[w.booking.pk]),
            {"actie": "gekomen"},
        ),
        "agenda cancel": (reverse("admin:staff_agenda_cancel", args=[w.future.pk]), {}),
        "book on behalf": (reverse("admin:staff_book") + book_query, {"slot": w.free.pk}),
        "admin booking change": (
            _admin("booking", "change", w.booking.pk),
            {
                "status": Booking.Status.ATTENDED,
                "staff_note": "gezien",
                "nickname": "Sam",
                "language": "nl",
                "source": "online",
                "messages-TOTAL_FORMS": "0",
                "messages-INITIAL_FORMS": "0",
            },
        ),
        "admin slot action": (
            _admin("slot", "changelist"),
            {"action": "block", "_selected_action": [w.free.pk]},
        ),
    }


@pytest.mark.parametrize(
    "endpoint",
    ["agenda attendance", "agenda cancel", "book on behalf", "admin booking change"],
)
def test_staff_posts_are_refused_without_a_csrf_token(staff_world, endpoint):
    client = staff_world.client
    url, data = _staff_posts(staff_world)[endpoint]
    before = _snapshot()

    refused = client.post(url, data)

    assert refused.status_code == 403
    assert _snapshot() == before
    accepted = client.post(url, _with_csrf_token(client, data))
    assert accepted.status_code == 302, accepted.content[:500]
    assert _snapshot() != before


def test_an_admin_action_is_refused_without_a_csrf_token(staff_world):
    client = staff_world.client
    url, data = _staff_posts(staff_world)["admin slot action"]

    assert client.post(url, data).status_code == 403
    staff_world.free.refresh_from_db()
    assert not staff_world.free.blocked


# --- 3. Token tampering and replay ---------------------------------------------------


def _tampered(token: str) -> dict[str, str]:
    swapped = token.swapcase()
    assert swapped != token
    last = token[-1]
    return {
        "one character changed": token[:-1] + ("A" if last != "A" else "B"),
        "first character changed": ("x" if token[0] != "x" else "y") + token[1:],
        "truncated": token[:-1],
        "half": token[: len(token) // 2],
        "extended": token + "A",
        "different case": swapped,
        "500 characters": (token * 20)[:500],
        "hex of the token": token.encode().hex(),
    }


# Raw paths: percent-encoded junk around or instead of a token.
JUNK_PATHS = [
    "/mijn-afspraak/%00/",
    "/mijn-afspraak/%FF%FE%FD/",
    "/mijn-afspraak/%2e%2e/",
    "/mijn-afspraak/%3Cscript%3Ealert(1)%3C%2Fscript%3E/",
    "/mijn-afspraak/%0d%0aSet-Cookie:%20x=y/",
    "/mijn-afspraak/{token}%00/",
    "/mijn-afspraak/{token}%20/",
    "/mijn-afspraak/%20{token}/",
    "/mijn-afspraak/{token}%2F/",
    "/mijn-afspraak/{token}%252F/",
    "/mijn-afspraak/{token};/",
    "/mijn-afspraak/{token}%C0%AF/",
    "/mijn-afspraak/{token}/afzeggen/%2e%2e/",
    "/wachtlijst/%00/",
    "/wachtlijst/%FF%FE/",
]


def test_an_altered_token_gives_404_on_every_manage_page():
    confirmed = _book()
    client = Client(raise_request_exception=False)
    before = _snapshot()

    for kind, token in _tampered(confirmed.manage_token).items():
        for name in MANAGE_PAGES:
            assert client.get(_manage_url(name, token)).status_code == 404, (kind, name)
        for name in ("cancel", "erase"):
            assert client.post(_manage_url(name, token)).status_code == 404, (kind, name)
    for path in JUNK_PATHS:
        response = client.get(path.format(token=confirmed.manage_token))
        assert response.status_code == 404, path
        assert "x=y" not in response.cookies
    assert _snapshot() == before
    assert client.get(_manage_url("manage", confirmed.manage_token)).status_code == 200


def test_an_altered_offer_token_gives_404():
    offer = _offer(SlotFactory())
    client = Client(raise_request_exception=False)
    for kind, token in _tampered(offer.token).items():
        url = reverse("appointments:waitlist_offer", args=[token])
        assert client.get(url).status_code == 404, kind
        assert client.post(url, {"answer": "decline"}).status_code == 404, kind
    offer.entry.refresh_from_db()
    assert offer.entry.status == WaitlistEntry.Status.OFFERED


def test_a_used_cancel_link_cannot_be_replayed():
    confirmed = _book(
        contact=services.ContactDetails(email="c@example.org", channel=ContactChannel.EMAIL)
    )
    # Another appointment of the same service, to see nothing else changes.
    bystander = _book(
        SlotFactory(service=confirmed.booking.slot.service),
        contact=services.ContactDetails(email="d@example.org", channel=ContactChannel.EMAIL),
    )
    client = Client()
    url = _manage_url("cancel", confirmed.manage_token)

    first = client.post(url)
    after_first = _snapshot()
    second = client.post(url)
    again_elsewhere = Client().post(url)

    assert first.status_code == 302
    assert second.status_code == again_elsewhere.status_code == 404
    assert _snapshot() == after_first
    booking = Booking.objects.get(pk=confirmed.booking.pk)
    assert booking.status == Booking.Status.CANCELLED and booking.sequence == 1
    assert Booking.objects.get(pk=bystander.booking.pk).status == Booking.Status.CONFIRMED
    # The spent link opens nothing else either.
    for name in MANAGE_PAGES:
        assert client.get(_manage_url(name, confirmed.manage_token)).status_code == 404, name


def test_a_used_offer_link_cannot_be_replayed():
    offer = _offer(SlotFactory())
    url = reverse("appointments:waitlist_offer", args=[offer.token])

    assert Client().post(url, {"answer": "decline"}).status_code == 302
    after = _snapshot()
    assert Client().post(url, {"answer": "accept"}).status_code == 404
    assert Client().get(url).status_code == 404
    assert _snapshot() == after


def test_an_expired_hold_whose_seat_went_to_someone_else_books_nothing():
    slot = SlotFactory()
    other = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1)
    )
    question = IntakeQuestionFactory(service=slot.service)
    client = Client()
    intake_url = client.post(reverse("appointments:hold"), {"slot": slot.pk})["Location"]
    mine = Booking.objects.get(slot=slot)
    Booking.objects.filter(pk=mine.pk).update(held_until=timezone.now() - timedelta(minutes=1))
    someone_else = _book(slot)
    answers = {f"question_{question.pk}": "mijn antwoord", "nickname": "Kim"}

    # The page was open before the seat was lost: it posts without a choice of time.
    lost = client.post(intake_url, answers)

    assert lost.status_code == 409
    html = lost.content.decode()
    assert 'name="alternative_slot"' in html and f'value="{other.pk}"' in html
    assert "mijn antwoord" in html
    mine.refresh_from_db()
    assert mine.status == Booking.Status.EXPIRED and mine.reference is None
    assert Booking.objects.get(slot=slot, status=Booking.Status.CONFIRMED) == someone_else.booking

    # The alternative is taken too before the client picks it: HoldExpired/SlotUnavailable.
    _book(other)
    taken = client.post(intake_url, {**answers, "alternative_slot": other.pk})
    assert taken.status_code == 409
    assert 'name="alternative_slot"' in taken.content.decode() or "niet meer vrij" in (
        taken.content.decode()
    )
    # Nor can the client name the lost seat itself, or any slot id not offered.
    for slot_id in (slot.pk, other.pk, 999999, "abc"):
        response = client.post(intake_url, {**answers, "alternative_slot": slot_id})
        assert response.status_code == 409
    assert all(b.nickname != "Kim" for b in Booking.objects.all())
    assert IntakeAnswer.objects.filter(booking__public_id=mine.public_id).count() == 0
    assert (
        Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 2
    )  # someone else's two


def test_a_hold_blocked_after_it_ran_out_cannot_be_confirmed():
    """HoldExpired inside booking_confirm: the hold is still `held` but its slot closed."""
    slot = SlotFactory()
    SlotFactory(service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1))
    client = Client()
    intake_url = client.post(reverse("appointments:hold"), {"slot": slot.pk})["Location"]
    Booking.objects.filter(slot=slot).update(held_until=timezone.now() - timedelta(minutes=1))
    slot.blocked = True
    slot.save(update_fields=["blocked"])

    response = client.post(intake_url, {"nickname": "Kim"})

    assert response.status_code == 409
    assert 'name="alternative_slot"' in response.content.decode()
    assert not Booking.objects.filter(status=Booking.Status.CONFIRMED).exists()


# --- 4. Script payloads come out escaped ---------------------------------------------


def _email_with(payload: str) -> str:
    """An address that carries the payload and still passes the form, or ''."""
    from appointments.forms import ContactForm

    for candidate in (f'"{payload}"@example.org', f"{payload}@example.org"):
        form = ContactForm({"email": candidate, "consent": "on"})
        if form.is_valid():
            return candidate
    return ""


def _assert_escaped(html: str, value: str, where: str) -> None:
    escaped = escape(value)
    assert escaped in html, f"{where}: {value!r} not shown"
    if escaped != value:
        assert value not in html, f"{where}: {value!r} unescaped"
    assert "<script>alert(1)</script>" not in html, where
    assert "<img src=x onerror=alert(1)>" not in html, where
    assert ">49<" not in html and "Hoi 49" not in html, where


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_payloads_from_the_intake_come_out_escaped_everywhere(django_user_model, payload):
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SHORT_TEXT)
    answer = f"begin {payload} eind"
    email = _email_with(payload)
    client = Client()
    intake_url = client.post(reverse("appointments:hold"), {"slot": slot.pk})["Location"]

    # First with an error (a bad phone number): what was typed comes back in the form.
    again = client.post(
        intake_url,
        {"nickname": payload, f"question_{question.pk}": answer, "phone": payload},
    )
    assert again.status_code == 200
    _assert_escaped(again.content.decode(), payload, "intake with errors")
    data = {"nickname": payload, f"question_{question.pk}": answer}
    if email:
        data |= {"email": email, "consent": "on"}
    manage_url = client.post(intake_url, data)["Location"]
    booking = Booking.objects.get(slot=slot)
    assert booking.nickname == payload
    assert IntakeAnswer.objects.get(booking=booking).value == answer

    _assert_escaped(client.get(manage_url).content.decode(), payload, "manage page")
    token = manage_url.split("/")[2]
    contact_page = client.get(_manage_url("contact", token)).content.decode()
    _assert_escaped(contact_page, "", "contact page")  # masked: only the checks on raw payloads
    contact_again = client.post(
        _manage_url("contact", token), {"email": payload, "phone": payload, "consent": "on"}
    )
    assert contact_again.status_code == 200
    _assert_escaped(contact_again.content.decode(), payload, "contact with errors")

    clinician = _staff(django_user_model, roles.CLINICIAN, clinician=slot.clinician)
    change = clinician.get(_admin("booking", "change", booking.pk))
    assert change.status_code == 200
    _assert_escaped(change.content.decode(), payload, "admin booking page (clinician)")
    _assert_escaped(change.content.decode(), answer, "admin intake answers")
    agenda = clinician.get(reverse("admin:staff_agenda"), {"dag": slot.date.isoformat()})
    assert booking.reference in agenda.content.decode()
    _assert_escaped(agenda.content.decode(), payload, "day agenda (clinician)")

    team_lead = _staff(django_user_model, roles.TEAM_LEAD)
    change = team_lead.get(_admin("booking", "change", booking.pk))
    _assert_escaped(change.content.decode(), payload, "admin booking page (team lead)")
    _assert_escaped(change.content.decode(), answer, "admin intake answers (team lead)")
    listing = team_lead.get(_admin("booking", "changelist"), {"q": booking.reference})
    _assert_escaped(listing.content.decode(), "", "admin booking list")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_script_payloads_in_waitlist_and_staff_forms_come_back_escaped(django_user_model, payload):
    slot = SlotFactory()
    client = Client()
    waitlist = client.post(
        reverse("appointments:waitlist_join", args=[slot.service_id]),
        {"email": payload, "phone": payload, "consent": "on"},
    )
    assert waitlist.status_code == 200
    _assert_escaped(waitlist.content.decode(), payload, "waitlist with errors")

    desk = _staff(django_user_model, roles.FRONT_DESK)
    picked = desk.post(
        reverse("admin:staff_book") + f"?spreekuur={slot.service_id}&locatie={slot.location_id}",
        {"slot": slot.pk},
    )
    details = desk.post(
        picked["Location"],
        {"source": "phone", "language": "nl", "nickname": payload, "phone": payload},
    )
    assert details.status_code == 200
    _assert_escaped(details.content.decode(), payload, "book on behalf with errors")
    done = desk.post(picked["Location"], {"source": "phone", "language": "nl", "nickname": payload})
    assert done.status_code == 200
    assert Booking.objects.get(slot=slot).nickname == payload
    agenda = desk.get(reverse("admin:staff_agenda"), {"dag": slot.date.isoformat()})
    _assert_escaped(agenda.content.decode(), payload, "day agenda (front desk)")


# --- 5. Oversized and malformed input ------------------------------------------------

LONG = "x" * 10_000
EMAIL_300 = "a" * 288 + "@example.org"
PHONE_40 = "06" + "1" * 38


def _contact_cases() -> dict[str, dict]:
    return {
        "10k email": {"email": LONG, "consent": "on"},
        "10k phone": {"phone": LONG, "consent": "on"},
        "300-char email": {"email": EMAIL_300, "consent": "on"},
        "40-digit phone": {"phone": PHONE_40, "consent": "on"},
        "phone with letters": {"phone": "06-FLOWERS", "consent": "on"},
        "NUL in email": {"email": "a\x00b@example.org", "consent": "on"},
        "unknown channel": {
            "email": "a@example.org",
            "phone": "0612345678",
            "contact_channel": "fax",
            "consent": "on",
        },
        "two channels, last unknown": {
            "email": "a@example.org",
            "phone": "0612345678",
            "contact_channel": ["email", "pigeon"],
            "consent": "on",
        },
        "two emails, last oversized": {"email": ["a@example.org", EMAIL_300], "consent": "on"},
        "contact without consent": {"email": "a@example.org"},
    }


RAW_BODIES = {
    "invalid UTF-8": b"email=%FF%FE%40example.org&phone=%C0%AF&nickname=%ED%A0%80&consent=on",
    "raw invalid bytes": b"email=\xff\xfe@example.org&consent=on",
}


def _post_raw(client: Client, url: str, body: bytes):
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


def _assert_clear_errors(client: Client, url: str, cases: dict, where: str) -> None:
    for name, data in cases.items():
        response = client.post(url, data)
        assert response.status_code < 500, (where, name)
        assert _shows_an_error(response), (where, name, response.status_code)
    for name, body in RAW_BODIES.items():
        response = _post_raw(client, url, body)
        assert response.status_code < 500, (where, name)
        assert _shows_an_error(response), (where, name, response.status_code)
    too_many_fields = _post_raw(client, url, "&".join(f"f{i}=x" for i in range(1500)).encode())
    assert too_many_fields.status_code == 400, (where, "too many fields")
    # Last: a body the parser gives up on is an empty form, which may well be valid.
    for content_type in ("multipart/form-data; boundary=", "multipart/form-data; boundary=xyz"):
        broken = client.post(url, data=b"--xyz\r\nnot a part", content_type=content_type)
        assert broken.status_code < 500, (where, content_type)


def test_oversized_and_malformed_intake_input_gives_a_clear_error():
    slot = SlotFactory()
    short = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SHORT_TEXT)
    single = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SINGLE_CHOICE)
    IntakeChoiceFactory(question=single, code="ok")
    multiple = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.MULTIPLE_CHOICE)
    IntakeChoiceFactory(question=multiple, code="a")
    yes_no = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.YES_NO)
    # Another free time, so a posted `alternative_slot` is checked against real choices.
    SlotFactory(service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1))
    client = Client(raise_request_exception=False)
    url = client.post(reverse("appointments:hold"), {"slot": slot.pk})["Location"]
    cases = {
        "10k nickname": {"nickname": LONG},
        "10k answer": {f"question_{short.pk}": LONG},
        "NUL in answer": {f"question_{short.pk}": "a\x00b"},
        "two nicknames, last oversized": {"nickname": ["Sam", LONG]},
        "unknown single choice": {f"question_{single.pk}": "not-a-choice"},
        "single choice given twice, last unknown": {f"question_{single.pk}": ["ok", "zzz"]},
        "unknown multiple choice": {f"question_{multiple.pk}": ["a", "not-a-choice"]},
        "10k choice code": {f"question_{multiple.pk}": [LONG]},
        "yes/no maybe": {f"question_{yes_no.pk}": "maybe"},
        "alternative slot while the hold is live": {"alternative_slot": "abc"},
        "alternative slot negative": {"alternative_slot": "-1"},
        **_contact_cases(),
    }

    _assert_clear_errors(client, url, cases, "intake")

    # Nothing of the malformed input was kept (the empty multipart form may have booked).
    booking = Booking.objects.get(slot=slot)
    assert (booking.nickname, booking.email, booking.phone) == ("", "", "")
    assert not IntakeAnswer.objects.exists()


def test_oversized_and_malformed_contact_input_gives_a_clear_error():
    confirmed = _book(
        contact=services.ContactDetails(email="c@example.org", channel=ContactChannel.EMAIL)
    )
    client = Client(raise_request_exception=False)
    url = _manage_url("contact", confirmed.manage_token)
    before = _snapshot()

    _assert_clear_errors(client, url, _contact_cases(), "contact")

    assert _snapshot() == before


def test_oversized_and_malformed_waitlist_input_gives_a_clear_error():
    slot = SlotFactory()
    client = Client(raise_request_exception=False)
    url = reverse("appointments:waitlist_join", args=[slot.service_id])

    _assert_clear_errors(client, url, _contact_cases(), "waitlist join")
    for locatie in ["abc", "-1", "0", "1.5", "9" * 30, LONG, "%00"]:
        response = client.get(url, {"locatie": locatie})
        assert response.status_code in (200, 404), locatie
        response = client.post(
            f"{url}?locatie={locatie}", {"email": "a@example.org", "consent": "on"}
        )
        assert response.status_code in (200, 404), locatie
    offer = _offer(SlotFactory(service=slot.service))
    offer_url = reverse("appointments:waitlist_offer", args=[offer.token])
    for answer in ["maybe", "", LONG, ["accept", "nonsense"]]:
        assert client.post(offer_url, {"answer": answer}).status_code == 404, answer

    assert not WaitlistEntry.objects.exclude(pk=offer.entry.pk).exists()


SLOT_VALUES = ["abc", "-1", "0", "", "1e5", "9" * 30, LONG, "\x00", ["1", "abc"], "٣"]


def test_malformed_slot_ids_and_weeks_give_a_clear_error():
    confirmed = _book()
    slot = confirmed.booking.slot
    client = Client(raise_request_exception=False)
    reschedule = _manage_url("reschedule", confirmed.manage_token)
    times = reverse("appointments:times", args=[slot.service_id, slot.location_id])

    for value in SLOT_VALUES:
        for url in (reverse("appointments:hold"), reschedule):
            response = client.post(url, {"slot": value})
            assert response.status_code in (404, 409), (url, value)
    for week in ["garbage", "2026-13-45", "9999-12-31", "0001-01-01", "-1", LONG, "\x00"]:
        for url in (times, reschedule):
            response = client.get(url, {"week": week})
            assert response.status_code == 200, (url, week)
    for path in ["/afspraak/-1/", "/afspraak/abc/", f"/afspraak/{'9' * 30}/", "/afspraak/1/-1/"]:
        assert client.get(path).status_code == 404, path
    confirmed.booking.refresh_from_db()
    assert confirmed.booking.slot == slot
    assert not Booking.objects.filter(status=Booking.Status.HELD).exists()


def test_oversized_and_malformed_staff_input_gives_a_clear_error(django_user_model):
    slot = SlotFactory()
    desk = _staff(django_user_model, roles.FRONT_DESK)
    book = reverse("admin:staff_book")
    search = f"?spreekuur={slot.service_id}&locatie={slot.location_id}"

    for params in [
        {"spreekuur": "abc", "locatie": "-1"},
        {"spreekuur": "9" * 30, "locatie": LONG},
        {"spreekuur": slot.service_id, "locatie": slot.location_id, "week": "garbage"},
        {"spreekuur": slot.service_id, "locatie": slot.location_id, "week": "9999-12-31"},
    ]:
        assert desk.get(book, params).status_code == 200, params
    for value in SLOT_VALUES:
        assert desk.post(book + search, {"slot": value}).status_code in (404, 409), value
    assert desk.post(book + "?spreekuur=abc", {"slot": slot.pk}).status_code == 404
    for params in [
        {"dag": "garbage"},
        {"dag": "9999-12-31"},
        {"dag": "0001-01-01"},
        {"locatie": "abc", "zorgverlener": "9" * 30},
        {"dag": LONG, "locatie": LONG},
    ]:
        assert desk.get(reverse("admin:staff_agenda"), params).status_code == 200, params
    booking = _book(SlotFactory(service=slot.service, location=slot.location)).booking
    for actie in ["", "gekomen!", LONG, ["gekomen", "zzz"]]:
        response = desk.post(
            reverse("admin:staff_agenda_booking", args=[booking.pk]), {"actie": actie}
        )
        assert response.status_code in (302, 404), actie
    for params in [{"dag": "garbage"}, {"q": LONG}, {"o": "abc"}, {"p": "-1"}, {"status": LONG}]:
        response = desk.get(_admin("booking", "changelist"), params)
        assert response.status_code in (200, 302, 400), params

    details = desk.post(book + search, {"slot": slot.pk})["Location"]
    base = {"source": "phone", "language": "nl"}
    cases = {
        "10k nickname": {**base, "nickname": LONG},
        "unknown source": {**base, "source": "pigeon"},
        "unknown language": {**base, "language": "xx"},
        "two languages, last unknown": {**base, "language": ["nl", "xx"]},
        **{name: {**base, **data} for name, data in _contact_cases().items()},
    }

    _assert_clear_errors(desk, details, cases, "book on behalf")
    assert Booking.objects.get(slot=slot).status == Booking.Status.HELD


# --- 6. Headers ----------------------------------------------------------------------


@pytest.fixture
def every_client_page():
    """Each client page by name, with a URL that opens it (status 200)."""
    slot = SlotFactory(service__what_to_bring_nl="Een ID")
    from tests.factories import AvailabilityRuleFactory

    AvailabilityRuleFactory(service=slot.service, location=slot.location)
    AvailabilityRuleFactory(service=slot.service, location=LocationFactory())
    confirmed = _book(slot)
    client = Client()
    intake = client.post(
        reverse("appointments:hold"), {"slot": SlotFactory(service=slot.service).pk}
    )["Location"]
    offer = _offer(SlotFactory(service=slot.service, location=slot.location))
    token = confirmed.manage_token
    pages = {
        "home": "/",
        "locations": reverse("appointments:locations", args=[slot.service_id]),
        "times": reverse("appointments:times", args=[slot.service_id, slot.location_id]),
        "intake": intake,
        "manage": _manage_url("manage", token),
        "ics": _manage_url("ics", token),
        "cancel": _manage_url("cancel", token),
        "reschedule": _manage_url("reschedule", token),
        "contact": _manage_url("contact", token),
        "erase": _manage_url("erase", token),
        "waitlist join": reverse("appointments:waitlist_join", args=[slot.service_id]),
        "waitlist joined": reverse("appointments:waitlist_joined", args=[slot.service_id]),
        "waitlist offer": reverse("appointments:waitlist_offer", args=[offer.token]),
        "cancelled": reverse("appointments:cancelled"),
    }
    return SimpleNamespace(client=client, pages=pages)


PERSONAL_PAGES = [
    "intake",
    "manage",
    "ics",
    "cancel",
    "reschedule",
    "contact",
    "erase",
    "waitlist offer",
]


def _assert_hardened(response, where: str) -> None:
    assert response["X-Frame-Options"] == "DENY", where
    assert response["X-Content-Type-Options"] == "nosniff", where
    # Either keeps the path, and so any token in it, from every other host.
    assert response["Referrer-Policy"] in ("no-referrer", "same-origin"), where
    csp = response.get("Content-Security-Policy", "")
    assert csp, where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert "script-src 'self'" in csp and "object-src 'none'" in csp, where
    # Any script in the page runs by the nonce of this response, never inline without it.
    html = response.content.decode(errors="replace")
    scripts = re.findall(r"<script\b[^>]*>", html)
    if scripts:
        nonce = re.search(r"'nonce-([^']+)'", csp)
        assert nonce, where
        for tag in scripts:
            assert f'nonce="{nonce.group(1)}"' in tag or "src=" in tag, (where, tag)


def test_every_client_page_sends_the_hardening_headers(every_client_page):
    client = every_client_page.client
    for name, url in every_client_page.pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        _assert_hardened(response, name)
    for name, response in {
        "404": client.get("/bestaat-niet/"),
        "manage 404": client.get(_manage_url("manage", "x" * 43)),
        "slot taken 409": client.post(
            reverse("appointments:hold"), {"slot": BookingFactory().slot_id}
        ),
        "csrf 403": Client(enforce_csrf_checks=True).post(reverse("appointments:hold")),
    }.items():
        _assert_hardened(response, name)


def test_pages_with_personal_data_are_never_cached(every_client_page, django_user_model):
    client = every_client_page.client
    for name in PERSONAL_PAGES:
        response = client.get(every_client_page.pages[name])
        assert "no-store" in response["Cache-Control"], name
        assert "private" in response["Cache-Control"], name
    # The intake with errors, and the staff pages that show clients' appointments.
    intake_again = client.post(every_client_page.pages["intake"], {"nickname": LONG})
    assert "no-store" in intake_again["Cache-Control"]
    booking = Booking.objects.filter(status=Booking.Status.CONFIRMED).first()
    lead = _staff(django_user_model, roles.TEAM_LEAD)
    for url in [
        _admin("booking", "change", booking.pk),
        _admin("booking", "changelist"),
        reverse("admin:staff_agenda") + f"?dag={booking.slot.date:%Y-%m-%d}",
        reverse("admin:staff_agenda_export") + f"?dag={booking.slot.date:%Y-%m-%d}",
    ]:
        response = lead.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
        _assert_hardened(response, url)


@pytest.mark.parametrize("query", ["date__year=9999", "date__year=99999999999999999999"])
def test_the_admin_date_hierarchy_with_an_impossible_year_is_no_500(django_user_model, query):
    desk = _staff(django_user_model, roles.FRONT_DESK)
    response = desk.get(f"{_admin('slot', 'changelist')}?{query}")
    assert response.status_code < 500


@pytest.mark.parametrize(
    "query",
    ["manage_token_hash__startswith=a", "answers__isnull=False", "nickname__startswith=S"],
)
def test_a_changelist_url_cannot_filter_on_what_the_page_does_not_offer(django_user_model, query):
    BookingFactory(nickname="Sam")
    desk = _staff(django_user_model, roles.FRONT_DESK)

    response = desk.get(f"{_admin('booking', 'changelist')}?{query}")

    assert response.status_code == 400
    assert "Dit verzoek klopt niet" in response.content.decode()


def test_a_changelist_filter_the_page_offers_still_works(django_user_model):
    desk = _staff(django_user_model, roles.FRONT_DESK)

    response = desk.get(f"{_admin('booking', 'changelist')}?status__exact=confirmed")

    assert response.status_code == 200
