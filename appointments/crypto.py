"""Encryption at rest for values that must be read back (never for lookups).

MultiFernet over the keys in `settings.FIELD_ENCRYPTION_KEYS`: the first key
encrypts, every key decrypts, so a new key is put first and old ones stay until
everything is re-encrypted. A development machine gets a key of its own under
var/; production refuses to start without keys from the environment.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def seal(value: str) -> str:
    if not value:
        return ""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def unseal(sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(sealed.encode()).decode()
    except InvalidToken:
        # A value sealed under a key that was removed: unreadable, by design.
        return ""
