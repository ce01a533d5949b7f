"""Sealed personal fields: AES-GCM at rest, an HMAC blind index for exact lookup, masks for display,
and the one detector of ID numbers and phones typed into free text.

A sealed value is ``b"\\x01" + nonce(12) + ciphertext+tag``; the field name is the
associated data, so a phone ciphertext cannot be passed off as an ID number.
The blind index is HMAC-SHA256 of the normalised value under a separate key:
equal values give equal indexes, and nothing else can be learnt from it.

Imports seal 100,000 people at a time, so the keys are prepared once (the AES-GCM
context, and an HMAC already keyed that each index copies) and prepared again
only when ``SEAL_KEY`` or ``INDEX_KEY`` change (``override_settings`` in tests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.signals import setting_changed

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


_keys: dict[str, Any] = {}  # "seal": AESGCM, "index": keyed HMAC; filled on first use


def _forget_keys(*, setting: str, **kwargs: Any) -> None:
    if setting in ("SEAL_KEY", "INDEX_KEY"):
        _keys.clear()


setting_changed.connect(_forget_keys, dispatch_uid="firstline.sealing.keys")


def _aead() -> AESGCM:
    aead = _keys.get("seal")
    if aead is None:
        aead = _keys["seal"] = AESGCM(_key_bytes(settings.SEAL_KEY))
    return aead


def _index_hmac() -> hmac.HMAC:
    keyed = _keys.get("index")
    if keyed is None:
        keyed = _keys["index"] = hmac.new(_key_bytes(settings.INDEX_KEY), digestmod=hashlib.sha256)
    return keyed


def seal(value: str, field: str) -> bytes:
    nonce = os.urandom(12)
    return VERSION + nonce + _aead().encrypt(nonce, value.encode(), field.encode())


def unseal(blob: bytes | memoryview, field: str) -> str:
    data = bytes(blob)
    if data[:1] != VERSION:
        raise ValueError("unknown sealed value version")
    return _aead().decrypt(data[1:13], data[13:], field.encode()).decode()


def blind_index(value: str, field: str) -> str:
    digest = _index_hmac().copy()
    digest.update(f"{field}:{value}".encode())
    return digest.hexdigest()


def mask_id_number(value: str) -> str:
    """``110101199003071234`` → ``**************1234``: the last 4 only.

    The first digits are the region of registration and then the birth date: shown
    beside a resident's age and domicile they would leave only a few candidates
    (docs/security.md, "Masks that cannot be rebuilt").
    """
    if len(value) <= 8:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def remask_id_number(masked: str) -> str:
    """A mask stored under the old rule (first 4 and last 4) in the new form: its last 4 are the same."""
    return mask_id_number(masked) if len(masked) > 8 else masked


def mask_phone(value: str) -> str:
    """``13812345678`` → ``138****5678``; other numbers keep only their last 4."""
    if len(value) == 11 and value.startswith("1"):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: enough for a family to tell who is who, no more."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "*"


def remask_stored_id_numbers(model: Any, field: str = "id_number_masked", batch: int = 2000) -> int:
    """Bring the stored masks of ``model`` (a migration's historical model) to the last-4 rule."""
    stale = model.objects.exclude(**{field: ""}).exclude(**{f"{field}__startswith": "*"})
    rows, changed = [], 0
    for row in stale.only("pk", field).iterator(chunk_size=batch):
        setattr(row, field, remask_id_number(getattr(row, field)))
        rows.append(row)
        if len(rows) == batch:
            changed += model.objects.bulk_update(rows, [field])
            rows = []
    return changed + (model.objects.bulk_update(rows, [field]) if rows else 0)


# --- ID numbers and phones in free text ------------------------------------------------------------

# An 18-character resident ID (spaces or hyphens allowed between its region, birth date and
# serial) or a mainland mobile (+86 allowed, spaced 3-4-4), standing apart from other letters
# and digits. Free text (notes, a name, a reason) is never a place for them: it is neither
# sealed nor masked. Forms, the API and imports refuse such text, and where a problem has to
# show it, it is shown masked.
EMBEDDED_ID = re.compile(r"(?<![0-9A-Za-z])\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx](?![0-9A-Za-z])")
EMBEDDED_MOBILE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?![0-9A-Za-z])")
_SPACING = re.compile(r"[ -]")


def holds_personal_number(text: str) -> bool:
    """Whether ``text`` holds what looks like a resident ID number or a mobile phone."""
    return bool(EMBEDDED_ID.search(text) or EMBEDDED_MOBILE.search(text))


def mask_personal_numbers(text: str) -> str:
    """``text`` with every ID number and mobile in it masked as the fields mask them."""
    text = EMBEDDED_ID.sub(lambda match: mask_id_number(_SPACING.sub("", match.group()).upper()), text)
    return EMBEDDED_MOBILE.sub(lambda match: mask_phone(_SPACING.sub("", match.group())[-11:]), text)
