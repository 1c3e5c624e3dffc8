"""`python manage.py generate_slots --weeks N`: slots from the weekly rules, idempotent."""

from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from appointments.services import slots_generate


class Command(BaseCommand):
    help = "Make the slots that the weekly availability rules minus closures ask for."

    def add_arguments(self, parser):
        parser.add_argument(
            "--weeks",
            type=int,
            default=settings.SPREEKUUR_SLOT_WEEKS_AHEAD,
            help="How many weeks ahead, from --start (default: %(default)s).",
        )
        parser.add_argument(
            "--start",
            type=date.fromisoformat,
            default=None,
            help="First day, YYYY-MM-DD (default: today). Past days are never touched.",
        )

    def handle(self, *args, weeks: int, start: date | None, **options):
        if not 1 <= weeks <= 104:
            raise CommandError("--weeks must be between 1 and 104.")
        report = slots_generate(start=start or timezone.localdate(), weeks=weeks)
        self.stdout.write(f"Slots: {report}")
        for slot in report.conflicts:
            start = timezone.localtime(slot.start)
            self.stdout.write(
                self.style.WARNING(
                    f"  conflict: slot {slot.pk} at {start:%Y-%m-%d %H:%M} has a booking "
                    "but no rule asks for it any more"
                )
            )
