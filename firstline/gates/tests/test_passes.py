"""Passes issued, verified as a gate would, suspended while the household is isolated, restored on release."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from firstline.gates import tokens
from firstline.gates.actions import (
    current_revocations,
    do_issue_pass,
    do_revoke_pass,
    publish_revocations,
    rotate_keys,
    signing_key,
    token_for,
    verifying_keys,
)
from firstline.gates.models import Pass
from firstline.status.actions import do_register_arrival, do_release_isolation
from firstline.status.models import IsolationOrder, RiskArea


def at_the_gate(token: str, world, now=None) -> str:
    """What the gate says: "pass", or the reason of the refusal (as the offline check does)."""
    now = now or timezone.now()
    lst = current_revocations(world.community.id)
    keys = verifying_keys(now)
    revocations = tokens.verify_revocations(
        lst.community_id,
        lst.version,
        int(lst.issued_at.timestamp()),
        lst.serials,
        lst.key_id,
        bytes(lst.signature),
        keys,
        lst.suspended,
    )
    try:
        tokens.verify(
            token, keys=keys, revocations=revocations, community=world.community.id, gate=world.gate.id, now=now
        )
    except tokens.Refused as refused:
        return refused.reason
    return "pass"


def test_an_issued_pass_passes_the_gate_and_holds_no_name(world):
    item, token = do_issue_pass(world.grid_worker, world.resident_a1)
    assert at_the_gate(token, world) == "pass"
    assert item.masked_name == "张*" and "张三" not in token
    assert token_for(item) == token  # the same token every time it is shown


def test_a_refused_issue_writes_nothing(world):
    with pytest.raises(PermissionDenied):
        do_issue_pass(world.other_worker, world.resident_a1)
    with pytest.raises(ValidationError):
        do_issue_pass(world.grid_worker, world.resident_a1, "vehicle")  # no plate
    assert not Pass.objects.exists()


def test_a_revoked_pass_is_refused(world):
    item, token = do_issue_pass(world.grid_worker, world.resident_a1)
    do_revoke_pass(world.grid_worker, item, "遗失")
    assert at_the_gate(token, world) == "revoked"


def test_an_isolated_households_pass_is_refused_and_restored_on_release(world):
    item, token = do_issue_pass(world.grid_worker, world.resident_a1, days=30)
    RiskArea.objects.create(street=world.street, name="湖北省武汉市", keywords="武汉", active_from=date(2020, 1, 1))
    do_register_arrival(
        world.admin, {"origin": "武汉", "arrival_date": timezone.localdate()}, resident=world.resident_a1
    )
    item.refresh_from_db()
    assert item.state == "suspended"
    assert at_the_gate(token, world) == "suspended"

    order = IsolationOrder.objects.get(resident=world.resident_a1)
    with time_machine.travel(timezone.now() + timedelta(days=14, hours=1)):
        do_release_isolation(world.grid_worker, order)
        item.refresh_from_db()
        assert item.state == "active"
        assert at_the_gate(token, world) == "pass"


def test_old_keys_verify_after_a_rotation_until_their_passes_expire(world):
    _item, old_token = do_issue_pass(world.grid_worker, world.resident_a1)
    rotate_keys()
    _item, new_token = do_issue_pass(world.grid_worker, world.resident_a1)
    assert tokens.parse(old_token)[0].key_id != tokens.parse(new_token)[0].key_id
    assert at_the_gate(old_token, world) == at_the_gate(new_token, world) == "pass"


def test_the_signing_key_rotates_when_due_and_old_lists_are_pruned(world):
    from firstline.gates.jobs import rotate_keys_when_due
    from firstline.gates.models import RevocationList, SigningKey

    item, old_token = do_issue_pass(world.grid_worker, world.resident_a1)
    do_revoke_pass(world.grid_worker, item, "遗失")
    do_issue_pass(world.admin, world.resident_a2)
    now = timezone.now()
    assert rotate_keys_when_due(now + timedelta(days=29)) is False
    assert SigningKey.objects.count() == 1 and RevocationList.objects.filter(community=world.community).count() == 1

    publish_revocations(world.community.id)  # two lists: the older goes once it is two days old
    assert rotate_keys_when_due(now + timedelta(days=31)) is True
    assert SigningKey.objects.count() == 2 and signing_key().key_id != tokens.parse(old_token)[0].key_id
    lists = RevocationList.objects.filter(community=world.community)
    assert lists.count() == 1 and lists.get().version == 2
    assert rotate_keys_when_due(now + timedelta(days=1)) is False  # the new key is young
