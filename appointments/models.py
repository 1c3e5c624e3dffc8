"""The data of Spreekuur: what staff configure, the slots it yields, and bookings.

The booking rule ("a slot never has more active bookings plus live holds than its
capacity") is guaranteed by the database, not by the code that checks it first:
every hold and booking occupies one numbered *seat* of its slot, seats are
numbered below the slot's capacity, and a partial unique index allows only one
live claim per seat. A hold is a `Booking` in status HELD with an expiry time; an
expired hold no longer counts as taken anywhere, and the next client who wants
the seat releases it in the same transaction in which they take it. No job has to
run for a seat to come free. See `services.booking_hold` and docs/architecture.md.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .crypto import EncryptedTextField


class BilingualMixin:
    """Chooses the Dutch or English text of a field pair by the active language."""

    def bilingual(self, field: str) -> str:
        english = getattr(self, f"{field}_en", "")
        if (get_language() or "nl").startswith("en") and english:
            return english
        return getattr(self, f"{field}_nl")


class Location(models.Model):
    name = models.CharField(_("naam"), max_length=100)
    address = models.CharField(_("adres"), max_length=200)
    postal_code = models.CharField(_("postcode"), max_length=10)
    city = models.CharField(_("plaats"), max_length=100, default="Amsterdam")
    directions_nl = models.TextField(_("route en toegang (NL)"), blank=True)
    directions_en = models.TextField(_("route en toegang (EN)"), blank=True)
    active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("locatie")
        verbose_name_plural = _("locaties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def full_address(self) -> str:
        return f"{self.address}, {self.postal_code} {self.city}"


def default_reminder_hours() -> list[int]:
    return [24, 2]


class Service(BilingualMixin, models.Model):
    """A consultation hour ("spreekuur") that clients can book."""

    name_nl = models.CharField(_("naam (NL)"), max_length=100)
    name_en = models.CharField(_("naam (EN)"), max_length=100)
    description_nl = models.TextField(_("beschrijving (NL)"), blank=True)
    description_en = models.TextField(_("beschrijving (EN)"), blank=True)
    what_to_bring_nl = models.TextField(_("wat neem je mee (NL)"), blank=True)
    what_to_bring_en = models.TextField(_("wat neem je mee (EN)"), blank=True)
    slot_minutes = models.PositiveSmallIntegerField(
        _("duur van een afspraak (minuten)"), default=30
    )
    booking_horizon_days = models.PositiveSmallIntegerField(
        _("hoe ver vooruit te boeken (dagen)"), default=28
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("minimale tijd vooraf (minuten)"),
        default=60,
        help_text=_("Een tijd die eerder begint dan dit, is niet meer online te boeken."),
    )
    reminder_hours = models.JSONField(
        _("herinneringen (uren vooraf)"),
        default=default_reminder_hours,
        blank=True,
        help_text=_("Bijvoorbeeld [24, 2]: een dag en twee uur voor de afspraak. Leeg: geen."),
    )
    order = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("spreekuur")
        verbose_name_plural = _("spreekuren")
        ordering = ["order", "name_nl"]
        constraints = [
            models.CheckConstraint(condition=Q(slot_minutes__gte=5), name="service_slot_min_5"),
        ]

    def __str__(self) -> str:
        return self.name_nl

    @property
    def name(self) -> str:
        return self.bilingual("name")

    @property
    def description(self) -> str:
        return self.bilingual("description")

    @property
    def what_to_bring(self) -> str:
        return self.bilingual("what_to_bring")


class Clinician(models.Model):
    class Profession(models.TextChoices):
        NURSE = "nurse", _("verpleegkundige")
        DOCTOR = "doctor", _("arts")
        ADDICTION_DOCTOR = "addiction_doctor", _("verslavingsarts")
        PSYCHOLOGIST = "psychologist", _("psycholoog")
        SOCIAL_WORKER = "social_worker", _("sociaal verpleegkundige")

    display_name = models.CharField(_("naam voor cliënten"), max_length=100)
    profession = models.CharField(_("beroep"), max_length=30, choices=Profession.choices)
    services = models.ManyToManyField(
        Service, verbose_name=_("spreekuren"), related_name="clinicians"
    )
    locations = models.ManyToManyField(
        Location, verbose_name=_("locaties"), related_name="clinicians"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clinician",
    )
    active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("zorgverlener")
        verbose_name_plural = _("zorgverleners")
        ordering = ["display_name"]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.get_profession_display()})"


class AvailabilityRule(models.Model):
    """A weekly block of time in which a clinician holds one consultation hour."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("maandag")
        TUESDAY = 1, _("dinsdag")
        WEDNESDAY = 2, _("woensdag")
        THURSDAY = 3, _("donderdag")
        FRIDAY = 4, _("vrijdag")
        SATURDAY = 5, _("zaterdag")
        SUNDAY = 6, _("zondag")

    clinician = models.ForeignKey(
        Clinician, verbose_name=_("zorgverlener"), on_delete=models.CASCADE, related_name="rules"
    )
    service = models.ForeignKey(
        Service, verbose_name=_("spreekuur"), on_delete=models.PROTECT, related_name="rules"
    )
    location = models.ForeignKey(
        Location, verbose_name=_("locatie"), on_delete=models.PROTECT, related_name="rules"
    )
    weekday = models.PositiveSmallIntegerField(_("weekdag"), choices=Weekday.choices)
    start_time = models.TimeField(_("van"))
    end_time = models.TimeField(_("tot"))
    slot_minutes = models.PositiveSmallIntegerField(
        _("duur van een afspraak (minuten)"),
        null=True,
        blank=True,
        help_text=_("Leeg: de duur die bij het spreekuur hoort."),
    )
    capacity = models.PositiveSmallIntegerField(
        _("plaatsen per tijd"), default=1, help_text=_("Hoeveel cliënten tegelijk.")
    )
    valid_from = models.DateField(_("geldig vanaf"))
    valid_until = models.DateField(_("geldig tot en met"), null=True, blank=True)

    class Meta:
        verbose_name = _("vaste beschikbaarheid")
        verbose_name_plural = _("vaste beschikbaarheid")
        ordering = ["clinician", "weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")), name="rule_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="rule_capacity_positive"),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("valid_from")),
                name="rule_valid_range",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.clinician.display_name}: {self.get_weekday_display()} "
            f"{self.start_time:%H:%M}–{self.end_time:%H:%M}"
        )

    @property
    def effective_slot_minutes(self) -> int:
        return self.slot_minutes or self.service.slot_minutes


class Closure(models.Model):
    """Days on which a whole location or one clinician holds no consultation hours."""

    starts_on = models.DateField(_("eerste dag"))
    ends_on = models.DateField(_("laatste dag"))
    location = models.ForeignKey(
        Location,
        verbose_name=_("locatie"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
    )
    clinician = models.ForeignKey(
        Clinician,
        verbose_name=_("zorgverlener"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
    )
    reason = models.CharField(_("reden (intern)"), max_length=200)

    class Meta:
        verbose_name = _("sluiting")
        verbose_name_plural = _("sluitingen")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="closure_valid_range"
            ),
            models.CheckConstraint(
                condition=Q(location__isnull=False, clinician__isnull=True)
                | Q(location__isnull=True, clinician__isnull=False),
                name="closure_location_xor_clinician",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.starts_on:%d-%m-%Y}–{self.ends_on:%d-%m-%Y}: {self.location or self.clinician}"
        )


class Slot(models.Model):
    """A bookable time of one clinician, for one service, at one location."""

    # No index of their own: each of these three leads a composite index below
    # (clinician, start), (service, location, start) and (location, date), which
    # serves the same lookups. A lone index would only slow down every insert:
    # slot generation writes some 50,000 rows at once.
    clinician = models.ForeignKey(
        Clinician,
        verbose_name=_("zorgverlener"),
        on_delete=models.PROTECT,
        related_name="slots",
        db_index=False,
    )
    service = models.ForeignKey(
        Service,
        verbose_name=_("spreekuur"),
        on_delete=models.PROTECT,
        related_name="slots",
        db_index=False,
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("locatie"),
        on_delete=models.PROTECT,
        related_name="slots",
        db_index=False,
    )
    rule = models.ForeignKey(
        AvailabilityRule,
        verbose_name=_("gemaakt uit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="slots",
    )
    start = models.DateTimeField(_("begin"))
    end = models.DateTimeField(_("einde"))
    # The local (Europe/Amsterdam) date of `start`, so closures and day lists can
    # be matched in SQL without time-zone arithmetic.
    date = models.DateField(_("datum"))
    capacity = models.PositiveSmallIntegerField(_("plaatsen"), default=1)
    blocked = models.BooleanField(_("geblokkeerd"), default=False)

    class Meta:
        verbose_name = _("tijdslot")
        verbose_name_plural = _("tijdsloten")
        ordering = ["start", "clinician"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinician", "start"], name="slot_unique_clinician_start"
            ),
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="slot_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
        ]
        indexes = [
            models.Index(
                fields=["service", "location", "start"], name="slot_service_location_start"
            ),
            models.Index(fields=["location", "date"], name="slot_location_date"),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.start)
        return f"{local:%d-%m-%Y %H:%M} {self.clinician.display_name}"


class IntakeQuestion(BilingualMixin, models.Model):
    class Kind(models.TextChoices):
        SINGLE_CHOICE = "single", _("één keuze")
        MULTIPLE_CHOICE = "multiple", _("meer keuzes")
        YES_NO = "yes_no", _("ja of nee")
        SHORT_TEXT = "text", _("korte tekst")

    class AcuteAnswer(models.TextChoices):
        NONE = "", _("geen")
        YES = "yes", _("ja")
        NO = "no", _("nee")

    service = models.ForeignKey(
        Service, verbose_name=_("spreekuur"), on_delete=models.CASCADE, related_name="questions"
    )
    kind = models.CharField(_("soort vraag"), max_length=10, choices=Kind.choices)
    text_nl = models.CharField(_("vraag (NL)"), max_length=300)
    text_en = models.CharField(_("vraag (EN)"), max_length=300)
    help_nl = models.CharField(_("toelichting (NL)"), max_length=300, blank=True)
    help_en = models.CharField(_("toelichting (EN)"), max_length=300, blank=True)
    required = models.BooleanField(_("verplicht"), default=False)
    order = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    acute_risk_answer = models.CharField(
        _("antwoord dat acuut risico betekent"),
        max_length=3,
        choices=AcuteAnswer.choices,
        blank=True,
        help_text=_("Alleen voor ja/nee-vragen. Bij keuzevragen staat dit per keuze."),
    )
    active = models.BooleanField(_("actief"), default=True)

    class Meta:
        verbose_name = _("intakevraag")
        verbose_name_plural = _("intakevragen")
        ordering = ["service", "order", "id"]

    def __str__(self) -> str:
        return self.text_nl

    @property
    def text(self) -> str:
        return self.bilingual("text")

    @property
    def help_text(self) -> str:
        return self.bilingual("help")


class IntakeChoice(BilingualMixin, models.Model):
    question = models.ForeignKey(
        IntakeQuestion, verbose_name=_("vraag"), on_delete=models.CASCADE, related_name="choices"
    )
    code = models.SlugField(_("code"), max_length=40)
    text_nl = models.CharField(_("keuze (NL)"), max_length=200)
    text_en = models.CharField(_("keuze (EN)"), max_length=200)
    order = models.PositiveSmallIntegerField(_("volgorde"), default=0)
    acute_risk = models.BooleanField(_("betekent acuut risico"), default=False)

    class Meta:
        verbose_name = _("keuze")
        verbose_name_plural = _("keuzes")
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="choice_unique_code"),
        ]

    def __str__(self) -> str:
        return self.text_nl

    @property
    def text(self) -> str:
        return self.bilingual("text")


class ContactChannel(models.TextChoices):
    EMAIL = "email", _("e-mail")
    SMS = "sms", _("sms")


class Booking(models.Model):
    """A client's claim on one seat of a slot: first a hold, then an appointment."""

    class Status(models.TextChoices):
        HELD = "held", _("vastgehouden")
        CONFIRMED = "confirmed", _("bevestigd")
        ATTENDED = "attended", _("gekomen")
        NO_SHOW = "no_show", _("niet gekomen")
        CANCELLED = "cancelled", _("geannuleerd")
        EXPIRED = "expired", _("verlopen")

    class Source(models.TextChoices):
        ONLINE = "online", _("online")
        PHONE = "phone", _("telefoon")
        WALK_IN = "walk_in", _("aan de balie")

    class Language(models.TextChoices):
        DUTCH = "nl", "Nederlands"
        ENGLISH = "en", "English"

    # Statuses that occupy a seat. HELD counts only until `held_until`.
    SEAT_STATUSES = (Status.HELD, Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)
    APPOINTMENT_STATUSES = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)

    public_id = models.UUIDField(_("publieke id"), default=uuid.uuid4, unique=True, editable=False)
    slot = models.ForeignKey(
        Slot, verbose_name=_("tijdslot"), on_delete=models.PROTECT, related_name="bookings"
    )
    seat = models.PositiveSmallIntegerField(_("plaats"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.HELD
    )
    held_until = models.DateTimeField(_("vastgehouden tot"), null=True, blank=True)
    reference = models.CharField(_("referentie"), max_length=9, unique=True, null=True, blank=True)
    manage_token_hash = models.CharField(
        _("hash van beheerlink"), max_length=64, unique=True, null=True, blank=True, editable=False
    )
    # The manage link itself, encrypted, only while a message that carries it may
    # still go out; looking a booking up always goes through the hash.
    manage_token_sealed = models.TextField(blank=True, editable=False)
    # Personal values are encrypted at rest (crypto.EncryptedTextField).
    nickname = EncryptedTextField(_("aanspreeknaam"), max_length=50, blank=True)
    # Contact details exist only for messages, with consent.
    email = EncryptedTextField(_("e-mailadres"), max_length=254, blank=True)
    phone = EncryptedTextField(_("mobiel nummer"), max_length=20, blank=True, help_text="E.164")
    contact_channel = models.CharField(
        _("berichten via"), max_length=5, choices=ContactChannel.choices, blank=True
    )
    # A keyed hash of the contact (crypto.contact_digest): the one way to count a
    # contact's appointments, since the contact itself is encrypted.
    contact_digest = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    language = models.CharField(
        _("taal"), max_length=2, choices=Language.choices, default=Language.DUTCH
    )
    source = models.CharField(
        _("bron"), max_length=10, choices=Source.choices, default=Source.ONLINE
    )
    acute_risk = models.BooleanField(_("triage: acuut risico"), default=False)
    personal_data_erased_at = models.DateTimeField(
        _("persoonsgegevens gewist op"), null=True, blank=True, editable=False
    )
    staff_note = EncryptedTextField(
        _("notitie van de zorgverlener"),
        blank=True,
        max_length=2000,
        help_text=_("Kort en zakelijk. Alleen zichtbaar voor wie intake-antwoorden mag zien."),
    )
    # Rises on every change of time or status, for the SEQUENCE of calendar files.
    sequence = models.PositiveIntegerField(_("versie"), default=0)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("bevestigd op"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("geannuleerd op"), null=True, blank=True)
    updated_at = models.DateTimeField(_("gewijzigd"), auto_now=True)

    class Meta:
        verbose_name = _("afspraak")
        verbose_name_plural = _("afspraken")
        ordering = ["slot__start"]
        # What the roles are made of (roles.py); the model permissions do the rest.
        permissions = [
            ("view_intake", _("Kan intake-antwoorden, triage en notities lezen")),
            ("view_all_bookings", _("Kan alle afspraken zien, niet alleen de eigen")),
            ("book_on_behalf", _("Kan een afspraak maken voor een beller of inloop")),
            ("export_daylist", _("Kan een daglijst exporteren")),
            ("view_dashboard", _("Kan het dashboard met cijfers zien")),
        ]
        constraints = [
            # The booking rule: one live claim per seat.
            models.UniqueConstraint(
                fields=["slot", "seat"],
                condition=Q(status__in=["held", "confirmed", "attended", "no_show"]),
                name="booking_one_live_claim_per_seat",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(held_until__isnull=False),
                name="booking_hold_has_expiry",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["held", "expired"]) | Q(reference__isnull=False),
                name="booking_appointment_has_reference",
            ),
        ]
        indexes = [
            models.Index(fields=["slot", "status"], name="booking_slot_status"),
            models.Index(fields=["status", "held_until"], name="booking_status_held_until"),
        ]

    def __str__(self) -> str:
        return self.reference or f"{self.get_status_display()} {self.public_id}"

    @property
    def is_appointment(self) -> bool:
        return self.status in self.APPOINTMENT_STATUSES

    def hold_is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.HELD
            and self.held_until is not None
            and self.held_until > now
        )

    def hold_seconds_left(self, now=None) -> int:
        now = now or timezone.now()
        if not self.hold_is_live(now):
            return 0
        return int((self.held_until - now) / timedelta(seconds=1))


class IntakeAnswer(models.Model):
    booking = models.ForeignKey(
        Booking, verbose_name=_("afspraak"), on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        IntakeQuestion, verbose_name=_("vraag"), on_delete=models.PROTECT, related_name="answers"
    )
    # Choice codes (one per line) for choice questions, the typed text otherwise.
    value = EncryptedTextField(_("antwoord"), blank=True)
    acute_risk = models.BooleanField(_("acuut risico"), default=False)

    class Meta:
        verbose_name = _("intake-antwoord")
        verbose_name_plural = _("intake-antwoorden")
        ordering = ["booking", "question__order", "question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "question"], name="answer_unique_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.booking} · {self.question_id}"


class WaitlistEntry(models.Model):
    """A client waiting for a time of a service; offered the first slot that frees up."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("wacht")
        OFFERED = "offered", _("aanbod verstuurd")
        BOOKED = "booked", _("geboekt")
        CANCELLED = "cancelled", _("afgemeld")
        # Waited SPREEKUUR_WAITLIST_DAYS without an offer (retention.personal_data_purge).
        EXPIRED = "expired", _("verlopen")

    public_id = models.UUIDField(_("publieke id"), default=uuid.uuid4, unique=True, editable=False)
    service = models.ForeignKey(
        Service, verbose_name=_("spreekuur"), on_delete=models.CASCADE, related_name="waitlist"
    )
    location = models.ForeignKey(
        Location,
        verbose_name=_("locatie"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist",
        help_text=_("Leeg: elke locatie."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.WAITING
    )
    email = EncryptedTextField(_("e-mailadres"), max_length=254, blank=True)
    phone = EncryptedTextField(_("mobiel nummer"), max_length=20, blank=True)
    contact_channel = models.CharField(
        _("berichten via"), max_length=5, choices=ContactChannel.choices
    )
    language = models.CharField(
        _("taal"), max_length=2, choices=Booking.Language.choices, default=Booking.Language.DUTCH
    )
    # The current offer: a hold on one slot, opened by a secret link (hash only).
    offer = models.OneToOneField(
        Booking,
        verbose_name=_("aanbod"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="waitlist_entry",
    )
    offer_token_hash = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    offer_token_sealed = models.TextField(blank=True, editable=False)
    offers_made = models.PositiveSmallIntegerField(_("aantal aanbiedingen"), default=0)
    created_at = models.DateTimeField(_("aangemeld"), auto_now_add=True)

    class Meta:
        verbose_name = _("wachtlijstaanmelding")
        verbose_name_plural = _("wachtlijst")
        ordering = ["created_at", "pk"]
        # No check on email/phone: they are encrypted, and a finished entry's
        # contact details are erased (retention); waitlist_join demands one.
        indexes = [models.Index(fields=["service", "status", "created_at"], name="waitlist_queue")]

    def __str__(self) -> str:
        return f"{self.service} · {self.get_status_display()} · {self.created_at:%d-%m-%Y}"


class Message(models.Model):
    """One message to send: the outbox.

    A row is written in the same transaction as the booking change that causes
    it, so a message is never lost to a crash between the two. It holds no
    contact details: those are read from the booking or waitlist entry at the
    moment of sending, so a client who removes them stops every pending message.
    """

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", _("bevestiging")
        REMINDER = "reminder", _("herinnering")
        CANCEL_RECEIPT = "cancel_receipt", _("afgezegd door cliënt")
        RESCHEDULE_RECEIPT = "reschedule_receipt", _("verzet door cliënt")
        CANCELLED_BY_STAFF = "staff_cancel", _("afgezegd door GGD")
        RESCHEDULED_BY_STAFF = "staff_move", _("verzet door GGD")
        WAITLIST_OFFER = "waitlist_offer", _("aanbod wachtlijst")

    class Status(models.TextChoices):
        PENDING = "pending", _("wacht")
        SENDING = "sending", _("wordt verstuurd")
        SENT = "sent", _("verstuurd")
        FAILED = "failed", _("mislukt")
        CANCELLED = "cancelled", _("vervallen")

    public_id = models.UUIDField(_("publieke id"), default=uuid.uuid4, unique=True, editable=False)
    booking = models.ForeignKey(
        Booking,
        verbose_name=_("afspraak"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
    )
    waitlist_entry = models.ForeignKey(
        WaitlistEntry,
        verbose_name=_("wachtlijstaanmelding"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="messages",
    )
    kind = models.CharField(_("soort"), max_length=20, choices=Kind.choices)
    channel = models.CharField(_("kanaal"), max_length=5, choices=ContactChannel.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    due_at = models.DateTimeField(_("versturen vanaf"))
    # For a reminder: the appointment start it is about, so a moved appointment
    # never gets a reminder for its old time.
    appointment_start = models.DateTimeField(_("afspraak om"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    claimed_until = models.DateTimeField(_("in behandeling tot"), null=True, blank=True)
    # Set, and committed, just before a message is handed to the provider. A
    # message taken over with this set may have gone out already: for SMS the
    # provider is asked first (see outbox._deliver).
    send_started_at = models.DateTimeField(_("versturen begonnen"), null=True, blank=True)
    last_error = models.CharField(_("laatste fout"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("verstuurd op"), null=True, blank=True)
    provider_id = models.CharField(_("id bij de verzender"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("aangemaakt"), auto_now_add=True)

    class Meta:
        verbose_name = _("bericht")
        verbose_name_plural = _("berichten")
        ordering = ["due_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(booking__isnull=False) | Q(waitlist_entry__isnull=False),
                name="message_has_recipient",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="message_due"),
            models.Index(fields=["status", "claimed_until"], name="message_claimed"),
        ]

    def __str__(self) -> str:
        kind, channel, status = (
            self.get_kind_display(),
            self.get_channel_display(),
            self.get_status_display(),
        )
        return f"{kind} · {channel} · {status}"


class AccessLogEntry(models.Model):
    """One staff look at or change of client data (NEN 7513): who, when, what, from where.

    Never the data itself. Append-only: the app has no code that changes or
    deletes an entry, the admin offers neither, and on PostgreSQL a trigger
    refuses UPDATE and DELETE on the table (migration 0005). It is not part of
    any retention purge; it is kept for at least five years.
    """

    class Action(models.TextChoices):
        VIEW_INTAKE = "view_intake", _("intake-antwoorden gelezen")
        SEARCH = "search", _("gezocht")
        EXPORT = "export", _("geëxporteerd")
        CHANGE = "change", _("afspraak gewijzigd")
        CANCEL = "cancel", _("afspraak afgezegd")
        RESCHEDULE = "reschedule", _("afspraak verzet")
        BOOK = "book", _("afspraak gemaakt namens cliënt")
        ATTENDANCE = "attendance", _("aanwezigheid vastgelegd")

    class Result(models.TextChoices):
        ALLOWED = "allowed", _("toegestaan")
        DENIED = "denied", _("geweigerd")

    at = models.DateTimeField(_("tijdstip"), auto_now_add=True, db_index=True)
    # A copy of the user name, so the entry keeps saying who, even when the
    # account is gone. No database constraint and no SET NULL: deleting an
    # account must not touch (update) the log, which the trigger refuses anyway.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("medewerker"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_username = models.CharField(_("gebruikersnaam"), max_length=150)
    on_behalf_of = models.CharField(
        _("namens"), max_length=100, blank=True, help_text=_("De rol of de zorgverlener.")
    )
    action = models.CharField(_("handeling"), max_length=20, choices=Action.choices)
    booking_reference = models.CharField(_("referentie"), max_length=9, blank=True, db_index=True)
    result = models.CharField(
        _("resultaat"), max_length=10, choices=Result.choices, default=Result.ALLOWED
    )
    ip_address = models.GenericIPAddressField(_("IP-adres"), null=True, blank=True)
    # What was done, in words without personal data: "3 rijen", "gekomen".
    detail = models.CharField(_("toelichting"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("toegangslogregel")
        verbose_name_plural = _("toegangslog")
        ordering = ["-at", "-pk"]
        default_permissions = ("view",)
        indexes = [models.Index(fields=["actor", "at"], name="accesslog_actor_at")]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.booking_reference}"
        )
