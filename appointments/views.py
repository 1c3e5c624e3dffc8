"""Client pages: validate a form, call one service, redirect.

The browser's session remembers only which time it holds (a random id) and
which appointment it just made; a manage link's token is the only key to an
appointment after that, and it is never stored.
"""

import sys
from datetime import date

from django.conf import settings
from django.contrib import messages
from django.db import InterfaceError, OperationalError
from django.forms.utils import ErrorDict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import TemplateView
from django_ratelimit.decorators import ratelimit

from . import selectors, services, waitlist
from .calendar import booking_ics
from .forms import (
    ContactForm,
    IntakeForm,
    SlotChoiceForm,
    WaitlistAnswerForm,
    WaitlistForm,
    WaitlistLocationForm,
    WeekForm,
    masked_email,
    masked_phone,
    slot_label,
)
from .models import Booking, ContactChannel, Location, Slot
from .retention import booking_personal_data_erase

SESSION_HOLDS = "holds"
SESSION_CONFIRMED = "just_confirmed"


def rate_limited(group: str, setting: str, *, method=ratelimit.ALL):
    """Refuse a request over the rate in `settings.<setting>`, per client address.

    The rate is read per request, so it follows the settings (and tests). A
    refusal raises Ratelimited, which the middleware answers with the 429 page.
    """
    return ratelimit(
        group=f"spreekuur.{group}",
        key="ip",
        rate=lambda _group, _request: getattr(settings, setting),
        method=method,
        block=True,
    )


def _active_language() -> str:
    return (translation.get_language() or "nl")[:2]


def _requested_week(request: HttpRequest) -> date | None:
    """The week asked for in `?week=YYYY-MM-DD`; None when absent or malformed."""
    form = WeekForm(request.GET)
    if form.is_valid():
        return form.cleaned_data["week"]
    return None


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "appointments/home.html", {"services": selectors.services_active()})


@require_GET
def service_locations(request: HttpRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(selectors.services_active(), pk=service_id)
    locations = list(selectors.locations_for_service(service=service))
    if len(locations) == 1:
        return redirect("appointments:times", service_id=service.pk, location_id=locations[0].pk)
    return render(
        request, "appointments/locations.html", {"service": service, "locations": locations}
    )


@require_GET
def times(request: HttpRequest, service_id: int, location_id: int) -> HttpResponse:
    service = get_object_or_404(selectors.services_active(), pk=service_id)
    location = get_object_or_404(Location, pk=location_id, active=True)
    week = selectors.week_of_free_times_shared(
        service=service, location=location, monday=_requested_week(request), now=timezone.now()
    )
    return render(
        request,
        "appointments/times.html",
        {
            "service": service,
            "location": location,
            "week": week,
            "pick_url": reverse("appointments:hold"),
            "week_url": reverse("appointments:times", args=[service.pk, location.pk]),
        },
    )


def _slot_taken(request: HttpRequest, slot_id: int | None, *, pick_url: str) -> HttpResponse:
    """The friendly answer when a time went to someone else: the nearest free times."""
    slot = Slot.objects.select_related("service", "location").filter(pk=slot_id).first()
    if slot is None:
        raise Http404
    nearest = selectors.slots_nearest_free(slot=slot, now=timezone.now())
    return render(
        request,
        "appointments/slot_taken.html",
        {"slot": slot, "nearest": nearest, "pick_url": pick_url},
        status=409,
    )


@rate_limited("hold", "SPREEKUUR_RATE_HOLD", method="POST")
@require_POST
def hold(request: HttpRequest) -> HttpResponse:
    form = SlotChoiceForm(request.POST)
    if not form.is_valid():
        raise Http404
    slot_id = form.cleaned_data["slot"]
    try:
        held = services.slot_hold(slot_id=slot_id, release=request.session.get(SESSION_HOLDS, []))
    except services.SlotUnavailable:
        request.session[SESSION_HOLDS] = []
        return _slot_taken(request, slot_id, pick_url=reverse("appointments:hold"))
    request.session[SESSION_HOLDS] = [str(held.public_id)]
    return redirect("appointments:intake", public_id=held.public_id)


@rate_limited("book", "SPREEKUUR_RATE_BOOK", method="POST")
@never_cache
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest, public_id) -> HttpResponse:
    held = selectors.hold_by_public_id(
        public_id=public_id, allowed=request.session.get(SESSION_HOLDS, [])
    )
    if held is None:
        raise Http404
    if held.status not in (Booking.Status.HELD, Booking.Status.EXPIRED):
        return render(request, "appointments/already_booked.html", status=409)
    service = held.slot.service
    questions = selectors.intake_questions_for_service(service=service)
    now = timezone.now()
    lost = held.status == Booking.Status.EXPIRED
    if request.method == "POST" and "alternative_slot" in request.POST:
        lost = True  # the form was shown with alternatives; show them again if invalid
    alternatives = selectors.slots_nearest_free(slot=held.slot, now=now) if lost else ()
    # Not `request.POST or None`: an intake with every question left open is valid.
    form = IntakeForm(
        request.POST if request.method == "POST" else None,
        questions=questions,
        alternatives=alternatives,
    )
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = _confirm(request, held=held, form=form)
        except services.ContactLimitReached:
            _contact_limit_error(form)
        except (services.HoldExpired, services.SlotUnavailable):
            form = IntakeForm(
                request.POST,
                questions=questions,
                alternatives=selectors.slots_nearest_free(slot=held.slot, now=timezone.now()),
            )
            form.is_valid()
            form.add_error(
                "alternative_slot" if "alternative_slot" in form.fields else None,
                _(
                    "De tijd die je koos is niet meer vrij. "
                    "Kies een andere tijd; je antwoorden blijven bewaard."
                ),
            )
            lost = True
        else:
            request.session[SESSION_HOLDS] = []
            request.session[SESSION_CONFIRMED] = str(confirmed.booking.public_id)
            return redirect("appointments:manage", token=confirmed.manage_token)
    return render(
        request,
        "appointments/intake.html",
        {
            "hold": held,
            "slot": held.slot,
            "service": service,
            "form": form,
            "lost": lost or (held.status == Booking.Status.HELD and not held.hold_is_live(now)),
        },
        status=409 if lost and request.method == "POST" else 200,
    )


def hold_for_confirm(
    request: HttpRequest, *, held: Booking, form, session_key: str, by_staff: bool = False
):
    """The hold to confirm: the one on the page, or a new one on the other time picked.

    When the held time was lost, the form offered other times; the client's pick
    is held now, releasing the old hold. Both ids stay this browser's (in
    `session_key`): the form posts back to the first one's URL.
    """
    alternative = form.cleaned_data.get("alternative_slot")
    if not alternative:
        return held.public_id
    new_hold = services.slot_hold(
        slot_id=alternative, release=[str(held.public_id)], by_staff=by_staff
    )
    request.session[session_key] = [str(held.public_id), str(new_hold.public_id)]
    return new_hold.public_id


def _confirm(request: HttpRequest, *, held: Booking, form: IntakeForm) -> services.ConfirmedBooking:
    return services.booking_confirm(
        hold_public_id=hold_for_confirm(request, held=held, form=form, session_key=SESSION_HOLDS),
        responses=form.responses(),
        nickname=form.cleaned_data.get("nickname", ""),
        language=_active_language(),
        contact=form.contact_details(),
    )


def _contact_limit_error(form: ContactForm) -> None:
    field = "email" if form.cleaned_data.get("contact_channel") == ContactChannel.EMAIL else "phone"
    form.add_error(
        field,
        ngettext(
            "Met dit adres of nummer staat al %(count)d afspraak. Zeg die eerst af, "
            "of laat dit veld leeg.",
            "Met dit adres of nummer staan al %(count)d afspraken. Zeg er eerst een af, "
            "of laat dit veld leeg.",
            settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT,
        )
        % {"count": settings.SPREEKUUR_MAX_ACTIVE_PER_CONTACT},
    )


def _booking_or_404(token: str) -> Booking:
    booking = selectors.booking_by_manage_token(token=token)
    if booking is None:
        raise Http404
    return booking


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    # "Your appointment is made" once; a reload later shows the plain manage page.
    just_confirmed = request.session.get(SESSION_CONFIRMED) == str(booking.public_id)
    if just_confirmed:
        del request.session[SESSION_CONFIRMED]
    return render(
        request,
        "appointments/manage.html",
        {
            "booking": booking,
            "slot": booking.slot,
            "token": token,
            "just_confirmed": just_confirmed,
            "manage_url": request.build_absolute_uri(),
            "changeable": booking.status == Booking.Status.CONFIRMED
            and booking.slot.start > timezone.now(),
        },
    )


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_GET
def manage_ics(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    response = HttpResponse(
        booking_ics(booking=booking),
        content_type="text/calendar; charset=utf-8",
    )
    # A neutral file name: downloads folders are seen by others too.
    response["Content-Disposition"] = 'attachment; filename="afspraak.ics"'
    return response


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_http_methods(["GET", "POST"])
def manage_erase(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    if request.method == "POST":
        booking_personal_data_erase(booking=booking)
        messages.success(request, _("Je gegevens zijn gewist. Je afspraak blijft staan."))
        return redirect("appointments:manage", token=token)
    return render(request, "appointments/erase.html", {"booking": booking, "token": token})


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_http_methods(["GET", "POST"])
def manage_cancel(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    if request.method == "POST":
        try:
            services.booking_cancel(booking=booking)
        except services.BookingNotChangeable:
            messages.error(request, _("Deze afspraak kan niet meer worden afgezegd."))
            return redirect("appointments:manage", token=token)
        # The link is spent: it opens nothing any more, so the answer has its own page.
        return redirect("appointments:cancelled")
    return render(
        request,
        "appointments/cancel.html",
        {"booking": booking, "slot": booking.slot, "token": token},
    )


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_http_methods(["GET", "POST"])
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    booking = _booking_or_404(token)
    pick_url = reverse("appointments:reschedule", kwargs={"token": token})
    if request.method == "POST":
        form = SlotChoiceForm(request.POST)
        if not form.is_valid():
            raise Http404
        old_start = booking.slot.start
        try:
            services.booking_reschedule(booking=booking, slot_id=form.cleaned_data["slot"])
        except services.BookingNotChangeable:
            messages.error(request, _("Deze afspraak kan niet meer worden verzet."))
            return redirect("appointments:manage", token=token)
        except services.SlotUnavailable:
            return _slot_taken(request, form.cleaned_data["slot"], pick_url=pick_url)
        booking.refresh_from_db()
        messages.success(
            request,
            _("Je afspraak is verzet van %(old)s naar %(new)s.")
            % {"old": slot_label(Slot(start=old_start)), "new": slot_label(booking.slot)},
        )
        return redirect("appointments:manage", token=token)
    if booking.status != Booking.Status.CONFIRMED or booking.slot.start <= timezone.now():
        messages.error(request, _("Deze afspraak kan niet meer worden verzet."))
        return redirect("appointments:manage", token=token)
    slot = booking.slot
    week = selectors.week_of_free_times_shared(
        service=slot.service,
        location=slot.location,
        monday=_requested_week(request) or slot.date,
        now=timezone.now(),
    )
    return render(
        request,
        "appointments/reschedule.html",
        {
            "booking": booking,
            "slot": slot,
            "service": slot.service,
            "location": slot.location,
            "week": week,
            "token": token,
            "pick_url": pick_url,
            "week_url": pick_url,
        },
    )


def _contact_saved_text(channel: str) -> str:
    if channel == ContactChannel.EMAIL:
        return _("Opgeslagen. Berichten over je afspraak gaan nu per e-mail.")
    if channel == ContactChannel.SMS:
        return _("Opgeslagen. Berichten over je afspraak gaan nu per sms.")
    return _("Je e-mailadres en nummer zijn verwijderd. Je krijgt geen berichten meer.")


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_http_methods(["GET", "POST"])
def manage_contact(request: HttpRequest, token: str) -> HttpResponse:
    """Change or remove the e-mail address and mobile number that messages go to."""
    booking = _booking_or_404(token)
    if booking.status != Booking.Status.CONFIRMED or booking.slot.start <= timezone.now():
        messages.error(request, _("Voor deze afspraak kun je de berichten niet meer wijzigen."))
        return redirect("appointments:manage", token=token)
    if request.method == "POST" and "remove" in request.POST:
        services.booking_contact_update(
            booking=booking, contact=services.ContactDetails(), manage_token=token
        )
        messages.success(request, _contact_saved_text(""))
        return redirect("appointments:manage", token=token)
    form = ContactForm(request.POST if request.method == "POST" else None, require_contact=True)
    if request.method == "POST" and form.is_valid():
        contact = form.contact_details()
        try:
            services.booking_contact_update(booking=booking, contact=contact, manage_token=token)
        except services.ContactLimitReached:
            _contact_limit_error(form)
        else:
            messages.success(request, _contact_saved_text(contact.channel))
            return redirect("appointments:manage", token=token)
    return render(
        request,
        "appointments/contact.html",
        {
            "booking": booking,
            "slot": booking.slot,
            "token": token,
            "form": form,
            "email_masked": masked_email(booking.email),
            "phone_masked": masked_phone(booking.phone),
        },
    )


@require_GET
def cancelled(request: HttpRequest) -> HttpResponse:
    return render(request, "appointments/cancelled.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/csrf.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def _standalone_error(template: str, status: int, **headers) -> HttpResponse:
    # No context processors: the database or the session store may be what is down.
    context = {
        "phone": settings.SPREEKUUR_PHONE,
        "phone_link": "".join(c for c in settings.SPREEKUUR_PHONE if c.isdigit() or c == "+"),
    }
    response = HttpResponse(get_template(template).render(context), status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _standalone_error("errors/400.html", 400)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database is unreachable: a friendly page, never a traceback.

    Django calls this inside its `except`, so the exception is at hand. The
    connections check their health before use (CONN_HEALTH_CHECKS), so once the
    database is back the next request simply works.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        return _standalone_error("errors/503.html", 503, **{"Retry-After": "60"})
    return _standalone_error("errors/500.html", 500)


def too_many_requests(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The answer to a request over a rate limit (settings.RATELIMIT_VIEW)."""
    return _standalone_error("errors/429.html", 429, **{"Retry-After": "300"})


# --- Waitlist ------------------------------------------------------------------------


def _offer_duration() -> str:
    """How long an offer holds its time, in words: '2 uur', '90 minuten'."""
    minutes = settings.SPREEKUUR_WAITLIST_OFFER_MINUTES
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d uur", "%(count)d uur", hours) % {"count": hours}
    return ngettext("%(count)d minuut", "%(count)d minuten", minutes) % {"count": minutes}


def _waitlist_location(request: HttpRequest, service) -> Location | None:
    form = WaitlistLocationForm(request.GET)
    if not form.is_valid():
        raise Http404
    location_id = form.cleaned_data["locatie"]
    if location_id is None:
        return None
    return get_object_or_404(selectors.locations_for_service(service=service), pk=location_id)


@rate_limited("waitlist", "SPREEKUUR_RATE_WAITLIST", method="POST")
@require_http_methods(["GET", "POST"])
def waitlist_join(request: HttpRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(selectors.services_active(), pk=service_id)
    location = _waitlist_location(request, service)
    form = WaitlistForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        waitlist.waitlist_join(
            service=service,
            location=location,
            email=form.cleaned_data["email"],
            phone=form.cleaned_data["phone"],
            channel=form.cleaned_data["contact_channel"],
            language=_active_language(),
        )
        return redirect("appointments:waitlist_joined", service_id=service.pk)
    if location:
        back_url = reverse("appointments:times", args=[service.pk, location.pk])
    else:
        back_url = reverse("appointments:locations", args=[service.pk])
    return render(
        request,
        "appointments/waitlist_join.html",
        {
            "service": service,
            "location": location,
            "form": form,
            "back_url": back_url,
            "duration": _offer_duration(),
            "waitlist_days": settings.SPREEKUUR_WAITLIST_DAYS,
        },
    )


@require_GET
def waitlist_joined(request: HttpRequest, service_id: int) -> HttpResponse:
    service = get_object_or_404(selectors.services_active(), pk=service_id)
    return render(
        request,
        "appointments/waitlist_joined.html",
        {
            "service": service,
            "duration": _offer_duration(),
            "waitlist_days": settings.SPREEKUUR_WAITLIST_DAYS,
        },
    )


@rate_limited("manage", "SPREEKUUR_RATE_MANAGE")
@never_cache
@require_http_methods(["GET", "POST"])
def waitlist_offer(request: HttpRequest, token: str) -> HttpResponse:
    """The page an offer's link opens: the time, how long it is held, take it or not."""
    entry = waitlist.waitlist_offer_by_token(token=token)
    if entry is None:
        raise Http404
    if request.method == "POST":
        form = WaitlistAnswerForm(request.POST)
        if not form.is_valid():
            raise Http404
        try:
            if form.cleaned_data["answer"] == "accept":
                held = waitlist.waitlist_accept(
                    entry=entry, release=request.session.get(SESSION_HOLDS, [])
                )
                request.session[SESSION_HOLDS] = [str(held.public_id)]
                return redirect("appointments:intake", public_id=held.public_id)
            waitlist.waitlist_decline(entry=entry)
        except waitlist.OfferUnavailable:
            raise Http404 from None
        messages.success(
            request,
            _(
                "Je hebt de tijd niet genomen. Hij gaat naar de volgende op de wachtlijst. "
                "Je staat zelf niet meer op de wachtlijst."
            ),
        )
        return redirect("appointments:home")
    offer = entry.offer
    return render(
        request,
        "appointments/waitlist_offer.html",
        {"entry": entry, "hold": offer, "slot": offer.slot, "token": token},
    )


# --- Hold extension (WCAG 2.2.1) ---------------------------------------------------


@rate_limited("extend", "SPREEKUUR_RATE_BOOK", method="POST")
@never_cache
@require_http_methods(["GET", "POST"])
def hold_extend(request: HttpRequest, public_id) -> HttpResponse:
    """'Geef me 10 minuten extra': more time for the intake, without JavaScript too.

    The button is a second submit button of the intake form (`formaction` here,
    `formnovalidate`), so what the client typed arrives too: the intake page is
    drawn again with those answers, unchecked and without error messages.
    """
    if request.method == "GET":
        return redirect("appointments:intake", public_id=public_id)
    allowed = request.session.get(SESSION_HOLDS, [])
    held = selectors.hold_by_public_id(public_id=public_id, allowed=allowed)
    if held is None:
        raise Http404
    if held.status not in (Booking.Status.HELD, Booking.Status.EXPIRED):
        return render(request, "appointments/already_booked.html", status=409)
    extended = refused = taken = False
    try:
        services.hold_extend(hold_public_id=held.public_id)
        extended = True
    except services.HoldNotExtendable:
        refused = True
    except services.HoldExpired:
        taken = True
    held = selectors.hold_by_public_id(public_id=public_id, allowed=allowed)
    now = timezone.now()
    alternatives = selectors.slots_nearest_free(slot=held.slot, now=now) if taken else ()
    form = IntakeForm(
        request.POST,
        questions=selectors.intake_questions_for_service(service=held.slot.service),
        alternatives=alternatives,
    )
    # Keep what was typed, but judge nothing yet: the client only asked for time.
    form._errors = ErrorDict()
    return render(
        request,
        "appointments/intake.html",
        {
            "hold": held,
            "slot": held.slot,
            "service": held.slot.service,
            "form": form,
            "lost": taken or not held.hold_is_live(now),
            "extended": extended,
            "extend_refused": refused,
        },
        status=409 if taken else 200,
    )


# --- Pages with information ------------------------------------------------------------


class InformationPage(TemplateView):
    """A page of plain text: how confidentiality works, privacy, accessibility, the visit."""

    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            retention_days=settings.SPREEKUUR_RETENTION_DAYS,
            hold_minutes=settings.SPREEKUUR_HOLD_MINUTES,
            phone=settings.SPREEKUUR_PHONE,
            phone_link="".join(c for c in settings.SPREEKUUR_PHONE if c.isdigit() or c == "+"),
        )
        return context


confidentiality = InformationPage.as_view(template_name="pages/confidentiality.html")
privacy = InformationPage.as_view(template_name="pages/privacy.html")
accessibility = InformationPage.as_view(template_name="pages/accessibility.html")
what_happens = InformationPage.as_view(template_name="pages/what_happens.html")
