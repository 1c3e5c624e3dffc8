"""The booking flow in a real browser: Debian's chromium, driven by Playwright.

Catches what the test client cannot: headers a browser sends by itself (a
Referrer-Policy of no-referrer once made Chromium send `Origin: null`, and
Django refused every form), requests to other hosts, sideways scrolling.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.utils import timezone

from appointments.models import Booking
from tests.factories import SlotFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls of the
# test itself are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        message = f"needs Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("SPREEKUUR_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="nl-NL")
    page = context.new_page()
    page.foreign_requests = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(live_server.url) or request.url.startswith("data:")
            else page.foreign_requests.append(request.url)
        ),
    )
    yield page
    context.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _assert_fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_client_books_reschedules_and_cancels_in_chromium(page, live_server):
    slot = SlotFactory(service__name_nl="Chemsex spreekuur")
    later = SlotFactory(
        service=slot.service,
        location=slot.location,
        start=slot.start + timezone.timedelta(hours=2),
    )
    from tests.factories import AvailabilityRuleFactory

    AvailabilityRuleFactory(service=slot.service, location=slot.location, clinician=slot.clinician)

    page.goto(live_server.url + "/")
    _shot(page, "01-home")
    page.get_by_role("link", name="Kies een tijd").first.click()
    _shot(page, "02-times")
    _assert_fits_a_phone(page)
    page.locator(f'button[name="slot"][value="{slot.pk}"]').click()
    assert page.get_by_role("heading", name="Een paar vragen").is_visible()
    _shot(page, "03-intake")
    page.get_by_label("Hoe mogen we je noemen?").fill("Sam")
    page.get_by_role("button", name="Afspraak maken").click()

    assert page.get_by_role("heading", name="Je afspraak is gemaakt").is_visible()
    _shot(page, "04-confirmation")
    _assert_fits_a_phone(page)
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED and booking.nickname == "Sam"
    assert booking.reference in page.content()

    page.get_by_role("link", name="Afspraak verzetten").click()
    _shot(page, "05-reschedule")
    page.locator(f'button[name="slot"][value="{later.pk}"]').click()
    assert "verzet" in page.content()
    booking.refresh_from_db()
    assert booking.slot == later

    page.get_by_role("link", name="Afspraak afzeggen").click()
    page.get_by_role("button", name="Ja, afspraak afzeggen").click()
    _shot(page, "06-cancelled")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert page.foreign_requests == []


def test_the_language_switch_works_in_chromium(page, live_server):
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Nederlands").click()
    assert page.locator("html").get_attribute("lang") == "nl"
