"""The staff backend under /beheer/: configuration, slots and appointments.

Each ModelAdmin stays thin: it lists, filters and edits, and leaves the booking
rule to `services.py`. The privacy rules that shape it:

- every person sees only what their role needs. The groups of `roles.py` give the
  model permissions; the object-level rule is here: without
  `appointments.view_all_bookings` (a clinician) a person sees only the slots,
  appointments and messages of the clinician linked to their account, in lists,
  search, actions and detail pages alike; anything else is a 404;
- intake answers, the detail of a triage flag and the staff note are shown only to
  holders of `appointments.view_intake`, on the appointment's page, read in one
  place (`BookingAdmin.intake_answers`). `IntakeAnswer` is not registered;
- appointments are found by their reference code only, never by a personal field;
- the hash of the manage link is never shown, and pages that list what a delete
  would touch name no appointment.

Times are stored in UTC; with USE_TZ Django shows them in Europe/Amsterdam.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import NestedObjects
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import router
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from .access_log import access_log_record
from .models import (
    AccessLogEntry,
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
    WaitlistEntry,
)
from .roles import CLINICIAN, sees_all_bookings
from .selectors import seat_taken_q

VIEW_INTAKE = "appointments.view_intake"

# Client data: a page that lists what a delete would touch counts these, never names them.
CLIENT_DATA = (Booking, IntakeAnswer, Message, WaitlistEntry)


def _local_start(start) -> str:
    return date_format(timezone.localtime(start), "D d-m-Y H:i")


def reads_intake(user) -> bool:
    return user.has_perm(VIEW_INTAKE)


class OwnAppointmentsOnly:
    """Without `view_all_bookings`, only the rows of the user's own clinician.

    `clinician_path` leads from the model to its Clinician. A user without a
    linked Clinician sees nothing. For a user who may view the model, a row
    outside the scope is a 404 on every detail page, as a missing row is
    (Django would redirect with "does not exist"); one who may not gets the 403
    that follows.
    """

    clinician_path: str

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_all_bookings(request.user):
            return queryset
        return queryset.filter(**{f"{self.clinician_path}__user": request.user})

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and self.has_view_or_change_permission(request):
            raise Http404(gettext("Niet gevonden."))
        return obj


class NoClientDataOnDeletePages:
    """A delete page lists what stops the delete: client data is counted, not named.

    Deleting a service or a question that has appointments or answers is refused
    (PROTECT); Django would list each of them by its reference, to people (the
    functional admin) who may see no client data at all.
    """

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        if not protected:
            return deleted, model_count, perms_needed, protected
        collector = NestedObjects(using=router.db_for_write(self.model))
        collector.collect(objs)
        if not any(isinstance(obj, CLIENT_DATA) for obj in collector.protected):
            return deleted, model_count, perms_needed, protected
        counts = Counter(type(obj)._meta.verbose_name_plural for obj in collector.protected)
        summary = [f"{capfirst(name)}: {count}" for name, count in sorted(counts.items())]
        return deleted, model_count, perms_needed, summary


class StrictLookups:
    """Only the lookups the page offers, and a date hierarchy that cannot be broken.

    Django lets a changelist URL filter on any field (?manage_token_hash__startswith=,
    ?answers__isnull=), which tells things about a record that its page does
    not show. Here only the list filters, search and date hierarchy apply; other
    lookups are refused (400). An impossible year in the date hierarchy gives
    Django's own "wrong filter" answer instead of a 500.
    """

    def lookup_allowed(self, lookup, value, request):
        offered = {
            f if isinstance(f, str) else getattr(f, "parameter_name", "") for f in self.list_filter
        }
        if self.date_hierarchy:
            offered.add(self.date_hierarchy)
        field = lookup.split("__")[0] if "__" in lookup else lookup
        if (
            lookup not in offered
            and not any(lookup == name or lookup.startswith(f"{name}__") for name in offered)
            and field not in offered
        ):
            return False
        return super().lookup_allowed(lookup, value, request)

    def changelist_view(self, request, extra_context=None):
        if self.date_hierarchy:
            ranges = {"year": (1, 9998), "month": (1, 12), "day": (1, 31)}
            for part, (low, high) in ranges.items():
                value = request.GET.get(f"{self.date_hierarchy}__{part}")
                if value is not None and not (value.isdigit() and low <= int(value) <= high):
                    return HttpResponseRedirect(f"{request.path}?e=1")
        return super().changelist_view(request, extra_context)


@admin.register(Location)
class LocationAdmin(NoClientDataOnDeletePages, admin.ModelAdmin):
    list_display = ["name", "address", "postal_code", "city", "active"]
    list_filter = ["active", "city"]
    fieldsets = [
        (None, {"fields": ["name", "address", "postal_code", "city", "active"]}),
        (_("Route en toegang"), {"fields": ["directions_nl", "directions_en"]}),
    ]


@admin.register(Service)
class ServiceAdmin(NoClientDataOnDeletePages, admin.ModelAdmin):
    list_display = [
        "name_nl",
        "name_en",
        "slot_minutes",
        "booking_horizon_days",
        "min_notice_minutes",
        "order",
        "active",
        "question_count",
    ]
    list_filter = ["active"]
    fieldsets = [
        (None, {"fields": ["name_nl", "name_en", "order", "active"]}),
        (
            _("Voor cliënten"),
            {
                "fields": [
                    "description_nl",
                    "description_en",
                    "what_to_bring_nl",
                    "what_to_bring_en",
                ]
            },
        ),
        (
            _("Boeken"),
            {"fields": ["slot_minutes", "booking_horizon_days", "min_notice_minutes"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_question_count=Count("questions"))

    @admin.display(description=_("intakevragen"), ordering="_question_count")
    def question_count(self, obj: Service) -> str:
        url = reverse("admin:appointments_intakequestion_changelist")
        return format_html(
            '<a href="{}?service__id__exact={}">{}</a>', url, obj.pk, obj._question_count
        )


class IntakeChoiceInline(admin.TabularInline):
    model = IntakeChoice
    fields = ["order", "code", "text_nl", "text_en", "acute_risk"]
    prepopulated_fields = {"code": ["text_nl"]}
    extra = 1


@admin.register(IntakeQuestion)
class IntakeQuestionAdmin(NoClientDataOnDeletePages, admin.ModelAdmin):
    list_display = [
        "text_nl",
        "service",
        "kind",
        "order",
        "required",
        "acute_risk_answer",
        "active",
    ]
    list_display_links = ["text_nl"]
    list_filter = ["service", "kind", "required", "active"]
    list_select_related = ["service"]
    ordering = ["service", "order", "id"]
    fieldsets = [
        (None, {"fields": ["service", "kind", "order", "required", "active"]}),
        (_("Tekst"), {"fields": ["text_nl", "text_en", "help_nl", "help_en"]}),
        (_("Triage"), {"fields": ["acute_risk_answer"]}),
    ]
    inlines = [IntakeChoiceInline]


class AvailabilityRuleInline(admin.TabularInline):
    model = AvailabilityRule
    fields = [
        "service",
        "location",
        "weekday",
        "start_time",
        "end_time",
        "slot_minutes",
        "capacity",
        "valid_from",
        "valid_until",
    ]
    extra = 0


@admin.register(Clinician)
class ClinicianAdmin(NoClientDataOnDeletePages, admin.ModelAdmin):
    list_display = ["display_name", "profession", "active"]
    list_filter = ["profession", "active", "services", "locations"]
    search_fields = ["display_name"]
    fields = ["display_name", "profession", "services", "locations", "user", "active"]
    filter_horizontal = ["services", "locations"]
    inlines = [AvailabilityRuleInline]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # The linked account reads this clinician's intake answers. Only who may
        # read every appointment's answers (a team lead) may hand that on; the
        # front desk, which may edit a clinician's week, may not.
        if not (reads_intake(request.user) and sees_all_bookings(request.user)):
            readonly.append("user")
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            # A short list of clinician accounts instead of every account by id.
            kwargs["queryset"] = (
                get_user_model()
                .objects.filter(is_active=True, is_staff=True, groups__name=CLINICIAN)
                .distinct()
                .order_by("username")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(StrictLookups, admin.ModelAdmin):
    list_display = [
        "clinician",
        "weekday",
        "start_time",
        "end_time",
        "service",
        "location",
        "capacity",
        "valid_from",
        "valid_until",
    ]
    list_filter = ["clinician", "service", "location", "weekday"]
    list_select_related = ["clinician", "service", "location"]
    ordering = ["clinician__display_name", "weekday", "start_time"]


@admin.register(Closure)
class ClosureAdmin(StrictLookups, admin.ModelAdmin):
    list_display = ["starts_on", "ends_on", "location", "clinician", "reason"]
    list_filter = ["location", "clinician"]
    list_select_related = ["location", "clinician"]
    date_hierarchy = "starts_on"


@admin.register(Slot)
class SlotAdmin(StrictLookups, OwnAppointmentsOnly, admin.ModelAdmin):
    clinician_path = "clinician"

    list_display = [
        "local_start",
        "clinician",
        "service",
        "location",
        "capacity",
        "seats_taken",
        "blocked",
    ]
    list_filter = ["service", "location", "clinician", "blocked"]
    list_select_related = ["clinician", "service", "location"]
    date_hierarchy = "date"
    actions = ["block", "unblock"]
    fields = [
        "clinician",
        "service",
        "location",
        "start",
        "end",
        "date",
        "capacity",
        "blocked",
        "rule",
    ]

    def get_queryset(self, request):
        # "Taken" means what the booking rule means: appointments and live holds.
        return (
            super()
            .get_queryset(request)
            .annotate(
                _seats_taken=Count(
                    "bookings", filter=seat_taken_q(now=timezone.now(), prefix="bookings__")
                )
            )
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["date", "rule"]
        # Moving a slot would move its appointments without telling anyone.
        return ["clinician", "service", "location", "start", "end", "date", "rule"]

    def save_model(self, request, obj, form, change):
        # `date` is the local date of `start`; staff never type it.
        obj.date = timezone.localdate(obj.start)
        super().save_model(request, obj, form, change)

    @admin.display(description=_("begin"), ordering="start")
    def local_start(self, obj: Slot) -> str:
        return _local_start(obj.start)

    @admin.display(description=_("bezet"), ordering="_seats_taken")
    def seats_taken(self, obj: Slot) -> int:
        return obj._seats_taken

    @admin.action(description=_("Blokkeer de gekozen tijdsloten"), permissions=["change"])
    def block(self, request, queryset):
        count = Slot.objects.filter(pk__in=queryset.values("pk")).update(blocked=True)
        self.message_user(
            request,
            ngettext("%(count)d tijdslot geblokkeerd.", "%(count)d tijdsloten geblokkeerd.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Deblokkeer de gekozen tijdsloten"), permissions=["change"])
    def unblock(self, request, queryset):
        count = Slot.objects.filter(pk__in=queryset.values("pk")).update(blocked=False)
        self.message_user(
            request,
            ngettext(
                "%(count)d tijdslot gedeblokkeerd.", "%(count)d tijdsloten gedeblokkeerd.", count
            )
            % {"count": count},
            messages.SUCCESS,
        )


class BookingDayFilter(admin.SimpleListFilter):
    """The day of the appointment: yesterday to a week ahead, or any ?dag=YYYY-MM-DD."""

    title = _("dag")
    parameter_name = "dag"

    def lookups(self, request, model_admin):
        today = timezone.localdate()
        days = [today + timedelta(days=offset) for offset in range(-1, 8)]
        labels = {today: _("vandaag"), today + timedelta(days=1): _("morgen")}
        return [(day.isoformat(), labels.get(day) or date_format(day, "D j b")) for day in days]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            day = date.fromisoformat(self.value())
        except ValueError as error:
            raise IncorrectLookupParameters(error) from error
        return queryset.filter(slot__date=day)


class MessageInline(admin.TabularInline):
    """What went out to the client and when; never the text or the address."""

    model = Message
    fk_name = "booking"
    fields = ["kind", "channel", "status", "due_at", "attempts", "sent_at", "last_error"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["due_at", "pk"]

    def has_add_permission(self, request, obj=None):
        return False


@dataclass(frozen=True)
class IntakeLine:
    """One answered intake question as staff read it: Dutch texts, never codes."""

    question: str
    answers: tuple[str, ...]
    acute_risk: bool


def _answer_texts(answer: IntakeAnswer) -> tuple[str, ...]:
    question = answer.question
    if question.kind in (IntakeQuestion.Kind.SINGLE_CHOICE, IntakeQuestion.Kind.MULTIPLE_CHOICE):
        # Choice codes are stored one per line.
        texts = {choice.code: choice.text_nl for choice in question.choices.all()}
        return tuple(
            texts.get(code) or gettext("%(code)s (deze keuze bestaat niet meer)") % {"code": code}
            for code in answer.value.splitlines()
            if code
        )
    if question.kind == IntakeQuestion.Kind.YES_NO:
        # In Dutch, like the question and choice texts beside it.
        return ({"yes": "ja", "no": "nee"}.get(answer.value, answer.value),)
    return (answer.value,)


@admin.register(Booking)
class BookingAdmin(StrictLookups, OwnAppointmentsOnly, admin.ModelAdmin):
    """Appointments: all of them with `view_all_bookings`, else a clinician's own.

    The change page (templates/admin/appointments/booking/change_form.html) shows
    holders of `view_intake` the triage flag first, with the answer that raised
    it, then the intake answers, the appointment with the staff note, and the
    messages. Everyone else sees neither answers nor note (see `_detail_context`).
    """

    clinician_path = "slot__clinician"
    list_display = [
        "reference",
        "local_start",
        "slot__service",
        "slot__location",
        "status",
        "source",
        "acute_risk",
        "created_at",
    ]
    list_display_links = ["reference", "local_start"]
    list_filter = [
        BookingDayFilter,
        "status",
        "source",
        "acute_risk",
        "slot__service",
        "slot__location",
        "slot__clinician",
    ]
    list_select_related = ["slot__service", "slot__location", "slot__clinician"]
    # The reference only: a search on a personal field would be a search in
    # personal data, which the access log rules keep for a later, logged view.
    search_fields = ["reference"]
    search_help_text = _("Zoek op referentiecode.")

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            # NEN 7513: a search is a look at client data. The term is a reference
            # (the only searchable field); one match names its booking.
            found = list(results.values_list("reference", flat=True)[:2])
            access_log_record(
                request=request,
                action=AccessLogEntry.Action.SEARCH,
                booking_reference=found[0] if len(found) == 1 else "",
                detail=f"{len(found) if len(found) < 2 else '2+'} gevonden",
            )
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and form.changed_data:
            # Which fields changed, never their values.
            access_log_record(
                request=request,
                action=AccessLogEntry.Action.CHANGE,
                booking_reference=obj.reference or "",
                detail=", ".join(sorted(form.changed_data))[:200],
            )

    readonly_fields = [
        "reference",
        "slot",
        "acute_risk",
        "contact_channel",
        "public_id",
        "seat",
        "held_until",
        "sequence",
        "created_at",
        "confirmed_at",
        "cancelled_at",
        "updated_at",
    ]

    inlines = [MessageInline]

    def get_fieldsets(self, request, obj=None):
        appointment = (None, {"fields": ["reference", "slot", "status", "acute_risk"]})
        note = (_("Notitie"), {"fields": ["staff_note"]})
        client = (_("Cliënt"), {"fields": ["nickname", "language", "source", "contact_channel"]})
        system = (
            _("Systeem"),
            {
                "classes": ["collapse"],
                "fields": [
                    "public_id",
                    "seat",
                    "held_until",
                    "sequence",
                    "created_at",
                    "confirmed_at",
                    "cancelled_at",
                    "updated_at",
                ],
            },
        )
        if reads_intake(request.user):
            return [appointment, note, client, system]
        return [appointment, client, system]

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        # Not in the fieldsets either; this keeps a posted note out of the form
        # should a fieldset ever name it.
        if not reads_intake(request.user):
            exclude.append("staff_note")
        return exclude

    def has_add_permission(self, request):
        # A booking takes a seat of its slot; only the booking services may do
        # that (booking on behalf of a caller comes with the staff backend).
        return False

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        # Between the appointment statuses a seat stays taken; every other change
        # (cancel, hold, expire) frees or takes a seat and belongs to a service.
        if obj is None or not obj.is_appointment:
            readonly.append("status")
        # A clinician records attendance and a note; the client's details are
        # the front desk's.
        if not sees_all_bookings(request.user):
            readonly += ["nickname", "language", "source"]
        return readonly

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "nickname":
            # Encrypted, so a text column, but still one short line.
            kwargs["widget"] = forms.TextInput(attrs={"maxlength": 50, "size": 30})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            kwargs["choices"] = [
                (value, label)
                for value, label in Booking.Status.choices
                if value in Booking.APPOINTMENT_STATUSES
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.display(description=_("tijd"), ordering="slot__start")
    def local_start(self, obj: Booking) -> str:
        return _local_start(obj.slot.start)

    def intake_answers(self, request, booking: Booking) -> list[IntakeLine]:
        """The booking's intake answers: the only place the admin reads them."""
        if not reads_intake(request.user):
            raise PermissionDenied
        # NEN 7513: every read is logged: who, on whose behalf, when, which
        # booking, from where; never the answers themselves.
        access_log_record(
            request=request,
            action=AccessLogEntry.Action.VIEW_INTAKE,
            booking_reference=booking.reference or "",
        )
        answers = (
            IntakeAnswer.objects.filter(booking=booking)
            .select_related("question")
            .prefetch_related("question__choices")
            .order_by("question__order", "question_id")
        )
        return [
            IntakeLine(
                question=answer.question.text_nl,
                answers=_answer_texts(answer),
                acute_risk=answer.acute_risk,
            )
            for answer in answers
        ]

    def _detail_context(self, request, booking: Booking) -> dict:
        """What the change page shows above the fields: the triage flag, the answers."""
        crisis_help = gettext(
            "Crisishulp: 113 Zelfmoordpreventie, bel 113 of gratis 0800-0113. "
            "Bij direct gevaar: 112."
        )
        if reads_intake(request.user):
            lines = self.intake_answers(request, booking)
            acute = [line for line in lines if line.acute_risk]
            triage = None
            if booking.acute_risk:
                triage = {
                    "heading": gettext("Let op: acuut risico"),
                    "text": gettext("Bij de intake aangegeven dat:")
                    if acute
                    else gettext(
                        "Bij de intake is een antwoord gegeven dat acuut risico betekent; "
                        "de antwoorden zijn niet meer bewaard."
                    ),
                    "lines": acute,
                    "advice": gettext("Bespreek dit als eerste.") + " " + crisis_help,
                }
            return {
                "triage": triage,
                "intake_lines": lines,
                "intake_heading": gettext("Intake-antwoorden"),
                "intake_empty": gettext("Geen intake-antwoorden (niet ingevuld of verwijderd)."),
            }
        # The front desk answers the phone and sees who walks in, so it sees that
        # a flag exists (yes/no, also in the list and the day agenda) and whom to
        # route the client to; not which question or answer raised it, and no
        # answers or note at all: "no access to intake answers".
        triage = None
        if booking.acute_risk:
            triage = {
                "heading": gettext("Let op: acuut risico"),
                "text": gettext(
                    "Bij de intake is een antwoord gegeven dat acuut risico betekent. "
                    "Belt of komt deze cliënt? Verbind meteen door met de zorgverlener "
                    "van dienst."
                ),
                "lines": [],
                "advice": crisis_help,
            }
        return {"triage": triage, "intake_lines": None}

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(self._detail_context(request, obj))
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Message)
class MessageAdmin(StrictLookups, OwnAppointmentsOnly, admin.ModelAdmin):
    """The outbox. Filter on status "mislukt" for the messages that did not go out.

    A clinician sees the messages of their own appointments only, so no waitlist
    messages; the action needs `change_message`, which no clinician has.
    """

    clinician_path = "booking__slot__clinician"

    list_display = [
        "due_at",
        "kind",
        "channel",
        "status",
        "attempts",
        "last_error",
        "sent_at",
        "booking_reference",
    ]
    list_filter = ["status", "kind", "channel"]
    list_select_related = ["booking"]
    search_fields = ["booking__reference"]
    search_help_text = _("Zoek op referentiecode.")
    date_hierarchy = "due_at"
    actions = ["send_again"]
    fields = [
        "booking",
        "waitlist_entry",
        "kind",
        "channel",
        "status",
        "due_at",
        "appointment_start",
        "attempts",
        "claimed_until",
        "send_started_at",
        "last_error",
        "sent_at",
        "provider_id",
        "public_id",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("referentie"), ordering="booking__reference")
    def booking_reference(self, obj: Message) -> str:
        return obj.booking.reference if obj.booking else "–"

    @admin.action(
        description=_("Verstuur de gekozen mislukte berichten opnieuw"), permissions=["change"]
    )
    def send_again(self, request, queryset):
        count = queryset.filter(status=Message.Status.FAILED).update(
            status=Message.Status.PENDING, attempts=0, due_at=timezone.now(), last_error=""
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d bericht staat klaar om opnieuw te versturen.",
                "%(count)d berichten staan klaar om opnieuw te versturen.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(StrictLookups, admin.ModelAdmin):
    """Who waits for which consultation hour; contact details are not shown."""

    list_display = ["created_at", "service", "location", "status", "contact_channel", "offers_made"]
    list_filter = ["status", "service", "location"]
    list_select_related = ["service", "location"]
    fields = [
        "service",
        "location",
        "status",
        "contact_channel",
        "language",
        "offer",
        "offers_made",
        "created_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(StrictLookups, admin.ModelAdmin):
    """The access log (NEN 7513): read-only for everyone, team leads filter and print it.

    When a client asks who looked at their data, filter on their reference and
    print the list.
    """

    list_display = [
        "at",
        "actor_username",
        "on_behalf_of",
        "action",
        "booking_reference",
        "result",
        "ip_address",
        "detail",
    ]
    list_filter = ["action", "result", "actor_username"]
    search_fields = ["=booking_reference", "=actor_username"]
    search_help_text = _("Zoek op referentiecode of gebruikersnaam (precies).")
    date_hierarchy = "at"
    list_per_page = 200

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
