"""The channels for real: SMTP against a server on loopback, NotifyNL against a local
HTTP server that checks what it receives, and the file backend.
"""

import email
import json
import logging
import re
import socket
import threading
import uuid
from datetime import timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from appointments import services
from appointments.models import Message
from appointments.notifications.outbox import outbox_dispatch
from appointments.notifications.sms import FileSmsBackend, NotifyNLSmsBackend, SmsError
from appointments.services import ContactDetails
from tests.factories import SlotFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_quiet_hours(settings):
    """These tests send SMS on the real clock; quiet hours have tests of their own."""
    settings.SPREEKUUR_SMS_QUIET_FROM, settings.SPREEKUUR_SMS_QUIET_UNTIL = 24, 0


EMAIL = "client.private@example.org"
PHONE = "+31612345678"
SENSITIVE = re.compile(r"spreekuur|chemsex|drugs|soa|sti|prep|hiv|seks|sex", re.IGNORECASE)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def book(*, channel: str):
    slot = SlotFactory(
        service__name_nl="Chemsex spreekuur", service__name_en="Chemsex consultation"
    )
    contact = (
        ContactDetails(email=EMAIL, channel="email")
        if channel == "email"
        else ContactDetails(phone=PHONE, channel="sms")
    )
    hold = services.slot_hold(slot_id=slot.pk)
    return services.booking_confirm(hold_public_id=hold.public_id, contact=contact).booking


def confirmation_of(booking) -> Message:
    return Message.objects.get(booking=booking, kind=Message.Kind.CONFIRMATION)


# --- SMTP --------------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port(settings):
    port = free_port()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    return port


@pytest.fixture
def smtp_server(smtp_port):
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


def test_a_confirmation_goes_through_a_real_smtp_server(smtp_server):
    booking = book(channel="email")
    message = confirmation_of(booking)

    report = outbox_dispatch()

    assert report.sent == 1
    (envelope,) = smtp_server.envelopes
    assert envelope.rcpt_tos == [EMAIL]
    received = email.message_from_bytes(envelope.content, policy=policy.default)
    assert received.get_content_type() == "multipart/mixed"
    types = [part.get_content_type() for part in received.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(types)
    assert received.get_body(("plain",)).get_content().startswith("Je afspraak bij de GGD")
    calendar = next(part for part in received.walk() if part.get_content_type() == "text/calendar")
    assert calendar.get_filename() == "afspraak.ics"
    assert "SUMMARY:Afspraak bij de GGD" in calendar.get_content()
    # The sender names the organisation only.
    sender = received["From"].addresses[0]
    assert sender.display_name and not SENSITIVE.search(str(received["From"]))
    assert not SENSITIVE.search(str(received["Subject"]))
    # One id per message, known to us: a duplicate is recognisable by it.
    message.refresh_from_db()
    assert str(message.public_id) in received["Message-ID"]
    assert message.provider_id == received["Message-ID"]
    assert message.status == Message.Status.SENT


def test_the_message_id_is_the_same_on_every_attempt(smtp_port, time_machine):
    """A retry after an unclear failure must carry the same Message-ID as the first try."""
    time_machine.move_to(timezone.now(), tick=False)
    booking = book(channel="email")
    message = confirmation_of(booking)
    recorder = Recorder()
    for _attempt in range(2):
        controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        try:
            Message.objects.filter(pk=message.pk).update(status=Message.Status.PENDING)
            outbox_dispatch()
        finally:
            controller.stop()
        time_machine.shift(timedelta(seconds=1))

    ids = [
        email.message_from_bytes(e.content, policy=policy.default)["Message-ID"]
        for e in recorder.envelopes
    ]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_an_smtp_server_that_is_down_costs_a_retry_not_the_message(smtp_port, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    booking = book(channel="email")
    message = confirmation_of(booking)

    report = outbox_dispatch()  # nothing listens on the port

    message.refresh_from_db()
    assert (report.retried, message.status, message.attempts) == (1, Message.Status.PENDING, 1)
    assert message.last_error == "ConnectionRefusedError"
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert outbox_dispatch().claimed == 0  # not before the backoff
        time_machine.shift(timedelta(minutes=1, seconds=1))
        report = outbox_dispatch()
    finally:
        controller.stop()

    message.refresh_from_db()
    assert (report.sent, message.status, message.attempts) == (1, Message.Status.SENT, 2)
    assert len(recorder.envelopes) == 1


# --- NotifyNL ----------------------------------------------------------------------------

SERVICE_ID = str(uuid.uuid4())
SECRET = str(uuid.uuid4())
TEMPLATE_ID = str(uuid.uuid4())
API_KEY = f"spreekuur_test-{SERVICE_ID}-{SECRET}"


class FakeNotify:
    """What GOV.UK Notify (NotifyNL) checks, and what it answers."""

    def __init__(self):
        self.requests: list[dict] = []
        self.problems: list[str] = []
        self.answer_status = 201

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        body = handler.rfile.read(int(handler.headers["Content-Length"]))
        problems = []
        if handler.path != "/v2/notifications/sms":
            problems.append(f"path {handler.path}")
        auth = handler.headers.get("Authorization", "")
        try:
            scheme, token = auth.split(" ", 1)
            assert scheme == "Bearer"
            claims = jwt.decode(
                token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]}
            )
            if claims["iss"] != SERVICE_ID:
                problems.append(f"iss {claims['iss']}")
        except (ValueError, AssertionError, jwt.InvalidTokenError) as error:
            problems.append(f"authorization: {error!r}")
        if handler.headers.get("Content-Type") != "application/json":
            problems.append(f"content type {handler.headers.get('Content-Type')}")
        data = json.loads(body)
        self.requests.append(data)
        self.problems += problems
        if problems:
            return 403, {"errors": [{"error": "AuthError", "message": "; ".join(problems)}]}
        if self.answer_status != 201:
            # Like Notify, the error echoes what it was sent, the number too.
            return self.answer_status, {
                "errors": [{"error": "BadRequestError", "message": f"Bad number {PHONE}"}]
            }
        return 201, {
            "id": str(uuid.uuid4()),
            "reference": data.get("reference"),
            "content": {"body": data["personalisation"]["bericht"], "from_number": "GGD"},
            "template": {"id": data["template_id"], "version": 1, "uri": "x"},
            "uri": "x",
        }


@pytest.fixture
def notify(settings):
    fake = FakeNotify()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            status, answer = fake.handle(self)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.SMS_BACKEND = "appointments.notifications.sms.NotifyNLSmsBackend"
    settings.NOTIFYNL_BASE_URL = f"http://127.0.0.1:{server.server_address[1]}"
    settings.NOTIFYNL_API_KEY = API_KEY
    settings.NOTIFYNL_SMS_TEMPLATE_ID = TEMPLATE_ID
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def test_an_sms_goes_to_notifynl_as_its_api_expects(notify):
    booking = book(channel="sms")
    message = confirmation_of(booking)

    report = outbox_dispatch()

    assert notify.problems == []
    (sent,) = notify.requests
    assert set(sent) == {"phone_number", "template_id", "personalisation", "reference"}
    assert sent["phone_number"] == PHONE and re.fullmatch(r"\+[1-9]\d{7,14}", PHONE)
    assert sent["template_id"] == TEMPLATE_ID
    assert list(sent["personalisation"]) == ["bericht"]
    assert booking.reference in sent["personalisation"]["bericht"]
    assert not SENSITIVE.search(sent["personalisation"]["bericht"].split("http")[0])
    # The reference is the message's own id: nothing personal, nothing about the booking.
    assert sent["reference"] == str(message.public_id)
    assert PHONE not in sent["reference"] and booking.reference not in sent["reference"]
    message.refresh_from_db()
    assert report.sent == 1 and message.status == Message.Status.SENT
    uuid.UUID(message.provider_id)  # the id NotifyNL gave it


def test_a_refusal_by_notifynl_is_retried_and_logged_without_the_number(notify, caplog):
    notify.answer_status = 400
    booking = book(channel="sms")
    message = confirmation_of(booking)
    caplog.set_level(logging.DEBUG)

    report = outbox_dispatch()

    message.refresh_from_db()
    assert report.retried == 1 and message.status == Message.Status.PENDING
    assert message.last_error == "NotifyNL answered 400"
    assert PHONE not in caplog.text
    assert PHONE[-6:] not in caplog.text


def test_notifynl_unreachable_is_an_sms_error_without_personal_data(settings):
    settings.NOTIFYNL_BASE_URL = f"http://127.0.0.1:{free_port()}"
    settings.NOTIFYNL_API_KEY = API_KEY
    settings.NOTIFYNL_SMS_TEMPLATE_ID = TEMPLATE_ID

    with pytest.raises(SmsError) as raised:
        NotifyNLSmsBackend().send(to=PHONE, body="GGD: test", reference=str(uuid.uuid4()))

    assert PHONE not in str(raised.value)


# --- The file backend --------------------------------------------------------------------


def test_the_file_backend_appends_one_json_line_per_sms(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sub" / "sms.jsonl")
    backend = FileSmsBackend()

    ids = [
        backend.send(to=PHONE, body=f"Bericht {n}\nregel twee", reference=f"r{n}") for n in (1, 2)
    ]

    lines = (tmp_path / "sub" / "sms.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {"to": PHONE, "body": "Bericht 1\nregel twee", "reference": "r1"},
        {"to": PHONE, "body": "Bericht 2\nregel twee", "reference": "r2"},
    ]
    assert len(set(ids)) == 2


def test_the_outbox_sends_through_the_file_backend(settings, tmp_path):
    settings.SMS_BACKEND = "appointments.notifications.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    booking = book(channel="sms")

    outbox_dispatch()

    (line,) = (tmp_path / "sms.jsonl").read_text().splitlines()
    recorded = json.loads(line)
    assert recorded["reference"] == str(confirmation_of(booking).public_id)
    assert recorded["to"] == PHONE
