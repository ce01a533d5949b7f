"""Pass tokens: every refusal has its reason, and no input crashes the parser."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firstline.gates.tokens import (
    PREFIX,
    Claims,
    Refused,
    encode,
    new_private_key,
    parse,
    public_bytes,
    sign_revocations,
    verify,
    verify_revocations,
)

NOW = datetime(2020, 2, 10, 9, 0, tzinfo=UTC)
KEY = new_private_key()
OTHER = new_private_key()
KEYS = {7: public_bytes(KEY)}
COMMUNITY, GATE = 12, 34


def claims(**changes) -> Claims:
    base = {
        "key_id": 7,
        "serial": 2**40 + 5,
        "community": COMMUNITY,
        "gate": 0,
        "valid_from": int((NOW - timedelta(days=1)).timestamp()),
        "valid_until": int((NOW + timedelta(days=1)).timestamp()),
        "kind": "outing",
        "rule": 1,
    }
    return Claims(**{**base, **changes})


def revocations(serials=(), issued=NOW - timedelta(hours=1), community=COMMUNITY):
    issued_at = int(issued.timestamp())
    signature = sign_revocations(community, 3, issued_at, serials, KEY)
    return verify_revocations(community, 3, issued_at, serials, 7, signature, KEYS)


def check(token: str, **changes):
    options = {"keys": KEYS, "revocations": revocations(), "community": COMMUNITY, "gate": GATE, "now": NOW}
    return verify(token, **{**options, **changes})


def refused(token: str, **changes) -> str:
    with pytest.raises(Refused) as raised:
        check(token, **changes)
    return raised.value.reason


def test_a_good_token_passes_and_carries_no_personal_data():
    token = encode(claims(), KEY)
    assert check(token) == claims()
    assert token.startswith(PREFIX) and len(token) < 170
    assert set(token) <= set("FL1ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")  # QR alphanumeric mode


def test_a_tampered_payload_is_refused():
    token = encode(claims(), KEY)
    raw = bytearray(base64.b32decode(token[3:] + "=" * (-len(token[3:]) % 8)))
    raw[20] ^= 0x01  # the community id
    tampered = PREFIX + base64.b32encode(bytes(raw)).decode().rstrip("=")
    assert refused(tampered) == "bad_signature"


def test_a_token_signed_by_another_key_under_a_known_id_is_refused():
    assert refused(encode(claims(), OTHER)) == "bad_signature"


def test_an_unknown_key_id_is_refused():
    assert refused(encode(claims(key_id=8), KEY)) == "unknown_key"


def test_expired_and_not_yet_valid_are_refused():
    assert refused(encode(claims(valid_until=int(NOW.timestamp())), KEY)) == "expired"
    assert refused(encode(claims(valid_from=int((NOW + timedelta(minutes=1)).timestamp())), KEY)) == "not_yet_valid"


def test_a_revoked_pass_is_refused():
    assert refused(encode(claims(), KEY), revocations=revocations(serials=[2**40 + 5])) == "revoked"


def test_a_pass_for_another_gate_or_community_is_refused():
    assert refused(encode(claims(gate=99), KEY)) == "wrong_gate"
    assert refused(encode(claims(community=13), KEY)) == "wrong_gate"
    assert check(encode(claims(gate=GATE), KEY)).gate == GATE


def test_a_stale_revocation_list_refuses_everything():
    old = revocations(issued=NOW - timedelta(hours=13))
    assert refused(encode(claims(), KEY), revocations=old) == "stale_revocation_list"


def test_a_clock_moved_back_refuses_everything():
    assert refused(encode(claims(), KEY), last_seen=NOW + timedelta(hours=2)) == "clock_moved_back"
    assert check(encode(claims(), KEY), last_seen=NOW + timedelta(minutes=2)) == claims()  # drift is fine


def test_a_forged_revocation_list_is_refused():
    issued_at = int(NOW.timestamp())
    signature = sign_revocations(COMMUNITY, 3, issued_at, [1], OTHER)
    with pytest.raises(Refused) as raised:
        verify_revocations(COMMUNITY, 3, issued_at, [], 7, signature, KEYS)  # a serial removed
    assert raised.value.reason == "bad_revocation_list"


@given(st.text(max_size=300))
def test_the_parser_never_crashes_on_text(text):
    try:
        parse(text)
    except Refused as error:
        assert error.reason == "malformed"


@given(st.binary(max_size=120))
def test_the_parser_never_crashes_on_bytes_in_base32(raw):
    try:
        parse(PREFIX + base64.b32encode(raw).decode().rstrip("="))
    except Refused as error:
        assert error.reason == "malformed"
