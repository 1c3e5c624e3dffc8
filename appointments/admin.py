"""The staff backend under /beheer/: configuration, slots and appointments.

Each ModelAdmin stays thin: it lists, filters and edits, and leaves the booking
rule to `services.py`. Three privacy rules shape it:

- intake answers are not shown here at all (`IntakeAnswer` is not registered and
  no inline shows it); clinicians get them, with an access log, in a later step;
- appointments are found by their reference code only, never by a personal field;
- the hash of the manage link is never shown.

Times are stored in UTC; with USE_TZ Django shows them in Europe/Amsterdam.
"""

from datetime import date, timedelta

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import (
    AvailabilityRule,
    Booking,
    Clinician,
    Closure,
    IntakeChoice,
    IntakeQuestion,
    Location,
    Message,
    Service,
    Slot,
    WaitlistEntry,
)
from .selectors import seat_taken_q


def _local_start(start) -> str:
    return date_format(timezone.localtime(start), "D d-m-Y H:i")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "postal_code", "city", "active"]
    list_filter = ["active", "city"]
    fieldsets = [
        (None, {"fields": ["name", "address", "postal_code", "city", "active"]}),
        (_("Route en toegang"), {"fields": ["directions_nl", "directions_en"]}),
    ]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
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
class IntakeQuestionAdmin(admin.ModelAdmin):
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
class ClinicianAdmin(admin.ModelAdmin):
    list_display = ["display_name", "profession", "active"]
    list_filter = ["profession", "active", "services", "locations"]
    search_fields = ["display_name"]
    fields = ["display_name", "profession", "services", "locations", "user", "active"]
    filter_horizontal = ["services", "locations"]
    raw_id_fields = ["user"]
    inlines = [AvailabilityRuleInline]


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(admin.ModelAdmin):
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
class ClosureAdmin(admin.ModelAdmin):
    list_display = ["starts_on", "ends_on", "location", "clinician", "reason"]
    list_filter = ["location", "clinician"]
    list_select_related = ["location", "clinician"]
    date_hierarchy = "starts_on"


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
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


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
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
    fieldsets = [
        (None, {"fields": ["reference", "slot", "status", "acute_risk"]}),
        (_("Cliënt"), {"fields": ["nickname", "language", "source", "contact_channel"]}),
        (
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
        ),
    ]
    readonly_fields = [
        "reference",
        "slot",
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
        return readonly

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


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """The outbox. Filter on status "mislukt" for the messages that did not go out."""

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
class WaitlistEntryAdmin(admin.ModelAdmin):
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
