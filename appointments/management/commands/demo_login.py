"""`manage.py demo_login`: how to sign in as each demo staff user of `seed_demo`.

For the demo users (one per role) it sets a fresh random password, makes sure each
has a confirmed TOTP device, lifts any lock-out, and prints user name, password,
role and the current 6-digit code. `demo_login --code <user name>` prints only a
current code, for when the printed one has expired. It refuses to run in production.
"""

import secrets
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

DEMO_USERNAMES = ["balie", "zorgverlener", "teamleider", "beheerder"]
ADMIN_URL = "http://127.0.0.1:8000/beheer/"
CODE_COMMAND = ".venv/bin/python manage.py demo_login --code {username}"


def current_code(device: TOTPDevice) -> tuple[str, int]:
    """The device's code for now, and how many seconds it has left."""
    code = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    seconds_left = device.step - int(time.time() - device.t0) % device.step
    return f"{code:0{device.digits}d}", seconds_left


def _role(user) -> str:
    groups = ", ".join(user.groups.order_by("name").values_list("name", flat=True))
    if user.is_superuser:
        return f"{groups} (superuser)" if groups else "superuser"
    return groups or "geen rol"


class Command(BaseCommand):
    help = "Zet nieuwe wachtwoorden voor de demo-medewerkers en toont hoe je inlogt."

    def add_arguments(self, parser):
        parser.add_argument(
            "--code",
            metavar="GEBRUIKERSNAAM",
            help="Toon alleen de huidige code uit de authenticator van deze gebruiker.",
        )

    def handle(self, *args, code=None, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo_login zet wachtwoorden en draait niet in productie.")
        if code:
            self._print_code(code)
            return

        users = list(get_user_model().objects.filter(username__in=DEMO_USERNAMES).order_by("pk"))
        if not users:
            self.stdout.write(
                "Er zijn geen demo-medewerkers ("
                + ", ".join(DEMO_USERNAMES)
                + "). Maak ze eerst aan met: .venv/bin/python manage.py seed_demo"
            )
            return

        self.stdout.write(self.style.SUCCESS(f"Inloggen op {ADMIN_URL}"))
        for user in users:
            password, device = self._prepare(user)
            code_now, seconds_left = current_code(device)
            self.stdout.write(
                f"\n  gebruikersnaam: {user.username}\n"
                f"  wachtwoord:     {password}\n"
                f"  rol:            {_role(user)}\n"
                f"  code nu:        {code_now} (nog {seconds_left} s geldig)\n"
                f"  nieuwe code:    {CODE_COMMAND.format(username=user.username)}"
            )
        missing = sorted(set(DEMO_USERNAMES) - {user.username for user in users})
        if missing:
            self.stdout.write("\nNiet gevonden: " + ", ".join(missing))
        self.stdout.write(
            "\nDeze wachtwoorden worden niet bewaard; een volgende demo_login zet nieuwe."
        )

    @transaction.atomic
    def _prepare(self, user) -> tuple[str, TOTPDevice]:
        from axes.utils import reset

        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.save(update_fields=["password"])
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Demo", confirmed=True)
        reset(username=user.username)
        return password, device

    def _print_code(self, username: str) -> None:
        device = (
            TOTPDevice.objects.filter(user__username=username, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise CommandError(
                f"{username} heeft geen authenticator; draai eerst: "
                ".venv/bin/python manage.py demo_login"
            )
        self.stdout.write(current_code(device)[0])
