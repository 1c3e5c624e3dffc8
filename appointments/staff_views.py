"""Staff pages inside the admin site: day agenda, booking on behalf, export, dashboard, rota.

Every view is wrapped in `site.admin_view` (see `urls`), so a session without a
verified second factor never reaches one; each view then asks for the
permission of its task (roles.py) and answers 403 without it. A clinician who
may not see all appointments (`view_all_bookings`) sees and changes only the
appointments of the clinician linked to their own account.

Every change of an appointment, every booking on behalf and every export is
written to the access log (NEN 7513), without the data itself.

Views stay thin: a form, one selector or service, a redirect. Pages that show a
secret or a result once (booking on behalf, slot generation) answer the POST
directly instead of redirecting, so the manage token is never stored.

URL names (namespace "admin"): staff_agenda, staff_agenda_booking,
staff_agenda_cancel, staff_agenda_export, staff_book, staff_book_details,
staff_dashboard, staff_generate_slots.
"""

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import update_wrapper
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, services
from .access_log import access_log_record
from .forms import SlotChoiceForm
from .models import AccessLogEntry, Booking, Slot
from .notifications.outbox import contact_channel
from .roles import sees_all_bookings
from .staff_forms import (
    AgendaForm,
    AttendanceForm,
    BookSearchForm,
    GenerateSlotsForm,
    StaffBookingForm,
)
from .views import hold_for_confirm

# The holds this staff member's browser made on the "book on behalf" page.
SESSION_STAFF_HOLDS = "staff_holds"


def urls(site) -> list:
    """The staff pages, each behind `site.admin_view` (staff, active, second factor)."""

    def page(view):
        def bound(request, *args, **kwargs):
            return view(request, *args, site=site, **kwargs)

        return site.admin_view(update_wrapper(bound, view))

    return [
        path("agenda/", page(agenda), name="staff_agenda"),
        path("agenda/export.csv", page(agenda_export), name="staff_agenda_export"),
        path(
            "agenda/afspraak/<int:booking_id>/",
            page(agenda_attendance),
            name="staff_agenda_booking",
        ),
        path(
            "agenda/afspraak/<int:booking_id>/afzeggen/",
            page(agenda_cancel),
            name="staff_agenda_cancel",
        ),
        path("afspraak-maken/", page(book), name="staff_book"),
        path("afspraak-maken/<uuid:public_id>/", page(book_details), name="staff_book_details"),
        path("dashboard/", page(dashboard), name="staff_dashboard"),
        path("rooster/genereren/", page(generate_slots), name="staff_generate_slots"),
    ]


# --- Shared ------------------------------------------------------------------------


def _require(request: HttpRequest, *permissions: str) -> None:
    if not request.user.has_perms(permissions):
        raise PermissionDenied


def _clinician_user(request: HttpRequest):
    """The user whose own appointments are all this user may see; None: may see all."""
    if sees_all_bookings(request.user):
        return None
    return request.user


def _visible_bookings(request: HttpRequest):
    bookings = Booking.objects.select_related("slot__clinician", "slot__location")
    user = _clinician_user(request)
    return bookings if user is None else bookings.filter(slot__clinician__user=user)


STAFF_PAGES = [
    ("admin:staff_agenda", "appointments.view_booking", gettext_lazy("Dagagenda")),
    ("admin:staff_book", "appointments.book_on_behalf", gettext_lazy("Afspraak maken")),
    ("admin:staff_dashboard", "appointments.view_dashboard", gettext_lazy("Dashboard")),
    ("admin:staff_generate_slots", "appointments.add_slot", gettext_lazy("Rooster genereren")),
]


def _context(request: HttpRequest, site, *, title: str, current: str, **extra) -> dict:
    links = [
        {"url": reverse(name), "label": label, "current": name == current}
        for name, permission, label in STAFF_PAGES
        if request.user.has_perm(permission)
    ]
    return {**site.each_context(request), "title": title, "staff_links": links, **extra}


# --- Day agenda --------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaRow:
    booking: Booking
    can_mark_attended: bool
    can_mark_no_show: bool
    can_cancel: bool


@dataclass(frozen=True)
class AgendaChoice:
    day: date
    location_id: int | None
    clinician_id: int | None

    def query(self, **changes) -> str:
        params = {
            "dag": changes.get("day", self.day).isoformat(),
            "locatie": self.location_id or "",
            "zorgverlener": self.clinician_id or "",
        }
        return urlencode({key: value for key, value in params.items() if value})


def _agenda_choice(request: HttpRequest) -> tuple[AgendaForm, AgendaChoice]:
    data = request.GET.copy()
    # Without a day asked for, the form shows (and the page lists) today.
    if not data.get("dag"):
        data["dag"] = timezone.localdate().isoformat()
    form = AgendaForm(data, clinician_user=_clinician_user(request))
    form.is_valid()
    # A filter that does not validate is left out; the others still apply.
    valid = form.cleaned_data
    location, clinician = valid.get("locatie"), valid.get("zorgverlener")
    day = valid.get("dag")
    # The page links to the day before and after; the first and last day a date can
    # hold (0001-01-01, 9999-12-31) have no such neighbour, so they are left out too.
    if day in (date.min, date.max):
        day = None
    choice = AgendaChoice(
        day=day or timezone.localdate(),
        location_id=location.pk if location else None,
        clinician_id=clinician.pk if clinician else None,
    )
    return form, choice


def _agenda_url(choice: AgendaChoice) -> str:
    return f"{reverse('admin:staff_agenda')}?{choice.query()}"


@require_http_methods(["GET"])
def agenda(request: HttpRequest, *, site) -> HttpResponse:
    _require(request, "appointments.view_booking")
    form, choice = _agenda_choice(request)
    bookings = selectors.agenda_bookings(
        day=choice.day,
        location_id=choice.location_id,
        clinician_id=choice.clinician_id,
        clinician_user=_clinician_user(request),
    )
    now = timezone.now()
    may_change = request.user.has_perm("appointments.change_booking")
    # Attendance can be recorded from the appointment's day on, as the service allows.
    day_has_come = choice.day <= timezone.localdate(now)
    rows = []
    for booking in bookings:
        is_appointment = booking.status in Booking.APPOINTMENT_STATUSES
        markable = may_change and is_appointment and day_has_come
        rows.append(
            AgendaRow(
                booking=booking,
                can_mark_attended=markable and booking.status != Booking.Status.ATTENDED,
                can_mark_no_show=markable and booking.status != Booking.Status.NO_SHOW,
                can_cancel=may_change
                and booking.status == Booking.Status.CONFIRMED
                and booking.slot.start > now,
            )
        )
    export_allowed = request.user.has_perm("appointments.export_daylist")
    return render(
        request,
        "admin/staff/agenda.html",
        _context(
            request,
            site,
            title=_("Dagagenda"),
            current="admin:staff_agenda",
            form=form,
            choice=choice,
            rows=rows,
            may_change=may_change,
            query=choice.query(),
            previous_query=choice.query(day=choice.day - timedelta(days=1)),
            next_query=choice.query(day=choice.day + timedelta(days=1)),
            today_query=choice.query(day=timezone.localdate(now)),
            is_today=choice.day == timezone.localdate(now),
            export_url=(
                f"{reverse('admin:staff_agenda_export')}?{choice.query()}" if export_allowed else ""
            ),
        ),
    )


@require_POST
def agenda_attendance(request: HttpRequest, booking_id: int, *, site) -> HttpResponse:
    _require(request, "appointments.view_booking", "appointments.change_booking")
    booking = get_object_or_404(_visible_bookings(request), pk=booking_id)
    _form, choice = _agenda_choice(request)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        raise Http404
    attended = form.cleaned_data["actie"] == AttendanceForm.ATTENDED
    try:
        services.booking_mark_attendance(booking=booking, attended=attended, now=timezone.now())
    except services.BookingNotChangeable:
        messages.error(
            request,
            _("%(reference)s: aanwezigheid kan pas vanaf de dag van de afspraak worden ingevuld.")
            % {"reference": booking.reference},
        )
    else:
        access_log_record(
            request=request,
            action=AccessLogEntry.Action.ATTENDANCE,
            booking_reference=booking.reference,
            detail=form.cleaned_data["actie"],
        )
        text = _("%(reference)s is gekomen.") if attended else _("%(reference)s is niet gekomen.")
        messages.success(request, text % {"reference": booking.reference})
    return redirect(_agenda_url(choice))


@require_http_methods(["GET", "POST"])
def agenda_cancel(request: HttpRequest, booking_id: int, *, site) -> HttpResponse:
    """Cancel an appointment for the client, after a confirmation; they get a notice."""
    _require(request, "appointments.view_booking", "appointments.change_booking")
    booking = get_object_or_404(_visible_bookings(request), pk=booking_id)
    _form, choice = _agenda_choice(request)
    if request.method == "POST":
        try:
            services.booking_cancel(booking=booking, by_staff=True)
        except services.BookingNotChangeable:
            messages.error(
                request,
                _("%(reference)s kan niet meer worden afgezegd.")
                % {"reference": booking.reference},
            )
        else:
            access_log_record(
                request=request,
                action=AccessLogEntry.Action.CANCEL,
                booking_reference=booking.reference,
            )
            messages.success(
                request,
                _("%(reference)s is afgezegd. De tijd is weer vrij.")
                % {"reference": booking.reference},
            )
        return redirect(_agenda_url(choice))
    changeable = booking.status == Booking.Status.CONFIRMED and booking.slot.start > timezone.now()
    return render(
        request,
        "admin/staff/agenda_cancel.html",
        _context(
            request,
            site,
            title=_("Afspraak afzeggen"),
            current="admin:staff_agenda",
            booking=booking,
            changeable=changeable,
            client_is_told=contact_channel(booking) is not None,
            query=choice.query(),
        ),
    )


def _csv_cell(value) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@require_http_methods(["GET"])
def agenda_export(request: HttpRequest, *, site) -> HttpResponse:
    """The day list as CSV: who works when, and each appointment's status and source.

    Deliberately left out: intake answers and the triage flag that comes from them,
    the nickname (a personal detail the desk does not need in a file that gets
    e-mailed and printed) and any contact details. What remains identifies no one.
    """
    _require(request, "appointments.export_daylist")
    _form, choice = _agenda_choice(request)
    bookings = selectors.agenda_bookings(
        day=choice.day,
        location_id=choice.location_id,
        clinician_id=choice.clinician_id,
        clinician_user=_clinician_user(request),
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="daglijst-{choice.day:%Y-%m-%d}.csv"'
    response["Cache-Control"] = "no-store"
    # A byte-order mark and semicolons: what a Dutch spreadsheet opens without a wizard.
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    # Fixed column names in any language: other tools may read the file.
    writer.writerow(["datum", "tijd", "locatie", "zorgverlener", "referentie", "status", "bron"])
    rows = 0
    for booking in bookings:
        rows += 1
        start = timezone.localtime(booking.slot.start)
        writer.writerow(
            _csv_cell(cell)
            for cell in (
                f"{start:%Y-%m-%d}",
                f"{start:%H:%M}",
                booking.slot.location.name,
                booking.slot.clinician.display_name,
                booking.reference,
                booking.get_status_display(),
                booking.get_source_display(),
            )
        )
    access_log_record(
        request=request,
        action=AccessLogEntry.Action.EXPORT,
        detail=f"daglijst {choice.day:%Y-%m-%d}: {rows} afspraken",
    )
    return response


# --- Book on behalf ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def book(request: HttpRequest, *, site) -> HttpResponse:
    """Choose a consultation hour and location, see the free times, pick one (a hold)."""
    _require(request, "appointments.book_on_behalf")
    search = BookSearchForm(request.GET or None)
    context = _context(
        request, site, title=_("Afspraak maken voor een cliënt"), current="admin:staff_book"
    )
    week = None
    if search.is_valid():
        service, location = search.cleaned_data["spreekuur"], search.cleaned_data["locatie"]
        if request.method == "POST":
            pick = SlotChoiceForm(request.POST)
            if not pick.is_valid():
                raise Http404
            slot_id = pick.cleaned_data["slot"]
            try:
                held = services.slot_hold(
                    slot_id=slot_id,
                    release=request.session.get(SESSION_STAFF_HOLDS, []),
                    by_staff=True,
                )
            except services.SlotUnavailable:
                request.session[SESSION_STAFF_HOLDS] = []
                slot = get_object_or_404(
                    Slot.objects.select_related("service", "location"), pk=slot_id
                )
                context |= {
                    "search": search,
                    "taken": slot,
                    "nearest": selectors.slots_nearest_free(
                        slot=slot, now=timezone.now(), by_staff=True
                    ),
                    "search_query": _search_query(service, location),
                }
                return render(request, "admin/staff/book.html", context, status=409)
            request.session[SESSION_STAFF_HOLDS] = [str(held.public_id)]
            return redirect("admin:staff_book_details", public_id=held.public_id)
        week = selectors.week_of_free_times(
            service=service,
            location=location,
            monday=search.cleaned_data["week"],
            now=timezone.now(),
            by_staff=True,
        )
        context["search_query"] = _search_query(service, location)
    elif request.method == "POST":
        raise Http404
    context |= {"search": search, "week": week}
    return render(request, "admin/staff/book.html", context)


def _search_query(service, location) -> str:
    return urlencode({"spreekuur": service.pk, "locatie": location.pk})


@require_http_methods(["GET", "POST"])
def book_details(request: HttpRequest, public_id, *, site) -> HttpResponse:
    """How the booking came in, a nickname and contact if wanted; then confirm.

    The same services as online: `slot_hold` took the seat, `booking_confirm`
    makes it an appointment, so the same rules and the same database guarantee
    hold. The answer to a successful POST shows the reference code and manage
    link once; they are not stored anywhere the page could show them again.
    """
    _require(request, "appointments.book_on_behalf")
    held = selectors.hold_by_public_id(
        public_id=public_id, allowed=request.session.get(SESSION_STAFF_HOLDS, [])
    )
    if held is None:
        raise Http404
    context = _context(
        request, site, title=_("Afspraak maken voor een cliënt"), current="admin:staff_book"
    )
    if held.status not in (Booking.Status.HELD, Booking.Status.EXPIRED):
        messages.info(request, _("Deze afspraak is al gemaakt."))
        return redirect("admin:staff_book")
    now = timezone.now()
    lost = held.status == Booking.Status.EXPIRED or (
        request.method == "POST" and "alternative_slot" in request.POST
    )
    alternatives = (
        selectors.slots_nearest_free(slot=held.slot, now=now, by_staff=True) if lost else ()
    )
    form = StaffBookingForm(
        request.POST if request.method == "POST" else None, alternatives=alternatives
    )
    status = 409 if lost and request.method == "POST" else 200
    if request.method == "POST" and form.is_valid():
        try:
            confirmed = _confirm_on_behalf(request, held=held, form=form)
        except services.ContactLimitReached:
            form.add_error(
                "email" if form.cleaned_data.get("contact_channel") == "email" else "phone",
                _("Met dit adres of nummer staan al de meeste afspraken die kunnen."),
            )
        except (services.HoldExpired, services.SlotUnavailable):
            form = StaffBookingForm(
                request.POST,
                alternatives=selectors.slots_nearest_free(
                    slot=held.slot, now=timezone.now(), by_staff=True
                ),
            )
            form.is_valid()
            form.add_error(
                "alternative_slot" if "alternative_slot" in form.fields else None,
                _("Deze tijd is niet meer vrij. Kies een andere tijd; de gegevens blijven staan."),
            )
            status = 409
        else:
            request.session[SESSION_STAFF_HOLDS] = []
            booking = confirmed.booking
            access_log_record(
                request=request,
                action=AccessLogEntry.Action.BOOK,
                booking_reference=booking.reference,
                detail=booking.source,
            )
            manage_path = reverse("appointments:manage", kwargs={"token": confirmed.manage_token})
            context |= {
                "booking": booking,
                "slot": booking.slot,
                "manage_url": settings.SPREEKUUR_BASE_URL + manage_path,
                "message_sent": contact_channel(booking) is not None,
                "agenda_query": AgendaChoice(
                    day=booking.slot.date, location_id=booking.slot.location_id, clinician_id=None
                ).query(),
            }
            return render(request, "admin/staff/book_done.html", context)
    context |= {
        "hold": held,
        "slot": held.slot,
        "form": form,
        "lost": lost,
        "search_query": _search_query(held.slot.service, held.slot.location),
    }
    return render(request, "admin/staff/book_details.html", context, status=status)


def _confirm_on_behalf(
    request: HttpRequest, *, held: Booking, form: StaffBookingForm
) -> services.ConfirmedBooking:
    return services.booking_confirm(
        hold_public_id=hold_for_confirm(
            request, held=held, form=form, session_key=SESSION_STAFF_HOLDS, by_staff=True
        ),
        nickname=form.cleaned_data["nickname"],
        language=form.cleaned_data["language"],
        source=form.cleaned_data["source"],
        contact=form.contact_details(),
    )


# --- Dashboard ---------------------------------------------------------------------

WEEKS_BACK = 12  # including the current week
WEEKS_AHEAD = 4

# Chart geometry, in SVG user units.
CHART_WIDTH, CHART_HEIGHT = 640, 280
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 632, 24, 236


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    centre: float
    value: int
    value_y: float
    week_number: int
    title: str
    future: bool
    current: bool


@dataclass(frozen=True)
class GridLine:
    y: float
    value: int


def _nice_ceiling(value: int) -> int:
    """The smallest of 4, 8, 10, 20, 40, 50, 100, … that is at least `value`."""
    if value <= 4:
        return 4
    magnitude = 1
    while True:
        for step in (1, 2, 4, 5, 8, 10):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def _week_chart(weeks: list[selectors.WeekFigures], today: date) -> dict:
    """Bars and grid lines for the weekly chart; the template only places them."""
    top = _nice_ceiling(max((week.appointments for week in weeks), default=0))
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot_width = (PLOT_RIGHT - PLOT_LEFT) / len(weeks)
    this_monday = selectors.monday_of(today)
    bars = []
    for index, week in enumerate(weeks):
        height = plot_height * week.appointments / top
        x = PLOT_LEFT + index * slot_width + slot_width * 0.15
        label = formats.date_format(week.monday, "j b")
        bars.append(
            Bar(
                x=round(x, 1),
                y=round(PLOT_BOTTOM - height, 1),
                width=round(slot_width * 0.7, 1),
                height=round(height, 1),
                centre=round(x + slot_width * 0.35, 1),
                value=week.appointments,
                value_y=round(PLOT_BOTTOM - height - 5, 1),
                week_number=week.monday.isocalendar().week,
                title=_("Week %(number)d (vanaf %(monday)s): %(count)d afspraken")
                % {
                    "number": week.monday.isocalendar().week,
                    "monday": label,
                    "count": week.appointments,
                },
                future=week.monday > this_monday,
                current=week.monday == this_monday,
            )
        )
    grid = [
        GridLine(y=round(PLOT_BOTTOM - plot_height * step / 4, 1), value=top * step // 4)
        for step in range(5)
    ]
    return {
        "bars": bars,
        "grid": grid,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_left": PLOT_LEFT,
        "plot_right": PLOT_RIGHT,
        "plot_bottom": PLOT_BOTTOM,
        "axis_label_y": PLOT_BOTTOM + 16,
        "axis_title_y": PLOT_BOTTOM + 36,
    }


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{formats.number_format(value * 100, 0)}%"


@dataclass(frozen=True)
class RateRow:
    label: str
    seats_offered: int
    seats_booked: int
    fill_rate: str
    attended: int
    no_show: int
    no_show_rate: str


def _rate_rows(figures: list[selectors.RateFigures]) -> list[RateRow]:
    return [
        RateRow(
            label=f.label,
            seats_offered=f.seats_offered,
            seats_booked=f.seats_booked,
            fill_rate=_percent(f.fill_rate),
            attended=f.attended,
            no_show=f.no_show,
            no_show_rate=_percent(f.no_show_rate),
        )
        for f in figures
    ]


@require_http_methods(["GET"])
def dashboard(request: HttpRequest, *, site) -> HttpResponse:
    """Figures without personal data: appointments per week, fill and no-show rates."""
    _require(request, "appointments.view_dashboard")
    today = timezone.localdate()
    first_monday = selectors.monday_of(today) - timedelta(weeks=WEEKS_BACK - 1)
    weeks = selectors.bookings_per_week(first_monday=first_monday, weeks=WEEKS_BACK + WEEKS_AHEAD)
    ahead = request.GET.get("periode") == "komend"
    if ahead:
        first, last = today + timedelta(days=1), today + timedelta(weeks=WEEKS_AHEAD)
    else:
        first, last = first_monday, today
    rates = selectors.dashboard_rates(first=first, last=last, total_label=_("Totaal"))
    return render(
        request,
        "admin/staff/dashboard.html",
        _context(
            request,
            site,
            title=_("Dashboard"),
            current="admin:staff_dashboard",
            weeks=weeks,
            chart=_week_chart(weeks, today),
            first_week=weeks[0],
            last_week=weeks[-1],
            rates_ahead=ahead,
            rates_first=first,
            rates_last=last,
            per_service=_rate_rows(rates.per_service),
            per_location=_rate_rows(rates.per_location),
            total=_rate_rows([rates.total])[0],
        ),
    )


# --- Rota: generate slots ----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def generate_slots(request: HttpRequest, *, site) -> HttpResponse:
    """Run the slot generation now and show what it did, the conflicts first.

    A rule change never silently drops a booked slot: such slots are listed
    with their appointments, for staff to move or cancel them.
    """
    _require(request, "appointments.add_slot")
    form = GenerateSlotsForm(request.POST if request.method == "POST" else None)
    report = conflicts = None
    if request.method == "POST" and form.is_valid():
        now = timezone.now()
        report = services.slots_generate(
            start=timezone.localdate(now), weeks=form.cleaned_data["weeks"], now=now
        )
        conflicts = selectors.slot_conflicts(
            slot_ids=[slot.pk for slot in report.conflicts], now=now
        )
    return render(
        request,
        "admin/staff/generate_slots.html",
        _context(
            request,
            site,
            title=_("Rooster genereren"),
            current="admin:staff_generate_slots",
            form=form,
            report=report,
            conflicts=conflicts,
        ),
    )
