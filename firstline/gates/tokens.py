"""Pass tokens: compact, signed (Ed25519), checkable offline.

A token is ``FL1`` followed by the base32 text (QR alphanumeric mode, no padding) of
34 payload bytes and a 64-byte signature over them::

    version 1 | key id 4 | serial 8 | community 4 | gate 4 (0: any) | valid from 4 | valid until 4
             | kind 1 | rule 2 | (payload: 32 bytes) + pad 2 = 34

Times are Unix seconds. No name, no ID number: a guard's phone sees ids and a
window, and checks the signature against the public keys and the revocation list
(signed, versioned) it synced last. ``verify`` returns a reason for every refusal.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from firstline.sealing import seal, unseal

PREFIX = "FL1"
VERSION = 1
PAYLOAD = struct.Struct(">BIQIIIIBHxx")  # 34 bytes
SIGNATURE_BYTES = 64
# A device's clock may drift a little; more than this backwards is a clock that was moved back.
CLOCK_TOLERANCE = timedelta(minutes=5)
KINDS = {1: "outing", 2: "worker", 3: "vehicle", 4: "visitor"}


class Refused(Exception):
    """A token that must not pass; ``reason`` is a code (the gate app shows it in words)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Claims:
    key_id: int
    serial: int
    community: int
    gate: int  # 0: any gate of the community
    valid_from: int
    valid_until: int
    kind: str
    rule: int


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_BITS = 35  # 7 characters of Crockford base32


def short_code(serial: int) -> str:
    """The code printed under a pass's QR code: the serial's top 35 bits, 7 characters of Crockford base32."""
    value = serial >> (63 - SHORT_CODE_BITS)
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(30, -1, -5))


def short_code_value(text: str) -> int | None:
    """A typed short code as its number (O→0, I/L→1, spaces and dashes ignored); None if it cannot be one."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("OIL", "011"))
    if len(cleaned) != 7 or any(char not in CROCKFORD for char in cleaned):
        return None
    value = 0
    for char in cleaned:
        value = value * 32 + CROCKFORD.index(char)
    return value


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def seal_private_key(key: Ed25519PrivateKey) -> bytes:
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return seal(raw.hex(), "signing_key")


def unseal_private_key(blob: bytes | memoryview) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(unseal(blob, "signing_key")))


def encode(claims: Claims, key: Ed25519PrivateKey) -> str:
    kind = next(number for number, name in KINDS.items() if name == claims.kind)
    payload = PAYLOAD.pack(
        VERSION,
        claims.key_id,
        claims.serial,
        claims.community,
        claims.gate,
        claims.valid_from,
        claims.valid_until,
        kind,
        claims.rule,
    )
    raw = payload + key.sign(payload)
    return PREFIX + base64.b32encode(raw).decode().rstrip("=")


def parse(token: str) -> tuple[Claims, bytes, bytes]:
    """Claims, signed bytes and signature of ``token``; ``Refused("malformed")`` for anything else."""
    if not isinstance(token, str):
        raise Refused("malformed")
    text = "".join(token.split()).upper()
    if not text.startswith(PREFIX):
        raise Refused("malformed")
    body = text[len(PREFIX) :]
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise Refused("malformed") from None
    if len(raw) != PAYLOAD.size + SIGNATURE_BYTES:
        raise Refused("malformed")
    payload, signature = raw[: PAYLOAD.size], raw[PAYLOAD.size :]
    version, key_id, serial, community, gate, valid_from, valid_until, kind, rule = PAYLOAD.unpack(payload)
    if version != VERSION or kind not in KINDS:
        raise Refused("malformed")
    claims = Claims(key_id, serial, community, gate, valid_from, valid_until, KINDS[kind], rule)
    return claims, payload, signature


@dataclass(frozen=True)
class Revocations:
    """A community's revocation list as the device holds it (checked with ``verify_revocations``)."""

    community: int
    version: int
    issued_at: int
    serials: frozenset[int]
    suspended: frozenset[int] = frozenset()


def revocation_payload(
    community: int, version: int, issued_at: int, serials: Iterable[int], suspended: Iterable[int] = ()
) -> bytes:
    body = {
        "community": community,
        "version": version,
        "issued_at": issued_at,
        "serials": sorted(serials),
        "suspended": sorted(suspended),
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def sign_revocations(
    community: int,
    version: int,
    issued_at: int,
    serials: Iterable[int],
    key: Ed25519PrivateKey,
    suspended: Iterable[int] = (),
) -> bytes:
    return key.sign(revocation_payload(community, version, issued_at, serials, suspended))


def verify_revocations(
    community: int,
    version: int,
    issued_at: int,
    serials: Iterable[int],
    key_id: int,
    signature: bytes,
    keys: Mapping[int, bytes],
    suspended: Iterable[int] = (),
) -> Revocations:
    """A revocation list received from the server, checked: revoked serials, and those suspended for now
    (a household under isolation)."""
    serials, suspended = list(serials), list(suspended)
    public = keys.get(key_id)
    if public is None:
        raise Refused("unknown_key")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            signature, revocation_payload(community, version, issued_at, serials, suspended)
        )
    except (InvalidSignature, ValueError):
        raise Refused("bad_revocation_list") from None
    return Revocations(community, version, issued_at, frozenset(serials), frozenset(suspended))


def verify(
    token: str,
    *,
    keys: Mapping[int, bytes],
    revocations: Revocations,
    community: int,
    gate: int,
    now: datetime,
    last_seen: datetime | None = None,
    max_list_age: timedelta = timedelta(hours=12),
) -> Claims:
    """The claims of a token that may pass at ``gate`` of ``community`` at ``now``; else ``Refused(reason)``.

    ``keys``: key id → raw public key of the keys that still verify. ``revocations``:
    the community's list, already checked. ``last_seen``: the latest time this device
    has seen (a clock moved back refuses everything until it is right again).
    """
    if last_seen is not None and now < last_seen - CLOCK_TOLERANCE:
        raise Refused("clock_moved_back")
    claims, payload, signature = parse(token)
    public = keys.get(claims.key_id)
    if public is None:
        raise Refused("unknown_key")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, payload)
    except (InvalidSignature, ValueError):
        raise Refused("bad_signature") from None
    if claims.community != community or claims.gate not in (0, gate):
        raise Refused("wrong_gate")
    moment = int(now.timestamp())
    if moment < claims.valid_from:
        raise Refused("not_yet_valid")
    if moment >= claims.valid_until:
        raise Refused("expired")
    if revocations.community != community or moment - revocations.issued_at > max_list_age.total_seconds():
        raise Refused("stale_revocation_list")
    if claims.serial in revocations.serials:
        raise Refused("revoked")
    if claims.serial in revocations.suspended:
        raise Refused("suspended")
    return claims
