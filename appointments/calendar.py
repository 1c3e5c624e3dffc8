"""Calendar files (.ics) for an appointment, neutral by rule.

The title, description and organiser never name the service or a health topic:
a calendar is seen on lock screens, shared devices and synced accounts.
"""

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from .models import Booking


def booking_ics(*, booking: Booking) -> bytes:
    slot = booking.slot
    calendar = Calendar()
    calendar.add("prodid", "-//Spreekuur//NL")
    calendar.add("version", "2.0")
    cancelled = booking.status == Booking.Status.CANCELLED
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    with translation.override(booking.language):
        event = Event()
        # Stable across changes, so a calendar updates the event instead of adding one.
        event.add("uid", f"{booking.public_id}@spreekuur")
        event.add("sequence", booking.sequence)
        event.add("dtstamp", timezone.now())
        event.add("dtstart", slot.start)
        event.add("dtend", slot.end)
        event.add("summary", _("Afspraak bij de GGD"))
        event.add("location", slot.location.full_address)
        # The reference only, not the manage link: calendars are synced and shared,
        # and whoever has the link can cancel.
        event.add(
            "description",
            _("Afspraakcode: %(reference)s") % {"reference": booking.reference},
        )
        event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()
