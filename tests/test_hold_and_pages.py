"""The hold clock (WCAG 2.2.1), crisis help at once, and the pages with information."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from appointments import services
from appointments.models import Booking, IntakeQuestion
from tests.factories import IntakeChoiceFactory, IntakeQuestionFactory, SlotFactory

pytestmark = pytest.mark.django_db

HOLD = timedelta(minutes=settings.SPREEKUUR_HOLD_MINUTES)
PAGES = ["confidentiality", "privacy", "accessibility", "what_happens"]


def _hold(client, slot) -> str:
    response = client.post(reverse("appointments:hold"), {"slot": slot.pk})
    assert response.status_code == 302, response.content
    return response["Location"]


def _extend_url(intake_url: str) -> str:
    return f"{intake_url}verlengen/"


def _nonce_of(response) -> str:
    return re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)


# --- Hold clock --------------------------------------------------------------------


def test_the_intake_page_offers_more_time_inside_its_own_form(client):
    slot = SlotFactory()
    intake_url = _hold(client, slot)

    html = client.get(intake_url).content.decode()

    hold = Booking.objects.get(slot=slot)
    assert f'formaction="{reverse("appointments:hold_extend", args=[hold.public_id])}"' in html
    assert "formnovalidate" in html
    assert "Geef me 10 minuten extra" in html
    assert f'action="{intake_url}"' in html  # the page drawn by the extend URL posts here too
    form = html[html.index('id="intake-form"') : html.index("</form>", html.index("intake-form"))]
    assert form.index("Afspraak maken") < form.index("Geef me 10 minuten extra")  # Enter books


def test_extending_gives_more_time_and_keeps_what_was_typed_without_errors(client):
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, required=True)
    text = IntakeQuestionFactory(service=slot.service)
    intake_url = _hold(client, slot)
    hold = Booking.objects.get(slot=slot)

    with time_machine.travel(hold.held_until - timedelta(minutes=2), tick=False):
        response = client.post(
            _extend_url(intake_url),
            {f"question_{text.pk}": "Ik kom met een vriend", "nickname": "Sam", "extend": "1"},
        )
        now = timezone.now()

    html = response.content.decode()
    assert response.status_code == 200
    assert "Ik kom met een vriend" in html and 'value="Sam"' in html
    assert 'aria-invalid="true"' not in html  # the required question left open is no error yet
    assert f"question_{question.pk}" in html
    hold.refresh_from_db()
    assert hold.status == Booking.Status.HELD
    assert hold.held_until == now + HOLD
    assert timezone.localtime(hold.held_until).strftime("%H:%M") in html


def test_the_extend_url_answers_a_get_with_the_intake_page(client):
    intake_url = _hold(client, SlotFactory())

    response = client.get(_extend_url(intake_url))

    assert response.status_code == 302 and response["Location"] == intake_url


def test_a_hold_can_be_extended_ten_times_as_wcag_asks_and_then_no_more(client):
    slot = SlotFactory()
    hold = services.slot_hold(slot_id=slot.pk)
    start = hold.created_at

    # Each time a minute before the time runs out, as long as the service allows.
    extensions, until = 0, hold.held_until
    while extensions < 50:
        try:
            until = services.hold_extend(
                hold_public_id=hold.public_id, now=until - timedelta(minutes=1)
            ).held_until
        except services.HoldNotExtendable:
            break
        extensions += 1

    assert extensions >= 10
    assert until == start + 11 * HOLD  # never longer than eleven hold times in all


def test_the_page_says_when_no_more_time_can_be_given(client):
    slot = SlotFactory()
    intake_url = _hold(client, slot)
    Booking.objects.filter(slot=slot).update(
        held_until=Booking.objects.get(slot=slot).created_at + 4 * HOLD
    )

    response = client.post(_extend_url(intake_url), {"nickname": "Sam"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "niet nog langer" in html and 'value="Sam"' in html


def test_a_run_out_hold_whose_seat_nobody_took_is_extended(client):
    slot = SlotFactory()
    intake_url = _hold(client, slot)
    Booking.objects.filter(slot=slot).update(held_until=timezone.now() - timedelta(minutes=1))

    response = client.post(_extend_url(intake_url), {})

    assert response.status_code == 200
    hold = Booking.objects.get(slot=slot)
    assert hold.hold_is_live()


def test_extending_a_hold_whose_seat_went_to_someone_else_offers_other_times(client):
    slot = SlotFactory()
    other = SlotFactory(
        service=slot.service, location=slot.location, start=slot.start + timedelta(hours=1)
    )
    text = IntakeQuestionFactory(service=slot.service)
    intake_url = _hold(client, slot)
    Booking.objects.filter(slot=slot).update(held_until=timezone.now() - timedelta(minutes=1))
    services.booking_confirm(hold_public_id=services.slot_hold(slot_id=slot.pk).public_id)

    response = client.post(_extend_url(intake_url), {f"question_{text.pk}": "Mijn antwoord"})

    html = response.content.decode()
    assert response.status_code == 409
    assert "Mijn antwoord" in html
    assert f'value="{other.pk}"' in html
    assert "Geef me 10 minuten extra" not in html

    # The answers go on to the other time, as on the intake page itself.
    response = client.post(
        intake_url, {f"question_{text.pk}": "Mijn antwoord", "alternative_slot": other.pk}
    )
    assert response.status_code == 302
    assert Booking.objects.get(slot=other).status == Booking.Status.CONFIRMED


def test_another_browser_cannot_extend_a_hold(client):
    intake_url = _hold(client, SlotFactory())
    from django.test import Client

    assert Client().post(_extend_url(intake_url), {}).status_code == 404


def test_the_server_warns_when_less_than_three_minutes_are_left(client):
    slot = SlotFactory()
    intake_url = _hold(client, slot)
    hold = Booking.objects.get(slot=slot)

    early = client.get(intake_url).content.decode()
    with time_machine.travel(hold.held_until - timedelta(minutes=2, seconds=30), tick=False):
        late = client.get(intake_url).content.decode()

    warning = "Nog minder dan 3 minuten."
    live = re.compile(r'aria-live="polite" data-hold-warning>\s*<p[^>]*><strong>' + warning)
    assert not live.search(early)
    assert live.search(late)
    assert f'data-held-until="{timezone.localtime(hold.held_until).isoformat()}"' in early


# --- Crisis help -------------------------------------------------------------------


def test_answers_that_mean_acute_risk_are_marked_and_crisis_help_is_on_the_page(client):
    slot = SlotFactory()
    safe = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SINGLE_CHOICE)
    IntakeChoiceFactory(question=safe, code="ja")
    IntakeChoiceFactory(question=safe, code="nee", acute_risk=True)
    used = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.MULTIPLE_CHOICE)
    IntakeChoiceFactory(question=used, code="ghb", acute_risk=True)
    IntakeChoiceFactory(question=used, code="tina")
    thoughts = IntakeQuestionFactory(
        service=slot.service, kind=IntakeQuestion.Kind.YES_NO, acute_risk_answer="yes"
    )

    html = client.get(_hold(client, slot)).content.decode()

    marked = set(re.findall(r'<input[^>]*value="([^"]+)"[^>]*data-acute="true"', html))
    assert marked == {"nee", "ghb", "yes"}
    assert re.search(rf'name="question_{thoughts.pk}" value="no"(?![^>]*data-acute)', html)
    assert "data-crisis-help" in html
    assert 'href="tel:113"' in html and "0800-0113" in html and 'href="tel:112"' in html
    assert "113.nl" in html


def test_the_manage_page_shows_crisis_help_only_with_the_triage_flag(client):
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SINGLE_CHOICE)
    IntakeChoiceFactory(question=question, code="ok")
    IntakeChoiceFactory(question=question, code="crisis", acute_risk=True)
    quiet = SlotFactory(service=slot.service, location=slot.location)

    acute = client.post(_hold(client, slot), {f"question_{question.pk}": "crisis"})
    calm = client.post(_hold(client, quiet), {f"question_{question.pk}": "ok"})

    assert "data-crisis-help" in client.get(acute["Location"]).content.decode()
    assert "data-crisis-help" not in client.get(calm["Location"]).content.decode()


# --- Scripts -----------------------------------------------------------------------


def test_the_scripts_come_from_static_with_the_csp_nonce(client):
    response = client.get(_hold(client, SlotFactory()))

    html = response.content.decode()
    nonce = _nonce_of(response)
    scripts = re.findall(r"<script[^>]*>", html)
    assert len(scripts) == 2
    for name in ("hold-clock.js", "crisis-help.js"):
        tag = next(tag for tag in scripts if name in tag)
        assert f'src="/static/js/{name}"' in tag
        assert f'nonce="{nonce}"' in tag and "defer" in tag
    assert " on" not in "".join(re.findall(r"<[^>]+ on[a-z]+=", html))
    assert 'style="' not in html


# --- Pages with information --------------------------------------------------------


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("name", PAGES)
def test_each_information_page_has_one_h1_a_title_and_a_footer_link(client, name, language):
    url = reverse(f"appointments:{name}")

    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count("<h1") == 1
    assert re.search(r"<title>[^<]+\S[^<]*</title>", html)
    assert f'<html lang="{language}">' in html
    footer = html[html.index("<footer") :]
    assert f'href="{url}"' in footer


def test_the_pages_have_the_urls_and_say_the_true_terms(client):
    assert reverse("appointments:confidentiality") == "/vertrouwelijk/"
    assert reverse("appointments:privacy") == "/privacy/"
    assert reverse("appointments:accessibility") == "/toegankelijkheid/"
    assert reverse("appointments:what_happens") == "/wat-gebeurt-er/"

    days = str(settings.SPREEKUUR_RETENTION_DAYS)
    confidentiality = client.get("/vertrouwelijk/").content.decode()
    assert f"{days} dagen na je afspraak" in confidentiality
    privacy = client.get("/privacy/").content.decode()
    for words in ("6 lid 1 onder e", "9 lid 2 onder h", "NotifyNL", "Autoriteit Persoonsgegevens"):
        assert words in privacy
    accessibility = client.get("/toegankelijkheid/").content.decode()
    for words in ("WCAG", "axe-core", "Chromium", "toetsenbord", "JavaScript", "360 bij 740"):
        assert words in accessibility
    what_happens = client.get("/wat-gebeurt-er/").content.decode()
    assert "afspraakcode" in what_happens and "0800-0113" in what_happens


def test_every_page_links_to_the_information_pages_in_its_footer(client):
    html = client.get("/").content.decode()
    footer = html[html.index("<footer") :]
    for name in PAGES:
        assert f'href="{reverse(f"appointments:{name}")}"' in footer
    main = html[html.index("<main") : html.index("</main>")]
    assert 'href="/vertrouwelijk/"' in main


def test_the_information_pages_refuse_a_post(client):
    assert client.post("/privacy/").status_code == 405
