"""Public codes: what URLs, exports and QR codes show instead of database ids."""

from __future__ import annotations

import secrets

# Crockford-like alphabet: no I, L, O, U to avoid misreading on a phone screen.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_code(length: int = 12) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))
