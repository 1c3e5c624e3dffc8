"""Logs and error mails without personal data.

`RedactSecrets` (a filter on the log handlers) replaces manage and offer
tokens in paths, and anything shaped like an e-mail address or phone number,
in every record and its traceback before it is written.
`PersonalDataReporterFilter` makes Django's error reports (the mails to
ADMINS) leave out every POST value, cookie, header and local variable.
`RedactedAdminEmailHandler` runs the finished mail through the same
redaction, since the report also quotes the request URL.
"""

import logging
import re

from django.utils.log import AdminEmailHandler
from django.views.debug import SafeExceptionReporterFilter

_PATTERNS = [
    # The secret in a manage or waitlist-offer link.
    (re.compile(r"(/(?:mijn-afspraak|wachtlijst)/)[A-Za-z0-9_\-]{16,}"), r"\1[token]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-mail]"),
    # Phone numbers: they start with + or 0 (Dutch 06…, 020…, +31…, 0031…).
    (re.compile(r"(?<![\w-])(?:\+|0)\d(?:[ -]?\d){7,13}(?![\w-])"), "[number]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """For log handlers: the message and its traceback, redacted, as one text.

    An exception's text can quote what a person typed, so the traceback is
    formatted here, redacted and folded into the message (plain and JSON
    formatters then print it alike).
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format must not lose the record
            message = str(record.msg)
        if record.exc_info:
            message += "\n" + self._formatter.formatException(record.exc_info)
        if record.stack_info:
            message += "\n" + record.stack_info
        record.msg, record.args = redact(message), ()
        record.exc_info = record.exc_text = record.stack_info = None
        return True


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """Error reports keep the traceback and drop every value a person typed or sent."""

    def is_active(self, request):
        return True

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_safe_cookies(self, request):
        return dict.fromkeys(getattr(request, "COOKIES", {}), self.cleansed_substitute)

    def get_safe_request_meta(self, request):
        keep = {"REQUEST_METHOD", "SERVER_NAME", "SERVER_PORT", "CONTENT_TYPE"}
        return {
            key: (value if key in keep else self.cleansed_substitute)
            for key, value in getattr(request, "META", {}).items()
        }

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]


class RedactedAdminEmailHandler(AdminEmailHandler):
    def send_mail(self, subject, message, *args, **kwargs):
        kwargs.pop("html_message", None)
        super().send_mail(redact(subject), redact(message), *args, **kwargs)
