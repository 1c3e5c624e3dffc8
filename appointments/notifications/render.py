"""The texts of messages, from templates/messages/, in the recipient's language.

Discreet by rule: no subject, text, sender or calendar title names the service
or a health topic. The context therefore holds no service at all: a template
cannot name what it is not given.
"""

from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from ..calendar import booking_ics
from ..crypto import unseal
from ..models import Message, Slot


@dataclass(frozen=True)
class MessageContent:
    subject: str
    text: str
    html: str
    sms: str
    ics: bytes | None


# Kinds whose e-mail carries a calendar file that updates the client's calendar.
CALENDAR_KINDS = {
    Message.Kind.CONFIRMATION,
    Message.Kind.RESCHEDULE_RECEIPT,
    Message.Kind.RESCHEDULED_BY_STAFF,
    Message.Kind.CANCEL_RECEIPT,
    Message.Kind.CANCELLED_BY_STAFF,
}


def when_text(moment) -> str:
    """'di 3 dec om 14:30' / 'Tue 3 Dec at 14:30', in the active language."""
    local = timezone.localtime(moment)
    # The date format is translated too: Dutch writes months in lower case.
    day = formats.date_format(local, translation.pgettext("short date in messages", "D j b"))
    return translation.gettext("%(day)s om %(time)s") % {"day": day, "time": f"{local:%H:%M}"}


def _slot_context(slot: Slot) -> dict:
    return {
        "when": when_text(slot.start),
        "location_name": slot.location.name,
        "location_address": slot.location.full_address,
    }


def _absolute(path: str) -> str:
    return settings.SPREEKUUR_BASE_URL + path


def _language(message: Message) -> str:
    return (message.booking or message.waitlist_entry).language


def _context(message: Message) -> tuple[dict, str]:
    """The templates' context and the client's link token, in the active language."""
    booking = message.booking
    entry = message.waitlist_entry
    context: dict = {"organisation": settings.SPREEKUUR_ORGANISATION, "kind": message.kind}
    if message.kind == Message.Kind.WAITLIST_OFFER:
        offer = entry.offer
        token = unseal(entry.offer_token_sealed)
        context |= _slot_context(offer.slot)
        context["until"] = when_text(offer.held_until)
        context["offer_url"] = _absolute(reverse("appointments:waitlist_offer", args=[token]))
    else:
        token = unseal(booking.manage_token_sealed)
        context |= _slot_context(booking.slot)
        context["reference"] = booking.reference
        context["manage_url"] = _absolute(reverse("appointments:manage", args=[token]))
        context["book_url"] = _absolute(reverse("appointments:home"))
    return context, token


def _sms(message: Message, context: dict) -> str:
    return " ".join(render_to_string(f"messages/{message.kind}.sms.txt", context).split())


def message_content(message: Message) -> MessageContent:
    with translation.override(_language(message)):
        context, token = _context(message)
        ics = None
        if message.kind in CALENDAR_KINDS and token:
            ics = booking_ics(booking=message.booking)
        name = f"messages/{message.kind}"
        return MessageContent(
            subject=" ".join(render_to_string(f"{name}.subject.txt", context).split()),
            text=render_to_string(f"{name}.txt", context).strip() + "\n",
            html=render_to_string(f"{name}.html", context),
            sms=_sms(message, context),
            ics=ics,
        )


def sms_text(message: Message) -> str:
    """Only the SMS, the same text as `message_content(message).sms`.

    The dispatcher sends thousands of SMS in a row: rendering the e-mail's three
    templates and its calendar file for each was a fifth of the time per SMS.
    """
    with translation.override(_language(message)):
        context, _token = _context(message)
        return _sms(message, context)
