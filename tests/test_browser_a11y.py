"""Every client page in Debian's chromium: axe-core, the keyboard, no JavaScript, a phone.

Issue 6, "Tests that prove it". One tour per language visits every client page
(form errors, the hold warning, crisis help, the confirmation and the manage
page included) and checks on each: axe-core's WCAG 2.1 A/AA rules, no sideways
scroll at 360×740, targets of at least 24×24 CSS px (WCAG 2.5.8) and no request
to another host. The other tests book with the keyboard alone and without
JavaScript, and take the screenshots the README shows.
"""

import os
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve
from django.utils import timezone

from appointments.models import Booking, IntakeQuestion
from tests import test_browser_flow as flow
from tests.factories import (
    AvailabilityRuleFactory,
    BookingFactory,
    IntakeChoiceFactory,
    IntakeQuestionFactory,
    LocationFactory,
    ServiceFactory,
    SlotFactory,
)

# The fixtures of the booking-flow test (Debian's chromium, a 360×740 page in Dutch
# that records requests to other hosts), not copied: pytest finds them in this namespace.
browser = flow.browser
page = flow.page
ARTIFACTS = flow.ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The README's copies change only when asked for, so a test run leaves the work
# tree as it found it: SPREEKUUR_UPDATE_SCREENSHOTS=1 make test PYTEST_ARGS=...
DOCS_SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("SPREEKUUR_UPDATE_SCREENSHOTS") == "1"
    else ARTIFACTS / "readme"
)
PHONE = {"width": 360, "height": 740}
LOCALES = {"nl": "nl-NL", "en": "en-GB"}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Content pages another change adds; each is checked once its URL resolves.
CONTENT_PAGES = ["/vertrouwelijk/", "/privacy/", "/toegankelijkheid/", "/wat-gebeurt-er/"]
SCREENSHOT_MAX_BYTES = 150_000
FOR_README = ("home", "times", "intake", "confirmation", "manage")

TARGETS_TOO_SMALL = """() => {
  // WCAG 2.5.8: a target is at least 24×24 CSS px, or a 24 px circle around its centre
  // touches no other target. Links inside a sentence are exempt (the inline exception).
  const visible = (el) => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const text = (el) => (el.textContent || '').replace(/\\s+/g, ' ').trim();
  const inSentence = (a) => {
    const block = a.parentElement && a.parentElement.closest('p, li, dd, td, label');
    return !!block && text(block).length > text(a).length + 1;
  };
  const targets = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (el.tagName === 'A' && inSentence(el)) continue;
    // A control's label activates it too (styled radios hide the control itself):
    // the larger of the two counts.
    const rects = [el, ...(el.labels || [])].filter(visible)
        .map((e) => e.getBoundingClientRect());
    if (!rects.length) continue;
    const rect = rects.reduce((a, b) => (
        Math.min(b.width, b.height) > Math.min(a.width, a.height) ? b : a));
    targets.push({el, rect});
  }
  const small = targets.filter((t) => t.rect.width < 24 || t.rect.height < 24);
  const centre = (r) => [r.left + r.width / 2, r.top + r.height / 2];
  const distance = ([x, y], r) => Math.hypot(
      Math.max(r.left - x, 0, x - r.right), Math.max(r.top - y, 0, y - r.bottom));
  return small.filter((t) => {
    const c = centre(t.rect);
    return targets.some((o) => o !== t && (small.includes(o)
        ? Math.hypot(c[0] - centre(o.rect)[0], c[1] - centre(o.rect)[1]) < 24
        : distance(c, o.rect) < 12));
  }).map((t) => `${t.el.tagName.toLowerCase()}${t.el.name ? '[name=' + t.el.name + ']' : ''}`
      + ` "${(text(t.el) || t.el.value || '').slice(0, 40)}"`
      + ` ${Math.round(t.rect.width)}×${Math.round(t.rect.height)}`);
}"""


def _clinic() -> dict:
    """A service at two locations, free times, one that gets taken, and intake questions."""
    service = ServiceFactory(name_nl="Chemsex spreekuur", name_en="Chemsex consultation")
    here, there = LocationFactory(), LocationFactory()
    slot = SlotFactory(service=service, location=here)
    later = SlotFactory(
        service=service,
        location=here,
        clinician=slot.clinician,
        start=slot.start + timedelta(hours=2),
    )
    taken = SlotFactory(
        service=service,
        location=here,
        clinician=slot.clinician,
        start=slot.start + timedelta(hours=1),
    )
    SlotFactory(service=service, location=there)
    for location in (here, there):
        AvailabilityRuleFactory(service=service, location=location, clinician=slot.clinician)
    feeling = IntakeQuestionFactory(
        service=service,
        kind=IntakeQuestion.Kind.SINGLE_CHOICE,
        text_nl="Hoe gaat het nu met je?",
        text_en="How are you feeling right now?",
    )
    IntakeChoiceFactory(question=feeling, code="redelijk", text_nl="Redelijk", text_en="Fair")
    IntakeChoiceFactory(
        question=feeling,
        code="acuut",
        text_nl="Ik denk aan zelfdoding",
        text_en="I am thinking about suicide",
        acute_risk=True,
    )
    IntakeQuestionFactory(service=service, text_nl="Waar wil je over praten?", text_en="Topic?")
    today = timezone.localdate()
    empty_monday = today + timedelta(days=14 - today.weekday())
    return {
        "service": service,
        "here": here,
        "slot": slot,
        "later": later,
        "taken": taken,
        "empty_week": empty_monday.isoformat(),
    }


def _new_page(browser, live_server, *, lang="nl", **options):
    """A page in its own context, recording requests to other hosts as the flow test does."""
    context = browser.new_context(viewport=PHONE, locale=LOCALES[lang], **options)
    context.set_default_timeout(10_000)
    new = context.new_page()
    new.foreign_requests = []
    new.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(live_server.url) or request.url.startswith("data:")
            else new.foreign_requests.append(request.url)
        ),
    )
    return context, new


def _axe(page) -> tuple[list[str], int]:
    """axe-core's WCAG 2.1 A/AA violations on the page as 'rule: target' lines; rules run."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Not add_script_tag: it inlines the file, and the CSP (script-src 'self' + nonce)
        # refuses inline scripts. Playwright's evaluate runs outside the page's CSP.
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    assert result["passes"], "axe-core ran no rule at all"
    rules = sum(len(result[kind]) for kind in ("passes", "violations", "incomplete"))
    for review in result["incomplete"]:
        for node in review["nodes"]:
            print(f"NOTE axe asks a person to review {review['id']}: {node['target']}")
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} {node['html'][:120]}"
        for violation in result["violations"]
        for node in violation["nodes"]
    ], rules


class Tour:
    """Runs every check on each page visited and keeps what went wrong, per page."""

    def __init__(self, page, lang):
        self.page, self.lang = page, lang
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.rules = 0

    def check(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("load")
        self.visited.append(name)
        lang = page.locator("html").get_attribute("lang")
        if lang != self.lang:
            self.problems.append(f"[{name}] html lang is {lang!r}, not {self.lang!r}")
        violations, self.rules = _axe(page)
        for line in violations:
            self.problems.append(f"[{name}] axe {line}")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            self.problems.append(f"[{name}] scrolls sideways: {width} px wide at 360")
        for target in page.evaluate(TARGETS_TOO_SMALL):
            self.problems.append(f"[{name}] target under 24×24: {target}")


def _check(page, selector: str) -> None:
    """Check a radio or checkbox by its label: the control itself is styled out of sight."""
    control = page.locator(selector)
    page.locator(f'label[for="{control.get_attribute("id")}"]').click()
    assert control.is_checked()


def _pick_acute(page) -> None:
    _check(page, 'input[type="radio"][value="acuut"]')


def _main_submit(page):
    return page.locator("main form button[type=submit]").first


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_every_client_page_passes_axe_fits_a_phone_and_stays_on_host(
    browser,
    live_server,
    lang,
):
    clinic = _clinic()
    service, here = clinic["service"], clinic["here"]
    context, page = _new_page(browser, live_server, lang=lang)
    tour = Tour(page, lang)
    url = live_server.url
    try:
        page.goto(url + "/")
        tour.check("home")
        page.goto(f"{url}/afspraak/{service.pk}/")
        tour.check("location choice")
        page.goto(f"{url}/afspraak/{service.pk}/{here.pk}/")
        tour.check("free times")
        page.goto(f"{url}/afspraak/{service.pk}/{here.pk}/?week={clinic['empty_week']}")
        assert page.locator('button[name="slot"]').count() == 0
        tour.check("free times, empty week")

        # Someone else takes a time while this client looks at the week.
        page.goto(f"{url}/afspraak/{service.pk}/{here.pk}/")
        BookingFactory(slot=clinic["taken"])
        page.locator(f'button[name="slot"][value="{clinic["taken"].pk}"]').click()
        tour.check("slot taken")

        page.goto(f"{url}/afspraak/{service.pk}/{here.pk}/")
        page.locator(f'button[name="slot"][value="{clinic["slot"].pk}"]').click()
        tour.check("intake")
        _pick_acute(page)
        tour.check("intake, crisis help (acute-risk answer checked)")

        Booking.objects.filter(status=Booking.Status.HELD).update(
            held_until=timezone.now() + timedelta(minutes=2)
        )
        page.reload()
        tour.check("intake, hold about to run out")
        warning = page.locator("main [data-hold-warning]")
        if warning.count():
            assert warning.inner_text().strip(), "no hold warning with 2 minutes left"
            extend = page.locator("#hold-extend")
            if extend.count():
                extend.click()
                tour.check("intake, hold extended")
        else:
            print(f"NOTE [{lang}] the intake has no hold warning yet: not checked")

        _pick_acute(page)
        page.locator('input[name="email"]').fill("client@example.org")
        _main_submit(page).click()
        assert page.locator('input[name="consent"][aria-invalid="true"]').count() or (
            "consent" in page.content()
        )
        tour.check("intake with form errors (e-mail without consent)")

        _check(page, 'input[name="consent"]')
        _main_submit(page).click()
        booking = Booking.objects.get(status=Booking.Status.CONFIRMED, slot=clinic["slot"])
        assert booking.acute_risk
        tour.check("confirmation")
        manage = page.url
        page.reload()
        tour.check("manage")

        page.goto(manage + "berichten/")
        tour.check("contact")
        _main_submit(page).click()
        tour.check("contact with form errors")
        page.goto(manage + "gegevens-wissen/")
        tour.check("erase")
        page.goto(manage + "verzetten/")
        tour.check("reschedule")
        page.goto(manage + "afzeggen/")
        tour.check("cancel confirm")
        _main_submit(page).click()
        tour.check("cancelled")

        page.goto(f"{url}/afspraak/{service.pk}/wachtlijst/?locatie={here.pk}")
        tour.check("waitlist join")
        page.locator('input[name="email"]').fill("geen-adres")
        _main_submit(page).click()
        tour.check("waitlist join with form errors")
        page.goto(f"{url}/afspraak/{service.pk}/wachtlijst/aangemeld/")
        tour.check("waitlist joined")

        page.goto(url + "/deze-pagina-bestaat-niet/")
        tour.check("404")
        for path in CONTENT_PAGES:
            try:
                resolve(path)
            except Resolver404:
                print(f"NOTE [{lang}] {path} does not resolve yet: not checked")
                continue
            page.goto(url + path)
            tour.check(path)
        foreign = page.foreign_requests
    finally:
        context.close()

    print(f"[{lang}] axe etc. on {len(tour.visited)} pages: {', '.join(tour.visited)}")
    print(f"[{lang}] axe rules run per page: {tour.rules}")
    assert foreign == [], f"requests to other hosts: {foreign}"
    assert tour.problems == [], "\n".join(tour.problems)


def _focused(page) -> str:
    return page.evaluate(
        "() => { const el = document.activeElement; return el.outerHTML.slice(0, 200); }"
    )


def _tab_to(page, predicate: str, *, limit: int = 80) -> None:
    """Press Tab until `predicate(document.activeElement)` holds; fail after `limit` stops."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({predicate}); }}"):
            return
    pytest.fail(f"no tab stop matches {predicate}; focus ended on {_focused(page)}")


def test_a_client_books_reschedules_and_cancels_with_the_keyboard_alone(
    browser,
    live_server,
):
    clinic = _clinic()
    context, page = _new_page(browser, live_server)
    try:
        page.goto(live_server.url + "/")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.matches('a.ams-skip-link[href=\"#main\"]')"), (
            f"the first tab stop is {_focused(page)}, not the skip link"
        )
        assert page.evaluate(
            "() => { const r = document.activeElement.getBoundingClientRect();"
            " return r.width > 1 && r.height > 1; }"
        ), "the skip link stays invisible when it has focus"
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main"
        assert page.evaluate("document.activeElement.id === 'main'"), (
            f"after the skip link, focus is on {_focused(page)}, not on main"
        )
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('main')"), (
            f"after the skip link, Tab goes to {_focused(page)}, outside main"
        )

        _tab_to(page, f"el.matches('a[href=\"/afspraak/{clinic['service'].pk}/\"]')")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/afspraak/{clinic['service'].pk}/")
        _tab_to(page, f"el.matches('a[href$=\"/{clinic['here'].pk}/\"]')")
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/afspraak/{clinic['service'].pk}/{clinic['here'].pk}/")
        _tab_to(page, f"el.matches('button[name=slot][value=\"{clinic['slot'].pk}\"]')")
        page.keyboard.press("Enter")
        page.wait_for_url("**/afspraak/gegevens/**")

        _tab_to(page, "el.matches('input[name=nickname]')")
        page.keyboard.type("Sam")
        _tab_to(page, "el.matches('input[type=radio]') && el.closest('fieldset')")
        _tab_to(page, "el.matches('input[name=email]')")
        page.keyboard.type("sam@example.org")
        _tab_to(page, "el.matches('input[name=consent]')")
        page.keyboard.press("Space")
        _tab_to(page, "el.matches('main form button[type=submit]')")
        page.keyboard.press("Enter")
        page.wait_for_url("**/mijn-afspraak/**")
        booking = Booking.objects.get(status=Booking.Status.CONFIRMED)
        assert booking.nickname == "Sam" and booking.email == "sam@example.org"

        _tab_to(page, "el.matches('a[href$=\"/verzetten/\"]')")
        page.keyboard.press("Enter")
        page.wait_for_url("**/verzetten/")
        _tab_to(page, f"el.matches('button[name=slot][value=\"{clinic['later'].pk}\"]')")
        page.keyboard.press("Space")
        page.wait_for_url("**/mijn-afspraak/*/")
        booking.refresh_from_db()
        assert booking.slot == clinic["later"]

        _tab_to(page, "el.matches('a[href$=\"/afzeggen/\"]')")
        page.keyboard.press("Enter")
        page.wait_for_url("**/afzeggen/")
        _tab_to(page, "el.matches('main form button[type=submit]')")
        page.keyboard.press("Space")
        page.wait_for_url("**/afspraak/afgezegd/")
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert page.foreign_requests == []
    finally:
        context.close()


def test_a_client_books_reschedules_and_cancels_without_javascript(
    browser,
    live_server,
):
    clinic = _clinic()
    context, page = _new_page(browser, live_server, java_script_enabled=False)
    try:
        page.goto(live_server.url + "/")
        page.locator(f'a[href="/afspraak/{clinic["service"].pk}/"]').click()
        page.locator(f'main a[href$="/{clinic["here"].pk}/"]').first.click()
        page.locator(f'button[name="slot"][value="{clinic["slot"].pk}"]').click()
        page.wait_for_url("**/afspraak/gegevens/**")
        # The server tells until when the time is held, no script needed.
        held = Booking.objects.get(status=Booking.Status.HELD)
        assert timezone.localtime(held.held_until).strftime("%H:%M") in page.content()

        _pick_acute(page)
        page.locator('input[name="email"]').fill("client@example.org")
        _main_submit(page).click()
        assert page.locator("main a[href='#id_consent']").count() or (
            page.locator('input[name="consent"]').count()
        )
        _check(page, 'input[name="consent"]')
        _main_submit(page).click()
        page.wait_for_url("**/mijn-afspraak/**")
        booking = Booking.objects.get(status=Booking.Status.CONFIRMED)
        assert booking.acute_risk and booking.email == "client@example.org"
        assert page.locator("#crisis-heading").count() == 1, "crisis help again on confirmation"

        page.locator('main a[href$="/verzetten/"]').click()
        page.locator(f'button[name="slot"][value="{clinic["later"].pk}"]').click()
        booking.refresh_from_db()
        assert booking.slot == clinic["later"]
        page.locator('main a[href$="/afzeggen/"]').click()
        _main_submit(page).click()
        page.wait_for_url("**/afspraak/afgezegd/")
        booking.refresh_from_db()
        assert booking.status == Booking.Status.CANCELLED
        assert page.foreign_requests == []
    finally:
        context.close()


def _weigh(requests) -> dict[str, int]:
    """Bytes transferred (headers and body as sent), by kind: html, css, font, js, image."""
    kinds = {"document": "html", "stylesheet": "css", "font": "font", "script": "js"}
    weight: dict[str, int] = {}
    for request in requests:
        if request.url.startswith("data:") or request.response() is None:
            continue
        sizes = request.sizes()
        kind = kinds.get(request.resource_type, request.resource_type)
        weight[kind] = (
            weight.get(kind, 0) + sizes["responseHeadersSize"] + sizes["responseBodySize"]
        )
    return weight


def test_screenshots_of_each_step_and_the_weight_of_the_booking_pages(
    page,
    live_server,
):
    """Screenshots at 360×740 in Dutch; five are the README's (see DOCS_SCREENSHOTS)."""
    clinic = _clinic()
    url = live_server.url
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Every page is weighed as a first visit: routing requests turns the HTTP cache off.
    page.route("**/*", lambda route: route.continue_())
    requests: list = []
    page.on("request", lambda request: requests.append(request))
    weights: dict[str, dict[str, int]] = {}
    shots: dict[str, Path] = {}

    def step(number: int, name: str, *, weigh: bool = False) -> None:
        page.wait_for_load_state("networkidle")
        path = ARTIFACTS / f"client-{number:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if name in FOR_README:
            # The README's copy: the whole page if it is light enough, else the first screen.
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            copy = DOCS_SCREENSHOTS / f"{name}.png"
            shutil.copyfile(path, copy)
            if copy.stat().st_size > SCREENSHOT_MAX_BYTES:
                page.screenshot(path=str(copy), full_page=False)
            shots[name] = copy
        if weigh:
            weights[name] = _weigh(requests)
        requests.clear()

    requests.clear()
    page.goto(url + "/")
    step(1, "home", weigh=True)
    page.locator(f'a[href="/afspraak/{clinic["service"].pk}/"]').click()
    step(2, "locations", weigh=True)
    page.locator(f'main a[href$="/{clinic["here"].pk}/"]').first.click()
    step(3, "times", weigh=True)
    page.locator(f'button[name="slot"][value="{clinic["slot"].pk}"]').click()
    step(4, "intake", weigh=True)
    page.locator('input[name="nickname"]').fill("Sam")
    _pick_acute(page)
    step(5, "intake-crisis-help")
    page.locator('input[name="email"]').fill("sam@example.org")
    _main_submit(page).click()
    step(6, "intake-errors")
    _check(page, 'input[name="consent"]')
    _main_submit(page).click()
    step(7, "confirmation", weigh=True)
    manage = page.url
    page.goto(manage)
    step(8, "manage", weigh=True)
    page.goto(manage + "verzetten/")
    step(9, "reschedule")
    page.locator(f'button[name="slot"][value="{clinic["later"].pk}"]').click()
    step(10, "rescheduled")
    page.goto(manage + "afzeggen/")
    step(11, "cancel")
    _main_submit(page).click()
    step(12, "cancelled")
    assert page.foreign_requests == []

    for copy in shots.values():
        print(f"{copy.relative_to(ROOT)}: {copy.stat().st_size} bytes")
        assert copy.stat().st_size <= SCREENSHOT_MAX_BYTES, f"{copy} is too large for the README"
    print("bytes per booking page (first visit, nothing cached, no compression):")
    for name, weight in weights.items():
        print(f"  {name}: {sum(weight.values())} {weight}")
