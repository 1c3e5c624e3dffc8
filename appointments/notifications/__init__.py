"""Messages to clients: the outbox, its dispatcher, the texts and the SMS backends.

Public: `outbox` (schedule and dispatch), `render.message_content`, and
`sms.get_sms_backend` with the backends named by `settings.SMS_BACKEND`.
"""
