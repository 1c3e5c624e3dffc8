"""Shared fixtures.

Tests that need PostgreSQL (the `concurrency` marker) fail when the database is
not PostgreSQL and `SPREEKUUR_REQUIRE_SERVICES=1` (as in CI and `make test`);
only a developer who deliberately runs the suite on SQLite sees them skipped,
with the reason printed.
"""

import os

import pytest
from django.conf import settings


@pytest.fixture
def postgresql():
    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        message = "needs PostgreSQL: set DATABASE_URL=postgres://…"
        if os.environ.get("SPREEKUUR_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _sms_in_memory(settings):
    from appointments.notifications.sms import LocmemSmsBackend

    settings.SMS_BACKEND = "appointments.notifications.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox = []
    yield
    LocmemSmsBackend.outbox = []


@pytest.fixture(autouse=True)
def _free_times_read_fresh(settings):
    """Pages show each change at once; tests/test_free_times_cache.py turns sharing on."""
    settings.SPREEKUUR_FREE_TIMES_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def sign_in_with_second_factor(client, user):
    """Sign `user` in as if they passed password and TOTP: what every admin page needs."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Every test starts with no requests counted against its address."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
