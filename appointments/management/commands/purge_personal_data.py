"""`python manage.py purge_personal_data [--dry-run]`: erase what has no purpose left."""

from django.core.management.base import BaseCommand

from appointments.retention import personal_data_purge


class Command(BaseCommand):
    help = "Erase contact details, intake answers, nicknames and notes past their retention."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args, dry_run: bool, **options):
        report = personal_data_purge(dry_run=dry_run)
        self.stdout.write(("Would erase: " if dry_run else "Erased: ") + str(report))
