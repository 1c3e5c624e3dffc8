"""SMS backends, chosen by `settings.SMS_BACKEND` in the manner of `EMAIL_BACKEND`.

Every backend takes a number in E.164 form, the text, and a `reference` that
holds no personal data (the outbox message's public id), and returns the
provider's id for the message.
"""

import json
import logging
import os
import sys
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

# The NotifyNL client logs the provider's error text, which can quote the number,
# at WARNING; the outbox logs each failure itself, without personal data.
logging.getLogger("notifications_python_client").setLevel(logging.ERROR)


class SmsError(Exception):
    """The provider did not take the message; the text says why, without personal data."""


class BaseSmsBackend:
    def send(self, *, to: str, body: str, reference: str) -> str:
        raise NotImplementedError

    def find(self, *, reference: str) -> str | None:
        """The provider's id of an SMS sent earlier with `reference`, if it has one.

        Asked before sending a message whose earlier attempt may have reached the
        provider; None means "not there" (or, for a backend that cannot tell,
        "unknown"), and the message is sent.
        """
        return None


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints each SMS, for `make run`."""

    _lock = threading.Lock()

    def send(self, *, to: str, body: str, reference: str) -> str:
        with self._lock:
            sys.stdout.write(f"--- SMS to {to} (ref {reference}) ---\n{body}\n---\n")
            sys.stdout.flush()
        return f"console-{reference}"


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps each SMS in `outbox`, for tests."""

    outbox: list[dict] = []

    def send(self, *, to: str, body: str, reference: str) -> str:
        LocmemSmsBackend.outbox.append({"to": to, "body": body, "reference": reference})
        return f"locmem-{reference}"

    def find(self, *, reference: str) -> str | None:
        if any(sms["reference"] == reference for sms in LocmemSmsBackend.outbox):
            return f"locmem-{reference}"
        return None


class FileSmsBackend(BaseSmsBackend):
    """Appends each SMS as a JSON line to `SMS_FILE_PATH`, for tests across processes.

    One `write` of one line to a file opened in append mode: lines from several
    processes never interleave.
    """

    def send(self, *, to: str, body: str, reference: str) -> str:
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"to": to, "body": body, "reference": reference}) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
        return f"file-{uuid.uuid4()}"

    def find(self, *, reference: str) -> str | None:
        path = Path(settings.SMS_FILE_PATH)
        if not path.exists():
            return None
        with path.open() as lines:
            for line in lines:
                if line.strip() and json.loads(line)["reference"] == reference:
                    return f"file-{reference}"
        return None


class NotifyNLSmsBackend(BaseSmsBackend):
    """NotifyNL, the Dutch government's notification service (the GOV.UK Notify API).

    The template in NotifyNL holds one placeholder, ((bericht)), for the whole
    text, so the wording stays in this project's templates. The API key, base
    URL and template id come from the environment.
    """

    def __init__(self) -> None:
        from notifications_python_client.notifications import NotificationsAPIClient

        self.client = NotificationsAPIClient(
            settings.NOTIFYNL_API_KEY, base_url=settings.NOTIFYNL_BASE_URL
        )

    def send(self, *, to: str, body: str, reference: str) -> str:
        from notifications_python_client.errors import APIError

        try:
            response = self.client.send_sms_notification(
                phone_number=to,
                template_id=settings.NOTIFYNL_SMS_TEMPLATE_ID,
                personalisation={"bericht": body},
                reference=reference,
            )
        except APIError as error:
            # The provider's message can echo the number; keep the status only.
            raise SmsError(f"NotifyNL answered {error.status_code}") from None
        except OSError as error:
            raise SmsError(f"NotifyNL unreachable: {type(error).__name__}") from None
        return str(response["id"])

    def find(self, *, reference: str) -> str | None:
        from notifications_python_client.errors import APIError

        try:
            response = self.client.get_all_notifications(template_type="sms", reference=reference)
        except APIError as error:
            raise SmsError(f"NotifyNL lookup answered {error.status_code}") from None
        except OSError as error:
            raise SmsError(f"NotifyNL unreachable: {type(error).__name__}") from None
        notifications = response.get("notifications", [])
        return str(notifications[0]["id"]) if notifications else None


def get_sms_backend() -> BaseSmsBackend:
    return import_string(settings.SMS_BACKEND)()
