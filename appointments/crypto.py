"""Encryption at rest for values that must be read back (never for lookups).

`EncryptedTextField` applies it to model fields: intake answers, nickname,
contact details and staff notes are stored as Fernet tokens.

MultiFernet over the keys in `settings.FIELD_ENCRYPTION_KEYS`: the first key
encrypts, every key decrypts, so a new key is put first and old ones stay until
everything is re-encrypted. A development machine gets a key of its own under
var/; production refuses to start without keys from the environment.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.utils.crypto import salted_hmac


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def seal(value: str) -> str:
    if not value:
        return ""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


# Every Fernet token starts with its version byte, 0x80: "gAAAAA" in base64.
_FERNET_PREFIX = "gAAAAA"


def is_sealed(value: str) -> bool:
    return value.startswith(_FERNET_PREFIX)


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    if not is_sealed(sealed):
        # Written before the field was encrypted; the migration and
        # `reencrypt_personal_data` seal such values on their next save.
        return sealed
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(sealed.encode()).decode()
    except InvalidToken:
        # A value sealed under a key that was removed: unreadable, by design.
        return ""


def contact_digest(value: str) -> str:
    """A keyed hash of a normalised contact, for counting, never for reading back.

    HMAC with a key derived from SECRET_KEY: without the key a list of known
    addresses cannot be matched against a stolen table.
    """
    if not value:
        return ""
    return salted_hmac("spreekuur.contact", value.strip().lower(), algorithm="sha256").hexdigest()


class EncryptedTextField(models.TextField):
    """Text stored encrypted, read back in clear: for values that are only ever shown.

    It cannot be searched or compared in SQL (every encryption of the same value
    differs), so a lookup on it is refused rather than silently finding nothing.
    """

    description = "Text, encrypted at rest with MultiFernet"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return seal(value) if value else value

    def from_db_value(self, value, expression, connection):
        return unseal(value) if value else value

    def get_lookup(self, lookup_name):
        if lookup_name not in {"isnull"}:
            raise TypeError(f"{self.name} is encrypted: a '{lookup_name}' lookup cannot work")
        return super().get_lookup(lookup_name)
