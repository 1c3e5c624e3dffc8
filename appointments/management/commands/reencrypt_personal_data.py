"""`python manage.py reencrypt_personal_data`: seal every personal value under the newest key.

Key rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones
after it), deploy, run this command, then remove the old keys.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from appointments.crypto import EncryptedTextField, seal, unseal
from appointments.models import Booking, IntakeAnswer, WaitlistEntry

# Values sealed by hand (not through EncryptedTextField), re-sealed the same way.
SEALED = {Booking: "manage_token_sealed", WaitlistEntry: "offer_token_sealed"}


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        for model in (Booking, IntakeAnswer, WaitlistEntry):
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            count = 0
            # Batches of their own, so a large table does not hold one long lock.
            only = [*fields, SEALED[model]] if model in SEALED else fields
            rows = model.objects.only("pk", *only).order_by("pk")
            for start in range(0, rows.count(), 500):
                with transaction.atomic():
                    for row in rows[start : start + 500]:
                        update = list(fields)
                        sealed_field = SEALED.get(model)
                        if sealed_field and getattr(row, sealed_field):
                            setattr(row, sealed_field, seal(unseal(getattr(row, sealed_field))))
                            update.append(sealed_field)
                        row.save(update_fields=update)
                        count += 1
            self.stdout.write(f"{model._meta.verbose_name_plural}: {count} re-encrypted")
