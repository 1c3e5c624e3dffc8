"""The outbox under faults, with real Celery workers on a real Redis and PostgreSQL.

Each test writes due messages, starts `celery -A spreekuur worker` processes as
production does (prefork, two pool processes each) against the test database,
and breaks something while they dispatch: a worker is SIGKILLed, the broker
crashes, two workers race. What the SMS provider received is counted in a
recording file (one JSON line per SMS, with the message's public id), so "sent
once" is checked where it matters, not only in the database.

No beat runs here: where the test needs the every-minute "look now", it sends
`outbox_dispatch` itself, every half second.
"""

import os
import secrets
import time
from collections.abc import Callable
from contextlib import contextmanager, suppress
from datetime import timedelta
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu import pools as kombu_pools

from appointments import tasks
from appointments.crypto import seal
from appointments.models import Booking, Message
from spreekuur.celery import app as celery_app
from tests.factories import ServiceFactory, SlotFactory
from tests.workers import RedisServer, Worker, recorded_references

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

FAULTS_REDIS_DB = 5
COUNT = 300
# The provider's latency: before it accepts an SMS, and before its answer is back
# (a kill in that second part is the window in which a message goes out twice).
SMS_DELAY_MS = 20
SMS_REPLY_MS = 5
LEASE_SECONDS = 3


def _require(message: str) -> None:
    if os.environ.get("SPREEKUUR_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def rabbitmq_url():
    """RabbitMQ at RABBITMQ_URL: the broker must be a matter of the URL alone."""
    from kombu import Connection

    url = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
    try:
        with Connection(url, connect_timeout=3) as probe:
            probe.ensure_connection(max_retries=1)
    except Exception as error:  # noqa: BLE001 - any failure means: no RabbitMQ here
        _require(f"needs RabbitMQ at {url}: {error}")
    return url


@pytest.fixture
def redis_url():
    """Redis at REDIS_URL, in a database of its own that is empty for each test."""
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    url = urlunsplit(parts._replace(path=f"/{FAULTS_REDIS_DB}"))
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        _require(f"needs Redis at {url}: {error}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def private_redis(tmp_path):
    if not RedisServer.available():
        _require("needs redis-server to start a Redis of its own")
    server = RedisServer(log_dir=tmp_path).start()
    yield server
    server.crash()


@contextmanager
def _publishing_to(url: str):
    """Point this process's Celery app (what `transaction.on_commit(task.delay)` uses) at `url`."""
    saved = (os.environ.get("CELERY_BROKER_URL"), celery_app.conf.broker_url)
    saved_options = celery_app.conf.broker_transport_options

    def drop_pools():
        # kombu keeps one pool per broker URL for the whole process: close and forget them.
        kombu_pools.reset()
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    drop_pools()
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.broker_url = url
    celery_app.conf.broker_transport_options = {}
    try:
        yield
    finally:
        drop_pools()
        if saved[0] is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved[0]
        celery_app.conf.broker_url = saved[1]
        celery_app.conf.broker_transport_options = saved_options


@pytest.fixture
def workers(postgresql, tmp_path):
    """Start workers against the test database; every one is SIGKILLed at the end."""
    started: list[Worker] = []
    sms_file = tmp_path / "sms.jsonl"
    db = connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"])
    database_url = (
        f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )

    def start(name: str, *, broker: str, sms_delay_ms: int = SMS_DELAY_MS) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "spreekuur.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker,
            "SECRET_KEY": django_settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(django_settings.FIELD_ENCRYPTION_KEYS),
            "SMS_BACKEND": "tests.workers.SlowFileSmsBackend",
            "SMS_FILE_PATH": str(sms_file),
            "SPREEKUUR_TEST_SMS_DELAY_MS": str(sms_delay_ms),
            "SPREEKUUR_TEST_SMS_REPLY_MS": str(SMS_REPLY_MS if sms_delay_ms else 0),
            "SPREEKUUR_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
            "SPREEKUUR_OUTBOX_BATCH": "20",
            # Never quiet: the tests must not depend on the time of day.
            "SPREEKUUR_SMS_QUIET_FROM": "24",
            "SPREEKUUR_SMS_QUIET_UNTIL": "0",
            "LOG_LEVEL": "INFO",
        }
        worker = Worker(name, env=env, log_dir=tmp_path).start()
        started.append(worker)
        return worker

    start.sms_file = sms_file
    start.started = started
    try:
        yield start
    finally:
        for worker in started:
            worker.kill()
        # The killed workers' connections are gone; close ours too before the flush.
        connection.close()


def _logs(workers) -> str:
    return "\n\n".join(f"--- {w.name}\n{w.log_tail()}" for w in workers.started)


def due_sms_reminders(count: int) -> list[int]:
    """`count` SMS reminders, due now, for `count` confirmed future appointments."""
    now = timezone.now()
    slot = SlotFactory(service=ServiceFactory(reminder_hours=[]), capacity=count)
    sealed = seal(secrets.token_urlsafe(32))
    bookings = Booking.objects.bulk_create(
        Booking(
            slot=slot,
            seat=seat,
            status=Booking.Status.CONFIRMED,
            reference=f"F{seat:03d}-TST",
            confirmed_at=now,
            phone=f"+316{20000000 + seat}",
            contact_channel="sms",
            manage_token_sealed=sealed,
        )
        for seat in range(count)
    )
    messages = Message.objects.bulk_create(
        Message(
            booking=booking,
            kind=Message.Kind.REMINDER,
            channel="sms",
            due_at=now - timedelta(minutes=1),
            appointment_start=slot.start,
        )
        for booking in bookings
    )
    return [message.pk for message in messages]


def dispatch(times: int = 1) -> None:
    """What beat does every minute: queue `outbox_dispatch`, without arguments."""
    for _ in range(times):
        tasks.outbox_dispatch.apply_async()


def wait_for(condition: Callable[[], bool], *, timeout: float, beat: bool = False, what: str):
    deadline = time.monotonic() + timeout
    next_beat = 0.0
    while time.monotonic() < deadline:
        if condition():
            return
        if beat and time.monotonic() >= next_beat:
            # The broker may be down right now: beat just tries again.
            with suppress(Exception):
                dispatch()
            next_beat = time.monotonic() + 0.5
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _statuses(ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Message.objects.filter(pk__in=ids).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


def all_sent(ids: list[int]) -> Callable[[], bool]:
    return lambda: not Message.objects.filter(pk__in=ids).exclude(status="sent").exists()


def references(ids: list[int]) -> set[str]:
    return {str(p) for p in Message.objects.filter(pk__in=ids).values_list("public_id", flat=True)}


def _sent(workers) -> int:
    return sum(recorded_references(workers.sms_file).values())


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(redis_url, workers):
    ids = due_sms_reminders(COUNT)
    started = time.monotonic()
    with _publishing_to(redis_url):
        first = workers("first", broker=redis_url).wait_ready()
        dispatch(4)
        wait_for(lambda: _sent(workers) >= 60, timeout=30, what="the first SMS")
        first.kill()
        at_kill = recorded_references(workers.sms_file)
        in_flight = references(
            list(Message.objects.filter(pk__in=ids, status="sending").values_list("pk", flat=True))
        )
        assert sum(at_kill.values()) < COUNT, "the worker finished before it was killed"

        workers("second", broker=redis_url).wait_ready()
        try:
            wait_for(all_sent(ids), timeout=45, beat=True, what="every message to be sent")
        except AssertionError as error:
            raise AssertionError(f"{error}: {_statuses(ids)}\n{_logs(workers)}") from None

    sent = recorded_references(workers.sms_file)
    assert set(sent) == references(ids), "every message reached the provider"
    duplicates = {reference: n for reference, n in sent.items() if n > 1}
    print(
        f"kill -9: {COUNT} messages, {sum(at_kill.values())} sent before the kill, "
        f"{len(in_flight)} claimed by the killed worker, {len(duplicates)} sent twice, "
        f"{time.monotonic() - started:.1f} s"
    )
    # A message the killed worker had handed to the provider but not marked SENT
    # is found at the provider by its reference and not sent again.
    assert duplicates == {}


def test_a_broker_crash_mid_dispatch_loses_nothing(private_redis, workers):
    ids = due_sms_reminders(COUNT)
    started = time.monotonic()
    with _publishing_to(private_redis.url):
        workers("first", broker=private_redis.url).wait_ready()
        dispatch(4)
        wait_for(lambda: _sent(workers) >= 60, timeout=30, what="the first SMS")
        private_redis.crash()  # every queued and unacknowledged task is gone with it
        at_crash = _sent(workers)
        time.sleep(2)
        private_redis.start()
        try:
            wait_for(all_sent(ids), timeout=50, beat=True, what="every message to be sent")
        except AssertionError as error:
            raise AssertionError(f"{error}: {_statuses(ids)}\n{_logs(workers)}") from None

    sent = recorded_references(workers.sms_file)
    print(
        f"redis crash: {COUNT} messages, {at_crash} sent before the crash, "
        f"{time.monotonic() - started:.1f} s"
    )
    assert at_crash < COUNT, "the batch was done before the broker went down"
    assert set(sent) == references(ids)
    assert max(sent.values()) == 1


def test_two_workers_and_many_dispatch_runs_at_once_send_nothing_twice(redis_url, workers):
    ids = due_sms_reminders(COUNT)
    started = time.monotonic()
    with _publishing_to(redis_url):
        pair = [workers(name, broker=redis_url) for name in ("left", "right")]
        for worker in pair:
            worker.wait_ready()
        dispatch(8)
        try:
            wait_for(all_sent(ids), timeout=45, beat=True, what="every message to be sent")
        except AssertionError as error:
            raise AssertionError(f"{error}: {_statuses(ids)}\n{_logs(workers)}") from None

    sent = recorded_references(workers.sms_file)
    print(f"two workers: {COUNT} messages, {time.monotonic() - started:.1f} s")
    assert set(sent) == references(ids)
    assert max(sent.values()) == 1, "nothing sent twice"
    # Each message was claimed once: no dispatcher ever took over another's claim.
    assert set(Message.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}
    logs = [w.log_path.read_text() for w in pair]
    assert all("appointments.tasks.outbox_dispatch" in log for log in logs), "both dispatched"


def test_a_booking_made_in_the_browser_gets_its_confirmation_from_a_real_worker(
    redis_url, workers, client, settings
):
    settings.SPREEKUUR_SMS_QUIET_FROM, settings.SPREEKUUR_SMS_QUIET_UNTIL = 24, 0
    slot = SlotFactory()
    with _publishing_to(redis_url):
        workers("e2e", broker=redis_url, sms_delay_ms=0).wait_ready()

        held = client.post(reverse("appointments:hold"), {"slot": slot.pk})
        assert held.status_code == 302
        confirmed = client.post(
            held.url, {"phone": "06 12345678", "contact_channel": "sms", "consent": "on"}
        )
        assert confirmed.status_code == 302, confirmed.content.decode()[:2000]

        booking = Booking.objects.get(slot=slot, status=Booking.Status.CONFIRMED)
        assert booking.phone == "+31612345678"
        confirmation = Message.objects.get(booking=booking, kind=Message.Kind.CONFIRMATION)
        # No beat: the task queued when the booking committed is what sends it.
        try:
            wait_for(
                all_sent([confirmation.pk]), timeout=30, what="the worker to send the confirmation"
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{_logs(workers)}") from None

    sent = recorded_references(workers.sms_file)
    assert sent == {str(confirmation.public_id): 1}
    confirmation.refresh_from_db()
    assert confirmation.provider_id.startswith("file-")
    assert Message.objects.filter(booking=booking, kind=Message.Kind.REMINDER).count() == 2


def test_rabbitmq_works_by_its_url_alone(rabbitmq_url, workers):
    ids = due_sms_reminders(50)
    with _publishing_to(rabbitmq_url):
        workers("rabbit", broker=rabbitmq_url, sms_delay_ms=0).wait_ready()
        dispatch(2)
        wait_for(all_sent(ids), timeout=30, beat=True, what="every message over RabbitMQ")

    sent = recorded_references(workers.sms_file)
    assert set(sent) == references(ids)
    assert max(sent.values()) == 1
