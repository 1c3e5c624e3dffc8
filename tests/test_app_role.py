"""The running app's database role reads and writes rows, owns nothing, and cannot touch the log."""

import os
import secrets

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import errors, sql

from appointments.models import AccessLogEntry
from tests.factories import AccessLogEntryFactory, SlotFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

LOG = AccessLogEntry._meta.db_table


@pytest.fixture
def app_role(postgresql, monkeypatch):
    """A fresh login role given the app's rights by the command, dropped afterwards."""
    name = f"spreekuur_app_{secrets.token_hex(4)}"
    monkeypatch.setenv("APP_DATABASE_PASSWORD", secrets.token_urlsafe(16))
    call_command("grant_app_role", name, "--create")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
        cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@pytest.fixture
def as_app(app_role):
    """A connection to the test database as the app role."""
    settings = connection.settings_dict
    conn = psycopg2.connect(
        dbname=settings["NAME"],
        user=app_role,
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        password=os.environ["APP_DATABASE_PASSWORD"],
    )
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


def _refused(cursor, statement: str) -> bool:
    """Refused for want of rights (not by the append-only trigger, the second line)."""
    try:
        cursor.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


def test_the_app_role_writes_the_log_but_cannot_change_empty_or_unprotect_it(as_app):
    AccessLogEntryFactory(booking_reference="ABCD-2345")
    columns = ", ".join(
        connection.ops.quote_name(field.column)
        for field in AccessLogEntry._meta.concrete_fields
        if not field.primary_key
    )

    as_app.execute(f"INSERT INTO {LOG} ({columns}) SELECT {columns} FROM {LOG} LIMIT 1")  # noqa: S608

    assert _refused(as_app, f"UPDATE {LOG} SET booking_reference = 'WXYZ-9999'")  # noqa: S608
    assert _refused(as_app, f"DELETE FROM {LOG}")  # noqa: S608
    assert _refused(as_app, f"TRUNCATE {LOG}")
    assert _refused(as_app, f"DROP TRIGGER appointments_accesslog_append_only ON {LOG}")
    assert _refused(as_app, f"ALTER TABLE {LOG} DISABLE TRIGGER ALL")
    assert AccessLogEntry.objects.filter(booking_reference="ABCD-2345").count() == 2


def test_the_app_role_can_do_what_the_app_does(as_app):
    slot = SlotFactory()

    as_app.execute("SELECT count(*) FROM appointments_slot WHERE id = %s", [slot.pk])
    assert as_app.fetchone() == (1,)
    as_app.execute("UPDATE appointments_slot SET capacity = 2 WHERE id = %s", [slot.pk])
    as_app.execute(
        "INSERT INTO django_session (session_key, session_data, expire_date)"
        " VALUES ('k', 'd', now())"
    )
    as_app.execute("DELETE FROM django_session WHERE session_key = 'k'")
    # Slot generation loads its rows through a temporary table.
    as_app.execute(
        "CREATE TEMPORARY TABLE generated_slot AS SELECT * FROM appointments_slot WITH NO DATA"
    )
    slot.refresh_from_db()
    assert slot.capacity == 2


def test_the_app_role_owns_no_table(as_app, app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
            " AND tableowner = %s",
            [app_role],
        )
        assert cursor.fetchone() == (0,)


def test_a_missing_role_is_only_created_when_asked(postgresql):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("grant_app_role", f"spreekuur_missing_{secrets.token_hex(4)}")
