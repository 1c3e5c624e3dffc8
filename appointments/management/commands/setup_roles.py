"""`python manage.py setup_roles`: create or correct the four staff roles (idempotent)."""

from django.core.management.base import BaseCommand

from appointments.roles import roles_setup


class Command(BaseCommand):
    help = "Create the staff roles (groups) with exactly the permissions each needs."

    def handle(self, *args, **options):
        for name, count in roles_setup().items():
            self.stdout.write(f"{name}: {count} permissions")
