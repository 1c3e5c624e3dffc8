"""`python manage.py grant_app_role ROLE [--create]`: the rights the running app needs, no more.

Run by the database owner (the account that runs `migrate`), after every
`migrate`: the web, worker and beat processes then connect as ROLE, which may
read and write rows but owns nothing. So no code path of the running app, and
nobody who takes over its connection, can drop the access log's append-only
trigger, truncate the log or change and delete its entries (NEN 7513): only
the owner can, and the owner's password is not in the app's environment.

With --create, a missing ROLE is created as a login role whose password is
read from the environment variable APP_DATABASE_PASSWORD (never an argument:
arguments show in process lists and shell history).
"""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from psycopg2 import sql

from appointments.models import AccessLogEntry

PASSWORD_VARIABLE = "APP_DATABASE_PASSWORD"  # noqa: S105 - a variable's name, no password


class Command(BaseCommand):
    help = "Give a database role the rights the running app needs, and no more (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="The login role the web, worker and beat use.")
        parser.add_argument(
            "--create",
            action="store_true",
            help=f"Create the role if missing, with the password in ${PASSWORD_VARIABLE}.",
        )

    def handle(self, *args, role: str, create: bool, **options):
        if connection.vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: nothing to grant.")
            return
        role_name = sql.Identifier(role)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:
                if not create:
                    raise CommandError(f"role {role!r} does not exist (use --create)")
                password = os.environ.get(PASSWORD_VARIABLE, "")
                if not password:
                    raise CommandError(f"set {PASSWORD_VARIABLE} to create role {role!r}")
                cursor.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD %s").format(role_name), [password]
                )
            cursor.execute("SELECT current_schema()")
            schema = sql.Identifier(cursor.fetchone()[0])
            for statement in (
                "GRANT USAGE ON SCHEMA {schema} TO {role}",
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
                "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
                # What the app must never do, even with its own connection.
                "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {log} FROM {role}",
            ):
                cursor.execute(
                    sql.SQL(statement).format(
                        schema=schema,
                        role=role_name,
                        log=sql.Identifier(AccessLogEntry._meta.db_table),
                    )
                )
        self.stdout.write(f"Granted role {role!r} the app's rights; the access log is append-only.")
