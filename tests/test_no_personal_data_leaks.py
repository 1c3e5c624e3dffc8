"""Canary values typed into every client field never show up in a log record, task
argument, error mail or URL (the manage token is the one secret a URL may carry)."""

import io
import logging

import pytest
from celery.app.task import Task
from django.core import mail
from django.test import Client
from django.urls import reverse

from appointments import selectors
from appointments.models import IntakeQuestion
from appointments.notifications.outbox import outbox_dispatch
from tests.factories import IntakeQuestionFactory, SlotFactory

pytestmark = pytest.mark.django_db

CANARIES = {
    "nickname": "Kanarievogel",
    "email": "kanarie.zingt@example.org",
    "phone": "0612340987",
    "phone_e164": "+31612340987",
    "answer": "Kanarie-intake-geheim",
    "waitlist_email": "kanarie.wacht@example.org",
}


@pytest.fixture
def log_output():
    """What the configured console handler writes, whatever the logger."""
    stream = io.StringIO()
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    original, handler.stream = handler.stream, stream
    previous_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    yield stream
    handler.stream = original
    logging.getLogger().setLevel(previous_level)


@pytest.fixture
def task_arguments(monkeypatch):
    seen = []
    original = Task.apply_async

    def recording(self, args=None, kwargs=None, *rest, **options):
        seen.append((self.name, args, kwargs))
        return None

    monkeypatch.setattr(Task, "apply_async", recording)
    yield seen
    monkeypatch.setattr(Task, "apply_async", original)


def test_canaries_never_reach_logs_task_arguments_error_mails_or_urls(
    settings, log_output, task_arguments, monkeypatch, django_capture_on_commit_callbacks
):
    settings.DEBUG = False
    settings.ADMINS = ["beheer@example.org"]
    settings.SPREEKUUR_SMS_QUIET_FROM, settings.SPREEKUUR_SMS_QUIET_UNTIL = 24, 0
    slot = SlotFactory()
    question = IntakeQuestionFactory(service=slot.service, kind=IntakeQuestion.Kind.SHORT_TEXT)
    client = Client(raise_request_exception=False)
    urls = []

    def visit(method, url, data=None):
        response = getattr(client, method)(url, data or {})
        urls.append(url)
        if response.has_header("Location"):
            urls.append(response["Location"])
        return response

    with django_capture_on_commit_callbacks(execute=True):
        intake_url = visit("post", reverse("appointments:hold"), {"slot": slot.pk})["Location"]
        response = visit(
            "post",
            intake_url,
            {
                f"question_{question.pk}": CANARIES["answer"],
                "nickname": CANARIES["nickname"],
                "email": CANARIES["email"],
                "phone": CANARIES["phone"],
                "contact_channel": "email",
                "consent": "on",
            },
        )
    manage_url = response["Location"]
    token = manage_url.split("/")[2]
    visit("get", manage_url)
    with django_capture_on_commit_callbacks(execute=True):
        visit(
            "post",
            reverse("appointments:contact", args=[token]),
            {"phone": CANARIES["phone"], "contact_channel": "sms", "consent": "on"},
        )
        visit(
            "post",
            reverse("appointments:waitlist_join", args=[slot.service.pk]),
            {"email": CANARIES["waitlist_email"], "consent": "on"},
        )

    # A provider that fails with the address in its error text.
    class Refusing:
        def send(self, *, to, body, reference):
            raise RuntimeError(f"refused {to}")

        def find(self, *, reference):
            return None

    monkeypatch.setattr("appointments.notifications.outbox.get_sms_backend", Refusing)
    outbox_dispatch()

    # An error on a page with the token in its URL: the error mail goes to ADMINS.
    def broken(**kwargs):
        raise RuntimeError(f"broken for {CANARIES['email']}")

    monkeypatch.setattr(selectors, "booking_by_manage_token", broken)
    assert visit("get", manage_url).status_code == 500

    error_mails = [m for m in mail.outbox if "beheer@example.org" in m.to]
    assert error_mails, "the 500 sent an error mail to ADMINS"
    logs = log_output.getvalue()
    assert "Internal Server Error" in logs
    places = {
        "logs": logs,
        "error mails": "\n".join(m.subject + "\n" + m.body for m in error_mails),
        "task arguments": repr(task_arguments),
        "urls": "\n".join(urls),
    }
    for place, text in places.items():
        for name, canary in CANARIES.items():
            assert canary.lower() not in text.lower(), f"{name} in {place}"
    assert token not in places["logs"] and token not in places["error mails"]
    assert task_arguments and all(not a and not k for _n, a, k in task_arguments)
