"""Forms of the staff pages (staff_views.py): filters, buttons and booking on behalf.

Query parameters keep Dutch names (`dag`, `locatie`, `zorgverlener`), as the
admin's own day filter does, so a day list can be bookmarked or printed again.
"""

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .forms import ContactForm, slot_label
from .models import Booking, Clinician, Location, Service


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class AgendaForm(forms.Form):
    """Which day list: a day, and optionally one location and/or one clinician.

    `clinician_user` limits the clinicians to choose from to that user's own
    (for a clinician who may see only their own appointments).
    """

    dag = forms.DateField(
        label=_("Dag"), required=False, input_formats=["%Y-%m-%d"], widget=DateInput
    )
    locatie = forms.ModelChoiceField(
        label=_("Locatie"),
        queryset=Location.objects.order_by("name"),
        required=False,
        empty_label=_("Alle locaties"),
    )
    zorgverlener = forms.ModelChoiceField(
        label=_("Zorgverlener"),
        queryset=Clinician.objects.order_by("display_name"),
        required=False,
        empty_label=_("Alle zorgverleners"),
    )

    def __init__(self, *args, clinician_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if clinician_user is not None:
            field = self.fields["zorgverlener"]
            field.queryset = field.queryset.filter(user=clinician_user)
            field.empty_label = _("Mijn afspraken")


class AttendanceForm(forms.Form):
    """The button pressed on a row of the day agenda."""

    ATTENDED = "gekomen"
    NO_SHOW = "niet_gekomen"

    actie = forms.ChoiceField(choices=[(ATTENDED, _("Gekomen")), (NO_SHOW, _("Niet gekomen"))])


class BookSearchForm(forms.Form):
    """The consultation hour and location a caller wants."""

    spreekuur = forms.ModelChoiceField(
        label=_("Spreekuur"),
        queryset=Service.objects.filter(active=True),
        empty_label=_("Kies een spreekuur"),
    )
    locatie = forms.ModelChoiceField(
        label=_("Locatie"),
        queryset=Location.objects.filter(active=True).order_by("name"),
        empty_label=_("Kies een locatie"),
    )
    week = forms.DateField(required=False, input_formats=["%Y-%m-%d"], widget=forms.HiddenInput)


class StaffBookingForm(ContactForm):
    """The details of a booking made for a caller or walk-in: how, what to call them, contact.

    No intake questions: the clinician can ask them in the appointment. The
    contact fields and their rules come from the client's form; the caller
    gives consent by word of mouth and the staff member ticks it.
    """

    source = forms.ChoiceField(
        label=_("Hoe kwam de afspraak binnen?"),
        choices=[
            (Booking.Source.PHONE, _("Telefoon")),
            (Booking.Source.WALK_IN, _("Aan de balie")),
        ],
        initial=Booking.Source.PHONE,
        widget=forms.RadioSelect(attrs={"class": "radiolist"}),
    )
    nickname = forms.CharField(
        label=_("Aanspreeknaam (niet verplicht)"),
        help_text=_("Alleen als de cliënt dat wil. Een echte naam is niet nodig."),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "class": "vTextField"}),
    )
    language = forms.ChoiceField(
        label=_("Taal van de berichten"),
        choices=Booking.Language.choices,
        initial=Booking.Language.DUTCH,
    )

    def __init__(self, *args, alternatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].label = _("E-mailadres (niet verplicht)")
        for name in ("email", "phone"):
            self.fields[name].widget.attrs["class"] = "vTextField"
        self.fields["phone"].label = _("Mobiel nummer (niet verplicht)")
        self.fields["contact_channel"].label = _("Berichten via")
        self.fields["contact_channel"].widget.attrs["class"] = "radiolist"
        self.fields["consent"].label = _(
            "De cliënt geeft mondeling toestemming voor een bevestiging en herinneringen."
        )
        self.fields["consent"].help_text = _(
            "Alleen aanvinken als de cliënt dat zelf zegt. "
            "De bevestiging bevat de link om de afspraak te beheren."
        )
        if alternatives:
            self.fields["alternative_slot"] = forms.TypedChoiceField(
                label=_("Kies een andere tijd"),
                choices=[(slot.pk, slot_label(slot)) for slot in alternatives],
                coerce=int,
                widget=forms.RadioSelect(attrs={"class": "radiolist"}),
                error_messages={"required": _("Kies een andere tijd om verder te gaan.")},
            )
            self.order_fields(["alternative_slot"])


class GenerateSlotsForm(forms.Form):
    weeks = forms.IntegerField(
        label=_("Aantal weken vooruit, vanaf vandaag"),
        min_value=1,
        max_value=104,
        help_text=_(
            "Maakt de tijdsloten die de vaste beschikbaarheid min de sluitingen vraagt. "
            "Nog eens uitvoeren verandert niets. Geboekte tijden blijven altijd staan."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["weeks"].initial = settings.SPREEKUUR_SLOT_WEEKS_AHEAD
