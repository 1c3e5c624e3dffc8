"""Client forms. Each keeps what was typed and says next to a field what is wrong."""

import re

import phonenumbers
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import ContactChannel, IntakeQuestion, Slot
from .services import ContactDetails, IntakeResponse

YES_NO_CHOICES = [("yes", _("Ja")), ("no", _("Nee"))]


class SlotChoiceForm(forms.Form):
    """The time a client picked on the page of free times."""

    slot = forms.IntegerField(min_value=1, error_messages={"required": _("Kies een tijd.")})


class WeekForm(forms.Form):
    week = forms.DateField(required=False, input_formats=["%Y-%m-%d"])


def slot_label(slot: Slot) -> str:
    local = timezone.localtime(slot.start)
    return f"{formats.date_format(local, 'l j F')} {local:%H:%M}"


# Number types an SMS can reach. FIXED_LINE_OR_MOBILE: countries (such as the US)
# whose numbering does not tell the two apart.
SMS_NUMBER_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def mobile_number_e164(value: str) -> str:
    """A mobile number as typed (06-12345678, +31 6 …, 0031 6 …, +44 7…) in E.164 form.

    Raises ValidationError for anything an SMS cannot reach: a landline,
    a number that does not exist, letters or an extension.
    """
    example = _("Vul een mobiel nummer in, bijvoorbeeld 06 12345678.")
    # phonenumbers reads letters as a keypad would (0800-FLOWERS); nobody means that here.
    if re.search(r"[^\d\s()+\-./]", value):
        raise forms.ValidationError(example, code="invalid_phone")
    try:
        number = phonenumbers.parse(value, "NL")
    except phonenumbers.NumberParseException:
        raise forms.ValidationError(example, code="invalid_phone") from None
    if number.extension or not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(example, code="invalid_phone")
    if phonenumbers.number_type(number) not in SMS_NUMBER_TYPES:
        raise forms.ValidationError(
            _(
                "Dit is geen mobiel nummer. Een sms kan alleen naar een mobiel nummer, "
                "bijvoorbeeld 06 12345678."
            ),
            code="not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def masked_email(email: str) -> str:
    """'s•••@example.org': enough to recognise one's own address, not to read it off a screen."""
    if not email:
        return ""
    local, _at, domain = email.rpartition("@")
    return f"{local[:1]}•••@{domain}"


def masked_phone(phone: str) -> str:
    """'+31 6 •••• 5678' for an E.164 number."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return f"•••• {phone[-4:]}"
    national = str(number.national_number)
    return f"+{number.country_code} {national[:1]} •••• {national[-4:]}"


class ContactForm(forms.Form):
    """An e-mail address and/or mobile number for messages about one appointment, with consent.

    Everything is optional; what is filled in needs the consent box, and the
    consent box needs something filled in. The intake reuses it (IntakeForm
    inherits its fields and `clean`); the contact page uses it alone.
    """

    CONTACT_FIELDS = ("email", "phone", "contact_channel", "consent")

    email = forms.EmailField(
        label=_("E-mailadres"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
        error_messages={
            "invalid": _("Vul een e-mailadres in zoals naam@voorbeeld.nl."),
        },
    )
    phone = forms.CharField(
        label=_("Mobiel nummer"),
        help_text=_(
            "Bijvoorbeeld 06 12345678. Een nummer uit het buitenland begin je met + en de landcode."
        ),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"max_length": _("Vul een mobiel nummer in, bijvoorbeeld 06 12345678.")},
    )
    contact_channel = forms.ChoiceField(
        label=_("Hoe wil je de berichten krijgen?"),
        help_text=_("Alleen nodig als je een e-mailadres én een mobiel nummer invult."),
        choices=[(ContactChannel.EMAIL, _("Per e-mail")), (ContactChannel.SMS, _("Per sms"))],
        required=False,
        widget=forms.RadioSelect,
    )
    consent = forms.BooleanField(
        label=_(
            "Ja, stuur mij een bevestiging en herinneringen. Ik weet dat ik dit altijd kan stoppen."
        ),
        required=False,
    )

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip()
        return mobile_number_e164(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        email, phone = cleaned.get("email"), cleaned.get("phone")
        # An address or number that was typed but is wrong still counts as "filled in",
        # so a missing consent is reported in the same round.
        typed = bool(email or phone or "email" in self.errors or "phone" in self.errors)
        if typed and not cleaned.get("consent"):
            self.add_error(
                "consent", forms.ValidationError(self.consent_required, code="consent_required")
            )
        if not typed and self.require_contact:
            self.add_error(
                "email", forms.ValidationError(self.contact_required, code="contact_required")
            )
        elif not typed and cleaned.get("consent"):
            self.add_error(
                "email",
                forms.ValidationError(
                    _(
                        "Vul een e-mailadres of een mobiel nummer in. "
                        "Wil je geen berichten? Haal het vinkje dan weg."
                    ),
                    code="contact_required",
                ),
            )
        if email and phone:
            if not cleaned.get("contact_channel"):
                self.add_error(
                    "contact_channel",
                    forms.ValidationError(self.channel_required, code="channel_required"),
                )
        elif email:
            cleaned["contact_channel"] = ContactChannel.EMAIL
        elif phone:
            cleaned["contact_channel"] = ContactChannel.SMS
        else:
            cleaned["contact_channel"] = ""
        return cleaned

    def contact_details(self) -> ContactDetails:
        """What a valid form gives the booking; empty when the client left nothing."""
        data = self.cleaned_data
        if not data.get("contact_channel"):
            return ContactDetails()
        return ContactDetails(
            email=data["email"], phone=data["phone"], channel=data["contact_channel"]
        )

    contact_required = _("Vul een nieuw e-mailadres of mobiel nummer in.")
    consent_required = _(
        "Zet een vinkje als we je berichten mogen sturen. Wil je geen berichten? "
        "Maak het e-mailadres en het nummer dan leeg."
    )
    channel_required = _("Kies of je de berichten per e-mail of per sms wilt krijgen.")

    def __init__(self, *args, require_contact: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        # The contact page asks for new details; removing them has its own button.
        self.require_contact = require_contact

    @staticmethod
    def contact_fieldset() -> Fieldset:
        """The contact fields as one optional section, with what we do with them."""
        privacy = format_html(
            '<p class="ams-paragraph">{}</p>',
            gettext(
                "We gebruiken je e-mailadres of nummer alleen voor berichten over deze afspraak. "
                "In de berichten staat nooit waar de afspraak over gaat. "
                "Komt er geen bericht meer, dan wissen we je gegevens."
            ),
        )
        return Fieldset(
            gettext("Bericht over je afspraak?"),
            Div(HTML(privacy), *ContactForm.CONTACT_FIELDS),
            css_class="spreekuur-contact",
        )


class AcuteOptionsMixin:
    """Marks the options that mean acute risk with `data-acute="true"`.

    crisis-help.js shows crisis help next to the question as soon as one is
    checked; without JavaScript the crisis help above the form is always there.
    """

    def __init__(self, *args, acute_values=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.acute_values = {str(value) for value in acute_values}

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.acute_values:
            option["attrs"] = {**option["attrs"], "data-acute": "true"}
        return option


class AcuteRadioSelect(AcuteOptionsMixin, forms.RadioSelect):
    pass


class AcuteCheckboxSelectMultiple(AcuteOptionsMixin, forms.CheckboxSelectMultiple):
    pass


class IntakeForm(ContactForm):
    """The questions configured for a service, plus how the client wants to be addressed.

    When the held time was lost, `alternatives` adds a required choice of other
    free times, so the client picks one without retyping anything.
    """

    nickname = forms.CharField(
        label=_("Hoe mogen we je noemen?"),
        help_text=_("Een voornaam of bijnaam. Je hoeft je echte naam niet te geven."),
        max_length=50,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def __init__(self, *args, questions: list[IntakeQuestion], alternatives=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        question_fields = {}
        for question in questions:
            question_fields[self.field_name(question)] = self._field_for(question)
        # Questions first, then the nickname, the optional contact section last:
        # the intake is what the visit is about.
        contact_fields = {name: self.fields.pop(name) for name in self.CONTACT_FIELDS}
        nickname = self.fields.pop("nickname")
        self.fields.update(question_fields)
        self.fields["nickname"] = nickname
        self.fields.update(contact_fields)
        if alternatives:
            self.fields["alternative_slot"] = forms.TypedChoiceField(
                label=_("Kies een andere tijd"),
                choices=[(slot.pk, slot_label(slot)) for slot in alternatives],
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": _("Kies een andere tijd om verder te gaan.")},
            )
            self.order_fields(["alternative_slot"])
        # `{% crispy form %}` draws the contact fields as one field set; the page
        # has its own <form> tag and CSRF token.
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            *(name for name in self.fields if name not in self.CONTACT_FIELDS),
            self.contact_fieldset(),
        )

    @staticmethod
    def field_name(question: IntakeQuestion) -> str:
        return f"question_{question.pk}"

    @staticmethod
    def _field_for(question: IntakeQuestion) -> forms.Field:
        common = {
            "label": question.text,
            "help_text": question.help_text,
            "required": question.required,
        }
        acute = [c.code for c in question.choices.all() if c.acute_risk]
        match question.kind:
            case IntakeQuestion.Kind.SINGLE_CHOICE:
                choices = [(c.code, c.text) for c in question.choices.all()]
                return forms.ChoiceField(
                    choices=choices, widget=AcuteRadioSelect(acute_values=acute), **common
                )
            case IntakeQuestion.Kind.MULTIPLE_CHOICE:
                choices = [(c.code, c.text) for c in question.choices.all()]
                return forms.MultipleChoiceField(
                    choices=choices,
                    widget=AcuteCheckboxSelectMultiple(acute_values=acute),
                    **common,
                )
            case IntakeQuestion.Kind.YES_NO:
                acute = [question.acute_risk_answer] if question.acute_risk_answer else []
                return forms.ChoiceField(
                    choices=YES_NO_CHOICES, widget=AcuteRadioSelect(acute_values=acute), **common
                )
            case _:
                return forms.CharField(
                    max_length=500, widget=forms.Textarea(attrs={"rows": 3}), **common
                )

    def responses(self) -> list[IntakeResponse]:
        return [
            IntakeResponse(question=q, value=self.cleaned_data.get(self.field_name(q)) or "")
            for q in self.questions
        ]


# --- Waitlist ----------------------------------------------------------------------


class WaitlistLocationForm(forms.Form):
    """The location asked for in `?locatie=<id>`; empty means any location."""

    locatie = forms.IntegerField(min_value=1, required=False)


class WaitlistForm(ContactForm):
    """Where to send the offer when a time frees up, with consent.

    The contact form with two differences: a contact is required (without one
    nobody can be told that a time came free), and the consent speaks of the
    waitlist. Only the contact for the chosen channel is kept.
    """

    contact_required = _("Vul een e-mailadres of een mobiel nummer in.")
    consent_required = _("Zet een vinkje. Zonder je toestemming kunnen we je geen bericht sturen.")
    channel_required = _("Kies of je het bericht per e-mail of per sms wilt krijgen.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, require_contact=True, **kwargs)
        self.fields["email"].help_text = _("Een e-mailadres of een mobiel nummer is genoeg.")
        self.fields["contact_channel"].label = _("Hoe wil je het bericht krijgen?")
        self.fields["consent"].label = _(
            "Ja, stuur mij een bericht als er een tijd vrijkomt. "
            "Daarvoor mogen jullie mijn e-mailadres of nummer bewaren."
        )


class WaitlistAnswerForm(forms.Form):
    """The button a client pressed on an offer: take the time or let it go."""

    answer = forms.ChoiceField(choices=[("accept", "accept"), ("decline", "decline")])
