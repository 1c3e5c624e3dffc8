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


def message_content(message: Message) -> MessageContent:
    booking = message.booking
    entry = message.waitlist_entry
    language = (booking or entry).language
    with translation.override(language):
        context: dict = {"organisation": settings.SPREEKUUR_ORGANISATION, "kind": message.kind}
        ics = None
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
            if message.kind in CALENDAR_KINDS and token:
                ics = booking_ics(booking=booking)
        name = f"messages/{message.kind}"
        return MessageContent(
            subject=" ".join(render_to_string(f"{name}.subject.txt", context).split()),
            text=render_to_string(f"{name}.txt", context).strip() + "\n",
            html=render_to_string(f"{name}.html", context),
            sms=" ".join(render_to_string(f"{name}.sms.txt", context).split()),
            ics=ics,
        )
