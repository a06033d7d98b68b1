"""Protection of personal identifiers at rest (JR/T 0171-2020 C2 data: ID numbers, mobile numbers).

A value is stored three ways, each for one purpose:
- encrypted (Fernet: AES-128-CBC + HMAC-SHA256), to be revealed to an authorised user with a logged reason;
- a keyed hash (HMAC-SHA256), to find a customer by the exact number and to refuse duplicates;
- its masked form (``customers.masking``), for every list, page and export.
Keys come from settings (``PII_ENCRYPTION_KEYS``, ``PII_HASH_KEY``); in development they are derived from the
development SECRET_KEY.
"""

import base64
import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.PII_ENCRYPTION_KEYS)
    if not keys:
        digest = hashlib.sha256(("pii-dev:" + settings.SECRET_KEY).encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


@cache
def _hash_key() -> bytes:
    return settings.PII_HASH_KEY.encode()


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a key was removed before its data was re-encrypted
        raise ValueError("cannot decrypt a stored identifier with the configured keys") from exc


def search_hash(kind: str, value: str) -> str:
    """Keyed hash of a normalised value; ``kind`` separates namespaces (an ID type, or "mobile")."""
    if not value:
        return ""
    return hmac.new(_hash_key(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def reset_caches() -> None:
    """For tests that change the keys."""
    _fernet.cache_clear()
    _hash_key.cache_clear()
