"""The outbox: messages are rows, written with the change that causes them.

Why no message is lost: a booking change and its messages commit in one
transaction, so a crash leaves either both or neither. The broker only carries
"look now" (`tasks.outbox_dispatch`, without arguments); beat says it every
minute too, so a lost or never-delivered task delays a message by a minute at
most. No task is ever scheduled for a far-future moment: a reminder is a row
with a `due_at`.

Why none is sent twice: a dispatcher claims due rows (`SELECT … FOR UPDATE SKIP
LOCKED` on PostgreSQL, SQLite's write lock elsewhere) and marks them SENDING with
a lease in a committed transaction before it sends anything; another dispatcher
skips them. A dispatcher sends a row only while its own lease on it holds (one
that stalled past its lease leaves the row to whoever claimed it next), and
after sending the row becomes SENT if it is still SENDING. A worker killed
between claiming and sending leaves the row SENDING until its lease runs out,
and then another worker sends it. Before a batch goes to the provider,
`send_started_at` is committed for each of its messages: a message taken over
with it set may already have gone out (the worker died after the provider
accepted it, before SENT was committed; sent SMS are marked SENT together at the
end of their batch, e-mails one by one as they go). For SMS the provider is
then asked by reference, and a message it already has is marked SENT, not sent
again. SMTP has no such question: an e-mail in that window is sent a second
time, with the same Message-ID, so the copy is recognisable as one message.

Public: `messages_after_confirm`, `messages_after_cancel`, `messages_after_reschedule`,
`messages_after_contact_change`, `message_for_waitlist_offer`, `sms_moment` and
`outbox_dispatch`.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ..models import Booking, ContactChannel, Message, WaitlistEntry
from .render import message_content, sms_text
from .sms import SmsError, get_sms_backend

logger = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo(settings.TIME_ZONE)
Kind = Message.Kind


# --- When an SMS may go -------------------------------------------------------------


def _in_quiet_hours(moment: datetime) -> bool:
    hour = timezone.localtime(moment, LOCAL_TZ).hour
    return hour >= settings.SPREEKUUR_SMS_QUIET_FROM or hour < settings.SPREEKUUR_SMS_QUIET_UNTIL


def _next_morning(moment: datetime) -> datetime:
    local = timezone.localtime(moment, LOCAL_TZ)
    day = local.date()
    if local.hour >= settings.SPREEKUUR_SMS_QUIET_UNTIL:
        day += timedelta(days=1)
    return datetime.combine(day, time(settings.SPREEKUUR_SMS_QUIET_UNTIL), tzinfo=LOCAL_TZ)


def _last_evening_moment(moment: datetime) -> datetime:
    """The last minute before the quiet hours that contain `moment` began."""
    local = timezone.localtime(moment, LOCAL_TZ)
    day = local.date()
    if local.hour < settings.SPREEKUUR_SMS_QUIET_FROM:
        day -= timedelta(days=1)
    start = datetime.combine(day, time(settings.SPREEKUUR_SMS_QUIET_FROM), tzinfo=LOCAL_TZ)
    return start - timedelta(minutes=1)


def sms_moment(
    *, due: datetime, kind: str, now: datetime, appointment_start: datetime | None = None
) -> datetime | None:
    """When an SMS due at `due` may go: never between 22:00 and 08:00 local time.

    A reminder that would fall in the night goes at the last allowed moment
    before it; if that has passed, the next morning, unless the appointment is
    over by then (None: no reminder). Any other SMS waits for the morning.
    """
    if not _in_quiet_hours(due):
        return due
    if kind == Kind.REMINDER:
        evening = _last_evening_moment(due)
        if evening >= now:
            return evening
        morning = _next_morning(due)
        return morning if appointment_start and morning < appointment_start else None
    return _next_morning(due)


# --- Writing messages (inside the caller's transaction) -----------------------------


def contact_channel(booking: Booking) -> str | None:
    """The channel to reach the client on, or None when they left no contact."""
    if booking.contact_channel == ContactChannel.EMAIL and booking.email:
        return ContactChannel.EMAIL
    if booking.contact_channel == ContactChannel.SMS and booking.phone:
        return ContactChannel.SMS
    return None


def _add(
    *,
    kind: str,
    channel: str,
    due: datetime,
    now: datetime,
    booking: Booking | None = None,
    entry: WaitlistEntry | None = None,
    appointment_start: datetime | None = None,
) -> Message | None:
    if channel == ContactChannel.SMS:
        due = sms_moment(due=due, kind=kind, now=now, appointment_start=appointment_start)
        if due is None:
            return None
    message = Message.objects.create(
        booking=booking,
        waitlist_entry=entry,
        kind=kind,
        channel=channel,
        due_at=due,
        appointment_start=appointment_start,
    )
    if due <= now:
        from ..tasks import outbox_dispatch as dispatch_task

        # After commit, so the worker finds the row; robust, so a broker that is
        # down costs the client nothing: beat looks again within a minute.
        transaction.on_commit(dispatch_task.delay, robust=True)
    return message


def _add_reminders(*, booking: Booking, channel: str, now: datetime) -> None:
    start = booking.slot.start
    moments = set()
    for hours in booking.slot.service.reminder_hours or []:
        due = start - timedelta(hours=float(hours))
        if due <= now:
            continue
        if channel == ContactChannel.SMS:
            due = sms_moment(due=due, kind=Kind.REMINDER, now=now, appointment_start=start)
            if due is None:
                continue
        moments.add(due)
    for due in sorted(moments):
        Message.objects.create(
            booking=booking,
            kind=Kind.REMINDER,
            channel=channel,
            due_at=due,
            appointment_start=start,
        )


def _cancel_pending(*, booking: Booking, kinds: list[str] | None = None) -> int:
    pending = Message.objects.filter(booking=booking, status=Message.Status.PENDING)
    if kinds:
        pending = pending.filter(kind__in=kinds)
    return pending.update(status=Message.Status.CANCELLED)


def messages_after_confirm(*, booking: Booking, now: datetime) -> None:
    channel = contact_channel(booking)
    if channel is None:
        return
    _add(booking=booking, kind=Kind.CONFIRMATION, channel=channel, due=now, now=now)
    _add_reminders(booking=booking, channel=channel, now=now)


def messages_after_cancel(*, booking: Booking, by_staff: bool, now: datetime) -> None:
    _cancel_pending(booking=booking)
    channel = contact_channel(booking)
    if channel is None:
        return
    kind = Kind.CANCELLED_BY_STAFF if by_staff else Kind.CANCEL_RECEIPT
    _add(booking=booking, kind=kind, channel=channel, due=now, now=now)


def messages_after_reschedule(*, booking: Booking, by_staff: bool, now: datetime) -> None:
    _cancel_pending(booking=booking, kinds=[Kind.REMINDER])
    channel = contact_channel(booking)
    if channel is None:
        return
    kind = Kind.RESCHEDULED_BY_STAFF if by_staff else Kind.RESCHEDULE_RECEIPT
    _add(booking=booking, kind=kind, channel=channel, due=now, now=now)
    _add_reminders(booking=booking, channel=channel, now=now)


def messages_after_contact_change(*, booking: Booking, now: datetime) -> None:
    """New or changed contact details: what is pending goes to the new address.

    Pending messages read the address when they are sent, so only a change of
    channel needs new rows; removing the contact stops everything pending.
    """
    channel = contact_channel(booking)
    pending = Message.objects.filter(booking=booking, status=Message.Status.PENDING)
    if channel is None:
        pending.update(status=Message.Status.CANCELLED)
        return
    if pending.filter(channel=channel).exists():
        return
    pending.update(status=Message.Status.CANCELLED)
    if booking.status == Booking.Status.CONFIRMED and booking.slot.start > now:
        # A first message to the new address, so the client has the link there too.
        _add(booking=booking, kind=Kind.CONFIRMATION, channel=channel, due=now, now=now)
        _add_reminders(booking=booking, channel=channel, now=now)


def message_for_waitlist_offer(*, entry: WaitlistEntry, now: datetime) -> Message | None:
    return _add(
        entry=entry, kind=Kind.WAITLIST_OFFER, channel=entry.contact_channel, due=now, now=now
    )


# --- Sending ----------------------------------------------------------------------------


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0
    postponed: int = 0
    # Taken over after a crash and found already delivered: marked sent, not sent again.
    recovered: int = 0


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.SPREEKUUR_OUTBOX_LEASE_SECONDS)


def _claim(*, now: datetime, limit: int) -> list[int]:
    lease_until = _lease_until(now)
    due = Q(status=Message.Status.PENDING, due_at__lte=now) | Q(
        status=Message.Status.SENDING, claimed_until__lt=now
    )
    with transaction.atomic():
        candidates = Message.objects.filter(due).order_by("due_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        ids = list(candidates.values_list("pk", flat=True)[:limit])
        # Counted at the claim, so a message that kills its worker every time
        # still runs out of attempts.
        Message.objects.filter(pk__in=ids).filter(due).update(
            status=Message.Status.SENDING,
            claimed_until=lease_until,
            attempts=F("attempts") + 1,
        )
    return ids


def _obsolete(message: Message, now: datetime) -> bool:
    """Whether the reason for the message has gone since it was written."""
    if message.kind == Kind.WAITLIST_OFFER:
        entry = message.waitlist_entry
        return (
            entry.status != WaitlistEntry.Status.OFFERED
            or entry.offer is None
            or not entry.offer.hold_is_live(now)
        )
    booking = message.booking
    if contact_channel(booking) != message.channel:
        return True
    if message.kind == Kind.REMINDER:
        return (
            booking.status != Booking.Status.CONFIRMED
            or booking.slot.start != message.appointment_start
            or booking.slot.start <= now
        )
    if message.kind in (Kind.CONFIRMATION, Kind.RESCHEDULE_RECEIPT, Kind.RESCHEDULED_BY_STAFF):
        return booking.status != Booking.Status.CONFIRMED
    return False


def _recipient(message: Message) -> str:
    holder = message.booking or message.waitlist_entry
    return holder.email if message.channel == ContactChannel.EMAIL else holder.phone


def _send(message: Message) -> str:
    to = _recipient(message)
    if message.channel == ContactChannel.SMS:
        body = sms_text(message)
        return get_sms_backend().send(to=to, body=body, reference=str(message.public_id))
    content = message_content(message)
    # The same on every attempt, so a message sent twice is recognisably one message.
    message_id = f"<{message.public_id}@spreekuur>"
    email = EmailMultiAlternatives(
        subject=content.subject,
        body=content.text,
        to=[to],
        headers={"Message-ID": message_id},
    )
    email.attach_alternative(content.html, "text/html")
    if content.ics:
        email.attach("afspraak.ics", content.ics, "text/calendar")
    email.send()
    return message_id


def _earlier_delivery(message: Message) -> str | None:
    """For a message an earlier attempt may have handed over: the provider's id, if so.

    The SMS provider can be asked by reference. SMTP cannot: an e-mail whose
    sender died mid-send is sent again, with the same Message-ID.
    """
    if message.send_started_at is None or message.channel != ContactChannel.SMS:
        return None
    return get_sms_backend().find(reference=str(message.public_id))


def _error_text(error: Exception) -> str:
    # SMTP and HTTP errors can quote the address: keep the kind of error only,
    # and the texts of our own SmsError, which are written without personal data.
    if isinstance(error, SmsError):
        return str(error)[:200]
    return type(error).__name__


def _record_failure(
    message: Message,
    error: Exception,
    *,
    ours: QuerySet[Message],
    now: datetime,
    report: DispatchReport,
) -> None:
    """A retry with backoff, or FAILED after the last attempt; logged without personal data."""
    attempts = message.attempts
    logger.warning(
        "message %s (%s, %s) attempt %s failed: %s",
        message.public_id,
        message.kind,
        message.channel,
        attempts,
        _error_text(error),
    )
    if attempts >= settings.SPREEKUUR_OUTBOX_MAX_ATTEMPTS:
        ours.filter(pk=message.pk).update(
            status=Message.Status.FAILED,
            last_error=_error_text(error),
            claimed_until=None,
        )
        report.failed += 1
    else:
        backoff = timedelta(minutes=min(60, 2 ** (attempts - 1)))
        ours.filter(pk=message.pk).update(
            status=Message.Status.PENDING,
            due_at=now + backoff,
            last_error=_error_text(error),
            claimed_until=None,
        )
        report.retried += 1


def _mark_sent(provider_ids: dict[int, str]) -> None:
    """Mark the messages in `provider_ids` (pk: the provider's id) sent, in one UPDATE.

    Sent is sent, even if our lease ran out during the send: a dispatcher that
    took a message over and has not sent it yet then leaves it alone.

    Plain SQL, because each row gets its own provider id: the ORM's way to say
    that (`Case(When(pk=…))`, as `bulk_update` does) cost more Python time than
    sending the SMS. `UPDATE … FROM (VALUES …)` works on PostgreSQL and SQLite.
    """
    if not provider_ids:
        return
    rows = ", ".join(["(%s, %s)"] * len(provider_ids))
    table = connection.ops.quote_name(Message._meta.db_table)
    # Only the table name and placeholders are joined into the text; every value
    # is a parameter.
    sql = f"""
        UPDATE {table}
        SET status = %s, sent_at = %s, provider_id = sent.column2, last_error = '',
            claimed_until = NULL
        FROM (VALUES {rows}) AS sent
        WHERE {table}.id = sent.column1 AND {table}.status = %s
    """  # noqa: S608
    params = [Message.Status.SENT, timezone.now()]
    for pk, provider_id in provider_ids.items():
        params += [pk, provider_id[:100]]
    params.append(Message.Status.SENDING)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    provider_ids.clear()


def _deliver(
    ids: list[int], *, now: datetime, lease_until: datetime, report: DispatchReport
) -> None:
    """Send the claimed messages `ids`, with a fixed number of queries for the batch.

    The per-message round trips (read, mark started, mark sent) were most of the
    time per message; here each is one query for the whole batch, and only a
    failure or a drop costs a query of its own.
    """
    # Ours only under our own lease: once it has run out, another dispatcher may
    # have claimed the messages and be sending them; leave them to that one.
    if timezone.now() >= lease_until:
        return
    ours = Message.objects.filter(
        pk__in=ids, status=Message.Status.SENDING, claimed_until=lease_until
    )
    messages = ours.select_related(
        "booking__slot__location",
        "booking__slot__service",
        "waitlist_entry__offer__slot__location",
    )
    obsolete, night, exhausted, sendable = [], [], [], []
    for message in messages:
        if _obsolete(message, now):
            obsolete.append(message.pk)
        elif message.channel == ContactChannel.SMS and _in_quiet_hours(now):
            # A retry or a late worker must not wake anyone up either.
            night.append(message.pk)
        elif message.attempts > settings.SPREEKUUR_OUTBOX_MAX_ATTEMPTS:
            exhausted.append(message.pk)
        else:
            sendable.append(message)
    if obsolete:
        ours.filter(pk__in=obsolete).update(status=Message.Status.CANCELLED, claimed_until=None)
        report.dropped += len(obsolete)
    if night:
        ours.filter(pk__in=night).update(
            status=Message.Status.PENDING,
            due_at=_next_morning(now),
            attempts=F("attempts") - 1,
            claimed_until=None,
        )
        report.postponed += len(night)
    if exhausted:
        ours.filter(pk__in=exhausted).update(
            status=Message.Status.FAILED, last_error="too many attempts", claimed_until=None
        )
        report.failed += len(exhausted)

    sent: dict[int, str] = {}
    to_send = []
    for message in sendable:
        try:
            provider_id = _earlier_delivery(message)
        except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
            _record_failure(message, error, ours=ours, now=now, report=report)
            continue
        if provider_id is None:
            to_send.append(message)
        else:
            sent[message.pk] = provider_id
            report.recovered += 1

    # Committed for the whole batch before the provider sees any of it: a worker
    # that takes a message over after a crash knows it may have gone out, and asks
    # the SMS provider first. Fewer rows than asked means that our lease ran out
    # and another dispatcher took some over: then we send none of them.
    started = ours.filter(pk__in=[message.pk for message in to_send])
    if to_send and started.update(send_started_at=timezone.now()) != len(to_send):
        to_send = []
    for message in to_send:
        if timezone.now() >= lease_until:
            break  # the rest is taken over after the lease, with the provider asked first
        try:
            sent[message.pk] = _send(message)
        except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
            _record_failure(message, error, ours=ours, now=now, report=report)
            continue
        report.sent += 1
        if message.channel == ContactChannel.EMAIL:
            # SMTP cannot be asked what it has: an e-mail not yet marked sent when
            # the worker dies goes out again, so mark each as soon as it has gone.
            _mark_sent(sent)
    _mark_sent(sent)


def outbox_dispatch(*, now: datetime | None = None, limit: int | None = None) -> DispatchReport:
    """Send what is due, at most `limit` messages; safe to run in many workers at once."""
    now = now or timezone.now()
    report = DispatchReport()
    ids = _claim(now=now, limit=limit or settings.SPREEKUUR_OUTBOX_BATCH)
    report.claimed = len(ids)
    if ids:
        _deliver(ids, now=now, lease_until=_lease_until(now), report=report)
    return report
