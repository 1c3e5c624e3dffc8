"""Every message text, in both languages, is discreet, complete and short enough.

The booking is for the most telling service there is, with intake answers that
name drugs; no subject, text, HTML, SMS or calendar title may show any of it.
"""

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar

from appointments import services
from appointments.crypto import seal
from appointments.models import Booking, IntakeQuestion, Message, WaitlistEntry
from appointments.notifications.render import message_content, sms_text
from tests.factories import IntakeChoiceFactory, IntakeQuestionFactory, LocationFactory, SlotFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=AMS)
APPOINTMENT = datetime(2026, 6, 12, 14, 30, tzinfo=AMS)  # a Friday
OFFER_UNTIL = datetime(2026, 6, 10, 11, 0, tzinfo=AMS)
REFERENCE = "K7QX-M4NP"
BASE_URL = "https://afspraken.ggd.amsterdam.nl"

SERVICE_NAMES = {"nl": "Chemsex spreekuur", "en": "Chemsex consultation"}
SENSITIVE_TERMS = [
    "chemsex",
    "drugs",
    "drug",
    "soa",
    "sti",
    "prep",
    "hiv",
    "seks",
    "sex",
    "crystal",
    "meth",
    "ghb",
    "gbl",
    "mdma",
    "3-mmc",
    "slammen",
    "verslaving",
    "addiction",
    "psycholoog",
    "psychologist",
    "verslavingsarts",
]
# A term is a word of its own ("sti" is not in "stichting"), also in a compound
# ("PrEP-afspraak", "soa-test").
SENSITIVE = re.compile(
    r"(?<!\w)(" + "|".join(re.escape(term) for term in SENSITIVE_TERMS) + r")(?!\w)",
    re.IGNORECASE,
)

BOOKING_KINDS = [kind for kind in Message.Kind if kind != Message.Kind.WAITLIST_OFFER]
CANCEL_KINDS = {Message.Kind.CANCEL_RECEIPT, Message.Kind.CANCELLED_BY_STAFF}
LANGUAGES = ["nl", "en"]

# The date and time as each language writes them: Friday 12 June at 14:30.
WHEN = {
    "nl": re.compile(r"\bvr 12 jun(i)?\b.*\b14:30\b", re.IGNORECASE),
    "en": re.compile(r"\bFri(day)? 12 Jun(e)?\b.*\b14:30\b", re.IGNORECASE),
}
OFFER_UNTIL_TIME = "11:00"

# Words that show a text is Dutch; none may be in an English text.
DUTCH_WORDS = re.compile(
    r"\b(je|jouw|afspraak|afspraken|herinnering|wijzigen|verzet|verzetten|afgezegd|afzeggen|"
    r"wanneer|waar|afspraakcode|nieuwe|moesten|kiezen|bekijken|naam|balie|tijd|vrij|om|op)\b",
    re.IGNORECASE,
)
ENGLISH_WORDS = re.compile(r"\b(you|your|appointment|time|reference|change)\b", re.IGNORECASE)

# GSM 03.38: the basic set counts one septet, the extension set two.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€\f")
SMS_LIMIT = 2 * 153  # two concatenated GSM segments


def visible_text(markup: str) -> str:
    """The words of an HTML e-mail as a reader sees them (cells apart, entities read)."""
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def gsm_septets(text: str) -> int | None:
    """The length of `text` in GSM-7 septets, or None when it needs UCS-2."""
    count = 0
    for char in text:
        if char in GSM_BASIC:
            count += 1
        elif char in GSM_EXTENSION:
            count += 2
        else:
            return None
    return count


@pytest.fixture(autouse=True)
def _frozen(settings):
    settings.SPREEKUUR_BASE_URL = BASE_URL
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def slot():
    location = LocationFactory(
        name="GGD Nieuwe Achtergracht", address="Nieuwe Achtergracht 100", postal_code="1018 WT"
    )
    slot = SlotFactory(
        start=APPOINTMENT,
        end=APPOINTMENT + timedelta(minutes=30),
        location=location,
        service__name_nl=SERVICE_NAMES["nl"],
        service__name_en=SERVICE_NAMES["en"],
        service__description_nl="Voor mannen die seks hebben met mannen en drugs gebruiken.",
        service__description_en="For men who have sex with men and use drugs.",
    )
    slot.clinician.profession = "addiction_doctor"
    slot.clinician.display_name = "Verslavingsarts Jansen"
    slot.clinician.save()
    return slot


def _intake(service) -> list[services.IntakeResponse]:
    which = IntakeQuestionFactory(
        service=service,
        kind=IntakeQuestion.Kind.MULTIPLE_CHOICE,
        text_nl="Welke middelen gebruik je?",
        text_en="Which substances do you use?",
    )
    for code, label in [("crystal", "Crystal meth"), ("ghb", "GHB/GBL"), ("3mmc", "3-MMC")]:
        IntakeChoiceFactory(question=which, code=code, text_nl=label, text_en=label)
    prep = IntakeQuestionFactory(
        service=service,
        kind=IntakeQuestion.Kind.YES_NO,
        text_nl="Gebruik je PrEP?",
        text_en="Do you use PrEP?",
    )
    story = IntakeQuestionFactory(service=service, text_nl="Toelichting", text_en="Anything else")
    return [
        services.IntakeResponse(question=which, value=["crystal", "ghb", "3mmc"]),
        services.IntakeResponse(question=prep, value="yes"),
        services.IntakeResponse(question=story, value="Slammen, hiv-test en soa-check graag"),
    ]


def _booking(slot, *, language: str, cancelled: bool):
    hold = services.slot_hold(slot_id=slot.pk)
    confirmed = services.booking_confirm(
        hold_public_id=hold.public_id,
        responses=_intake(slot.service),
        nickname="Crystal",
        language=language,
        contact=services.ContactDetails(email="client@example.org", channel="email"),
    )
    booking = confirmed.booking
    Booking.objects.filter(pk=booking.pk).update(reference=REFERENCE)
    if cancelled:
        services.booking_cancel(booking=booking)
    booking.refresh_from_db()
    return booking, confirmed.manage_token


def _waitlist_offer(slot, *, language: str):
    hold = services.slot_hold(slot_id=slot.pk)
    Booking.objects.filter(pk=hold.pk).update(held_until=OFFER_UNTIL)
    hold.refresh_from_db()
    token = "offer-token-" + "x" * 32
    entry = WaitlistEntry.objects.create(
        service=slot.service,
        location=slot.location,
        phone="+31612345678",
        contact_channel="sms",
        language=language,
        status=WaitlistEntry.Status.OFFERED,
        offer=hold,
        offer_token_sealed=seal(token),
    )
    return entry, token


def _message(slot, kind: str, language: str) -> tuple[Message, str]:
    if kind == Message.Kind.WAITLIST_OFFER:
        entry, token = _waitlist_offer(slot, language=language)
        return Message(waitlist_entry=entry, kind=kind, channel="sms", due_at=NOW), token
    booking, token = _booking(slot, language=language, cancelled=kind in CANCEL_KINDS)
    return Message(booking=booking, kind=kind, channel="email", due_at=NOW), token


def _rendered(slot, kind: str, language: str):
    message, token = _message(slot, kind, language)
    return message_content(message), token


def _parts(content) -> dict[str, str]:
    parts = {
        "subject": content.subject,
        "text": content.text,
        "html": content.html,
        "sms": content.sms,
    }
    if content.ics:
        (event,) = Calendar.from_ical(content.ics).walk("VEVENT")
        parts["ics summary"] = str(event["SUMMARY"])
        parts["ics description"] = str(event["DESCRIPTION"])
        parts["ics"] = content.ics.decode()
    return parts


ALL_KINDS = [pytest.param(kind, id=kind.value) for kind in Message.Kind]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_no_message_names_the_service_or_a_health_topic(slot, kind, language):
    content, token = _rendered(slot, kind, language)

    for part, value in _parts(content).items():
        # The token is random: it could spell a term by chance, and it is no text.
        value = value.replace(token, "<token>")
        for name in SERVICE_NAMES.values():
            assert name.lower() not in value.lower(), f"{kind} {language} {part} names the service"
        found = SENSITIVE.findall(value)
        assert not found, f"{kind} {language} {part} says {found}: {value!r}"
        assert "Jansen" not in value and "Crystal" not in value


def test_the_list_of_terms_catches_what_it_should():
    assert SENSITIVE.findall("Je PrEP-afspraak, hiv? SOA! 3-MMC.") == [
        "PrEP",
        "hiv",
        "SOA",
        "3-MMC",
    ]
    assert SENSITIVE.findall("soa-test, Stichting Prepare, methode, sexy, drugstore") == ["soa"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_message_has_date_time_place_reference_and_link(slot, kind, language):
    content, token = _rendered(slot, kind, language)
    text, sms = content.text, content.sms
    html_text = visible_text(content.html)

    # After a cancellation the link is for a new appointment; otherwise it opens this one.
    link = BASE_URL + "/" if kind in CANCEL_KINDS else token
    for part, value in [("text", text), ("html", content.html), ("sms", sms)]:
        assert WHEN[language].search(visible_text(value)), f"{kind} {language} {part}: no time"
        assert link in value, f"{kind} {language} {part}: no link"

    if kind == Message.Kind.WAITLIST_OFFER:
        for value in (text, sms):
            assert "GGD Nieuwe Achtergracht" in value
            assert OFFER_UNTIL_TIME in value, "the offer says until when it holds"
        assert "Nieuwe Achtergracht 100" in text
        return
    # The reference is what the client says at the desk; the e-mail always has it.
    assert REFERENCE in text and REFERENCE in html_text
    if kind in CANCEL_KINDS:
        return  # the time is gone: no place, and the link is for a new appointment
    for value in (text, sms):
        assert REFERENCE in value
        assert "GGD Nieuwe Achtergracht" in value
        assert "/mijn-afspraak/" + token in value
    assert "Nieuwe Achtergracht 100, 1018 WT Amsterdam" in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_sms_fits_in_two_gsm_segments(slot, kind, language):
    content, _token = _rendered(slot, kind, language)

    septets = gsm_septets(content.sms)
    assert septets is not None, f"not GSM-7 (costs UCS-2 segments of 67): {content.sms!r}"
    assert septets <= SMS_LIMIT, f"{septets} septets: {content.sms!r}"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_english_texts_are_english(slot, kind):
    content, _token = _rendered(slot, kind, "en")

    for part, value in _parts(content).items():
        if part == "ics":
            continue
        # Links are no text: the paths are Dutch in both languages.
        value = re.sub(r"https?://\S+", "", visible_text(value))
        for place in ("GGD Nieuwe Achtergracht", "Nieuwe Achtergracht 100"):
            value = value.replace(place, "")
        dutch = DUTCH_WORDS.findall(value)
        assert not dutch, f"{kind} en {part} is Dutch ({dutch}): {value!r}"
        assert ENGLISH_WORDS.search(value), f"{kind} en {part} is not English: {value!r}"


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_dutch_texts_are_dutch(slot, kind):
    content, _token = _rendered(slot, kind, "nl")

    assert "afspraak" in content.subject.lower() or "tijd" in content.subject.lower()
    assert ENGLISH_WORDS.search(content.sms) is None


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_the_dispatchers_sms_text_is_the_sms_of_the_full_content(slot, kind, language):
    """The dispatcher renders only the SMS; it must be the text checked above."""
    message, _token = _message(slot, kind, language)

    assert sms_text(message) == message_content(message).sms
