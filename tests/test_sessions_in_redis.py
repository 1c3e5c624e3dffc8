"""With a shared cache (Redis in production) sessions live in Redis, not in the database."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.contrib.sessions.models import Session
from django.urls import reverse

from appointments.models import Booking
from tests.factories import SlotFactory

ROOT = Path(__file__).resolve().parent.parent
SESSIONS_REDIS_DB = 6


def _engine_with(env: dict) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'spreekuur.settings'; "
            "from django.conf import settings; print(settings.SESSION_ENGINE)",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def test_sessions_go_to_the_cache_when_there_is_one_and_to_the_database_otherwise(tmp_path):
    base = {"SPREEKUUR_VAR_DIR": str(tmp_path)}

    assert _engine_with(base) == "django.contrib.sessions.backends.db"
    assert (
        _engine_with({**base, "CACHE_URL": "redis://127.0.0.1:6379/1"})
        == "django.contrib.sessions.backends.cache"
    )


@pytest.fixture
def sessions_in_redis(settings):
    """This test's sessions in a Redis database of its own (REDIS_URL's server)."""
    parts = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    url = urlunsplit(parts._replace(path=f"/{SESSIONS_REDIS_DB}"))
    server = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    server.flushdb()  # fails, and so fails the test, when Redis is not there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "spreekuur",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cache"
    yield server
    server.flushdb()
    server.close()


@pytest.mark.django_db
def test_a_booking_runs_on_a_session_kept_in_redis_that_expires_by_itself(
    client, sessions_in_redis, settings
):
    slot = SlotFactory()

    held = client.post(reverse("appointments:hold"), {"slot": slot.pk})
    assert held.status_code == 302
    intake_url = held["Location"]
    assert client.get(intake_url).status_code == 200  # the session knows the hold
    confirmed = client.post(intake_url, {})

    assert confirmed.status_code == 302 and confirmed["Location"].startswith("/mijn-afspraak/")
    assert Booking.objects.get(slot=slot).status == Booking.Status.CONFIRMED
    assert not Session.objects.exists()
    keys = sessions_in_redis.keys("*django.contrib.sessions.cache*")
    assert len(keys) == 1
    assert 0 < sessions_in_redis.ttl(keys[0]) <= settings.SESSION_COOKIE_AGE
