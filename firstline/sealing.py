"""Sealed personal fields: AES-GCM at rest, an HMAC blind index for exact lookup, masks for display.

A sealed value is ``b"\\x01" + nonce(12) + ciphertext+tag``; the field name is the
associated data, so a phone ciphertext cannot be passed off as an ID number.
The blind index is HMAC-SHA256 of the normalised value under a separate key:
equal values give equal indexes, and nothing else can be learnt from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

VERSION = b"\x01"


def _key_bytes(material: str) -> bytes:
    """Accept a 32-byte urlsafe-base64 key, or derive 32 bytes from any other secret string."""
    try:
        raw = base64.urlsafe_b64decode(material + "=" * (-len(material) % 4))
        if len(raw) == 32:
            return raw
    except ValueError:
        pass
    return hashlib.sha256(material.encode()).digest()


@lru_cache(maxsize=4)
def _aead(material: str) -> AESGCM:
    return AESGCM(_key_bytes(material))


def seal(value: str, field: str) -> bytes:
    nonce = os.urandom(12)
    return VERSION + nonce + _aead(settings.SEAL_KEY).encrypt(nonce, value.encode(), field.encode())


def unseal(blob: bytes | memoryview, field: str) -> str:
    data = bytes(blob)
    if data[:1] != VERSION:
        raise ValueError("unknown sealed value version")
    return _aead(settings.SEAL_KEY).decrypt(data[1:13], data[13:], field.encode()).decode()


def blind_index(value: str, field: str) -> str:
    key = _key_bytes(settings.INDEX_KEY)
    return hmac.new(key, f"{field}:{value}".encode(), hashlib.sha256).hexdigest()


def mask_id_number(value: str) -> str:
    """``110101199003071234`` → ``1101**********1234``."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; other numbers keep only their last 4."""
    if len(value) == 11 and value.startswith("1"):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]
