"""Every write to passes: keys, issuing, revoking, residents' requests, and the suspension that follows isolation.

A household's outing passes are suspended in the same transaction that opens a
home-isolation order of one of its members (``status.actions.isolation_opened``),
and restored when no member is under home isolation any more. Every change of a
pass's state publishes a new signed revocation list of its community.

A resident asks for a pass through the household's session (the code on the
household's letter): ``do_request_pass`` keeps one pending request per resident and
kind; staff holding ``edit_ledger`` over the resident approve it (a pass is issued
by ``do_issue_pass``) or decline it with a note.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.audit.log import record
from firstline.gates import tokens
from firstline.gates.models import GateRules, Pass, PassRequest, RevocationList, SigningKey
from firstline.gates.rules import rules_cache_key
from firstline.people.models import Resident
from firstline.scoping import require
from firstline.sealing import mask_name
from firstline.status.actions import isolation_closed, isolation_opened, save_rule_values
from firstline.status.models import IsolationOrder

# How long a rotated-out key still verifies: the longest a pass may be valid.
MAX_PASS_DAYS = 31
DEFAULT_DAYS: dict[str, int] = {Pass.Kind.OUTING: 14, Pass.Kind.WORKER: 30, Pass.Kind.VEHICLE: 30, Pass.Kind.VISITOR: 1}


def signing_key() -> SigningKey:
    """The key that signs new passes (made on first use)."""
    key = SigningKey.objects.filter(signs_until__isnull=True).order_by("-key_id").first()
    if key is None:
        key = _new_key()
    return key


def _new_key() -> SigningKey:
    private = tokens.new_private_key()
    last = SigningKey.objects.aggregate(last=Max("key_id"))["last"] or 0
    cache.delete(KEYS_CACHE)
    transaction.on_commit(lambda: cache.delete(KEYS_CACHE))  # and once more, should a scan have read it meanwhile
    return SigningKey.objects.create(
        key_id=last + 1, public_key=tokens.public_bytes(private), private_key_sealed=tokens.seal_private_key(private)
    )


def rotate_keys(now: datetime | None = None) -> SigningKey:
    """A new key signs from now on; the old one verifies until every pass it signed has expired."""
    now = now or timezone.now()
    with transaction.atomic():
        SigningKey.objects.filter(signs_until__isnull=True).update(
            signs_until=now, verifies_until=now + timedelta(days=MAX_PASS_DAYS)
        )
        return _new_key()


def verifying_keys(now: datetime | None = None) -> dict[int, bytes]:
    now = now or timezone.now()
    keys = SigningKey.objects.exclude(verifies_until__lte=now).values_list("key_id", "public_key")
    return {key_id: bytes(public) for key_id, public in keys}


KEYS_CACHE = "gates:verifying-keys"
KEYS_CACHE_SECONDS = 60


def cached_verifying_keys(key_id: int, now: datetime) -> dict[int, bytes]:
    """``verifying_keys(now)`` from the cache (a minute), read again at once when ``key_id`` is not in it.

    A new key is seen by the first scan of a pass it signed; a rotation's new end of an old
    key (``rotate_keys``) clears the cache here and reaches other processes within the minute.
    """
    keys = cache.get(KEYS_CACHE)
    if keys is None or key_id not in keys:
        rows = SigningKey.objects.values_list("key_id", "public_key", "verifies_until")
        keys = {row_id: (bytes(public), until) for row_id, public, until in rows}
        cache.set(KEYS_CACHE, keys, KEYS_CACHE_SECONDS)
    return {row_id: public for row_id, (public, until) in keys.items() if until is None or until > now}


def token_for(item: Pass, keys: dict[int, Any] | None = None) -> str:
    """The pass's token (Ed25519 signatures are deterministic: the same token each time).

    ``keys`` (key id → unsealed private key) spares a query and an unsealing per pass
    when many tokens are made at once (a sheet of cards).
    """
    private = keys.get(item.key_id) if keys is not None else None
    if private is None:
        key = SigningKey.objects.get(key_id=item.key_id)
        private = tokens.unseal_private_key(key.private_key_sealed)
        if keys is not None:
            keys[item.key_id] = private
    claims = tokens.Claims(
        key_id=item.key_id,
        serial=item.serial,
        community=item.community_id,
        gate=item.gate_id or 0,
        valid_from=int(item.valid_from.timestamp()),
        valid_until=int(item.valid_until.timestamp()),
        kind=item.kind,
        rule=item.rule,
    )
    return tokens.encode(claims, private)


def _isolated(household_id: int) -> bool:
    return IsolationOrder.objects.filter(
        resident__household_id=household_id, kind=IsolationOrder.Kind.HOME, released_at__isnull=True
    ).exists()


def do_issue_pass(
    actor: Any,
    resident: Resident,
    kind: str = Pass.Kind.OUTING,
    *,
    days: int | None = None,
    gate: Any = None,
    plate: str = "",
    request: Any = None,
) -> tuple[Pass, str]:
    """Issue a pass to a resident; returns it and its token. An outing pass of an isolated household
    is issued suspended (it will work once the isolation is released)."""
    role = require(actor, "edit_ledger", resident)
    if kind not in Pass.Kind.values:
        raise ValidationError({"kind": _("Choose a kind of pass.")})
    days = days or DEFAULT_DAYS[kind]
    if not 1 <= days <= MAX_PASS_DAYS:
        raise ValidationError({"days": _("A pass is valid for 1 to %(days)s days.") % {"days": MAX_PASS_DAYS}})
    if gate is not None and gate.community_id != resident.community_id:
        raise ValidationError({"gate": _("This gate is not in the resident's community.")})
    if kind == Pass.Kind.VEHICLE and not plate.strip():
        raise ValidationError({"plate": _("Enter the plate number.")})
    now = timezone.now()
    with transaction.atomic():
        suspended = kind == Pass.Kind.OUTING and _isolated(resident.household_id)
        serial = new_serial(resident.community_id)
        item = Pass.objects.create(
            serial=serial,
            short_code=tokens.short_code(serial),
            kind=kind,
            resident=resident,
            household_id=resident.household_id,
            street_id=resident.street_id,
            community_id=resident.community_id,
            grid_id=resident.grid_id,
            building_id=resident.building_id,
            gate=gate,
            plate=plate.strip().upper(),
            masked_name=mask_name(resident.name),
            rule=1 if kind == Pass.Kind.OUTING else 0,
            valid_from=now,
            valid_until=now + timedelta(days=days),
            key_id=signing_key().key_id,
            state=Pass.State.SUSPENDED if suspended else Pass.State.ACTIVE,
            state_changed_at=now if suspended else None,
            issued_by=actor,
        )
        record("create", actor=actor, role=role, obj=item, detail={"kind": kind}, request=request)
        if suspended:
            publish_revocations(item.community_id)
    return item, token_for(item)


def new_serial(community_id: int) -> int:
    """A random pass id whose short code no other pass of the community has."""
    while True:
        serial = secrets.randbits(63)
        if not Pass.objects.filter(community_id=community_id, short_code=tokens.short_code(serial)).exists():
            return serial


def do_revoke_pass(actor: Any, item: Pass, reason: str, request: Any = None) -> Pass:
    role = require(actor, "edit_ledger", item)
    if item.state == Pass.State.REVOKED:
        raise ValidationError({"state": _("This pass is already revoked.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the pass is revoked.")})
    with transaction.atomic():
        item.state, item.state_changed_at = Pass.State.REVOKED, timezone.now()
        item.save(update_fields=["state", "state_changed_at"])
        record("update", actor=actor, role=role, obj=item, reason=reason, detail={"state": "revoked"}, request=request)
        publish_revocations(item.community_id)
    return item


def publish_revocations(community_id: int, now: datetime | None = None) -> RevocationList:
    """A new signed version of the community's list: revoked and suspended passes still within validity."""
    now = now or timezone.now()
    current = Pass.objects.filter(community_id=community_id, valid_until__gt=now)
    revoked = sorted(current.filter(state=Pass.State.REVOKED).values_list("serial", flat=True))
    suspended = sorted(current.filter(state=Pass.State.SUSPENDED).values_list("serial", flat=True))
    last = RevocationList.objects.filter(community_id=community_id).aggregate(last=Max("version"))["last"] or 0
    key = signing_key()
    issued_at = int(now.timestamp())
    signature = tokens.sign_revocations(
        community_id, last + 1, issued_at, revoked, tokens.unseal_private_key(key.private_key_sealed), suspended
    )
    return RevocationList.objects.create(
        community_id=community_id,
        version=last + 1,
        issued_at=now,
        serials=revoked,
        suspended=suspended,
        key_id=key.key_id,
        signature=signature,
    )


def current_revocations(community_id: int) -> RevocationList:
    """The newest list of the community (published now if it has none)."""
    latest = RevocationList.objects.filter(community_id=community_id).order_by("-version").first()
    return latest or publish_revocations(community_id)


@receiver(isolation_opened, dispatch_uid="gates-suspend-on-isolation")
def suspend_household_passes(sender: Any, order: IsolationOrder, **kwargs: Any) -> None:
    household_id = order.resident.household_id
    changed = Pass.objects.filter(
        household_id=household_id, kind=Pass.Kind.OUTING, state=Pass.State.ACTIVE, valid_until__gt=timezone.now()
    ).update(state=Pass.State.SUSPENDED, state_changed_at=timezone.now())
    if changed:
        publish_revocations(order.community_id)


@receiver(isolation_closed, dispatch_uid="gates-restore-on-release")
def restore_household_passes(sender: Any, order: IsolationOrder, **kwargs: Any) -> None:
    household_id = order.resident.household_id
    if _isolated(household_id):
        return
    changed = Pass.objects.filter(household_id=household_id, kind=Pass.Kind.OUTING, state=Pass.State.SUSPENDED).update(
        state=Pass.State.ACTIVE, state_changed_at=timezone.now()
    )
    if changed:
        publish_revocations(order.community_id)


# --- residents' requests -------------------------------------------------------------------------

REQUESTABLE = (Pass.Kind.OUTING, Pass.Kind.WORKER, Pass.Kind.VEHICLE)


def household_isolated(household_id: int) -> bool:
    """Whether a member of the household is under home isolation now (its outing passes are suspended)."""
    return _isolated(household_id)


def do_request_pass(
    household_login: Any,
    resident: Resident,
    kind: str = Pass.Kind.OUTING,
    *,
    reason: str = "",
    plate: str = "",
    request: Any = None,
) -> PassRequest:
    """A resident asks for a pass through the household's session (``household_login``).

    Only a current member of the login's household may be named; one request per
    resident and kind may wait at a time. An outing pass asked for by a household under
    isolation is accepted (staff see it marked; a pass issued now would be suspended).
    """
    if (
        household_login is None
        or household_login.revoked_at is not None
        or household_login.household_id != resident.household_id
        or resident.left_at is not None
    ):
        raise PermissionDenied
    if kind not in REQUESTABLE:
        raise ValidationError({"kind": _("Choose a kind of pass.")})
    reason, plate = (reason or "").strip(), (plate or "").strip().upper()
    if len(reason) > 200:
        raise ValidationError({"reason": _("Keep the reason under 200 characters.")})
    if kind == Pass.Kind.VEHICLE and not plate:
        raise ValidationError({"plate": _("Enter the plate number.")})
    if len(plate) > 16:
        raise ValidationError({"plate": _("A plate number has at most 16 characters.")})
    with transaction.atomic():
        waiting = PassRequest.objects.select_for_update().filter(
            resident=resident, kind=kind, state=PassRequest.State.PENDING
        )
        if waiting.exists():
            raise ValidationError({"kind": _("A request for this kind of pass is already waiting for this member.")})
        isolated = kind == Pass.Kind.OUTING and _isolated(resident.household_id)
        item = PassRequest.objects.create(
            resident=resident,
            household_id=resident.household_id,
            street_id=resident.street_id,
            community_id=resident.community_id,
            grid_id=resident.grid_id,
            building_id=resident.building_id,
            kind=kind,
            reason=reason,
            plate=plate if kind == Pass.Kind.VEHICLE else "",
        )
        record("create", role="household", obj=item, detail={"kind": kind, "isolated": isolated}, request=request)
    return item


def _pending_for_update(item: PassRequest) -> PassRequest:
    locked = PassRequest.objects.select_for_update().select_related("resident").get(pk=item.pk)
    if locked.state != PassRequest.State.PENDING:
        raise ValidationError({"state": _("This request was already decided.")})
    return locked


def do_approve_request(
    actor: Any, request_obj: PassRequest, days: int | None = None, gate: Any = None, request: Any = None
) -> tuple[Pass, str]:
    """Approve a waiting request (``edit_ledger`` over it): the pass is issued, linked and returned with its token."""
    role = require(actor, "edit_ledger", request_obj)
    with transaction.atomic():
        locked = _pending_for_update(request_obj)
        if locked.resident.left_at is not None or locked.resident.household_id != locked.household_id:
            raise ValidationError({"state": _("This resident no longer lives in the household.")})
        item, token = do_issue_pass(
            actor, locked.resident, locked.kind, days=days, gate=gate, plate=locked.plate, request=request
        )
        locked.state, locked.issued = PassRequest.State.APPROVED, item
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["state", "issued", "decided_by", "decided_at"])
        record(
            "update",
            actor=actor,
            role=role,
            obj=locked,
            detail={"state": "approved", "pass": item.code},
            request=request,
        )
    request_obj.refresh_from_db()
    return item, token


def do_decline_request(actor: Any, request_obj: PassRequest, note: str, request: Any = None) -> PassRequest:
    """Decline a waiting request (``edit_ledger`` over it) with a note the household will read."""
    role = require(actor, "edit_ledger", request_obj)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the request is declined: the household will read it.")})
    if len(note) > 200:
        raise ValidationError({"note": _("Keep the note under 200 characters.")})
    with transaction.atomic():
        locked = _pending_for_update(request_obj)
        locked.state, locked.decision_note = PassRequest.State.DECLINED, note
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save(update_fields=["state", "decision_note", "decided_by", "decided_at"])
        record("update", actor=actor, role=role, obj=locked, reason=note, detail={"state": "declined"}, request=request)
    request_obj.refresh_from_db()
    return request_obj


# --- the community's rules at its gates -----------------------------------------------------------

GATE_RULE_LIMITS: dict[str, tuple[int, int]] = {
    "outing_people": (1, 20),
    "outing_every_days": (1, 14),
    "outing_hours": (1, 24),
    "list_max_age_hours": (1, 72),
}


def do_set_gate_rules(actor: Any, community: Any, values: dict[str, Any], request: Any = None) -> GateRules:
    """Set a community's own gate rules; an empty value (None) returns to the deployment's default.
    The gates of this process see the change at once, the others within a minute (``gates.rules``)."""
    rules = GateRules.objects.filter(community=community).first() or GateRules(community=community)
    if save_rule_values(actor, community, rules, values, GATE_RULE_LIMITS, reason="gate_rules", request=request):
        cache.delete(rules_cache_key(community.id))
    return rules
