"""Household login codes: the code printed on a household's letter (致居民的信).

A code is 8 characters from an alphabet without the look-alikes 0/O and 1/I
(32 symbols, 40 bits), shown in two groups, ``K7P3-Q9MX``, and typed in any case,
with or without the dash or spaces. It is stored sealed (so the letter can be
printed again) and found by its blind index; issuing a new code for a household
revokes the one before. A code opens only its own household's check-in page
(``status.public_views``); guessing is slowed by the per-address limit there.
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from firstline.accounts.models import HouseholdLogin
from firstline.audit.log import record
from firstline.places.models import Household
from firstline.scoping import require
from firstline.sealing import blind_index, seal, unseal

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
LENGTH = 8
FIELD = "household_code"


def new_household_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def format_code(code: str) -> str:
    """``K7P3Q9MX`` → ``K7P3-Q9MX``: two groups of four are easier to read out and type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def normalise_code(raw: str) -> str:
    """What was typed (full-width, lower case, dashes, spaces) → the stored form, or "" when it cannot be one."""
    text = unicodedata.normalize("NFKC", raw or "").upper()
    code = "".join(char for char in text if char not in " -_—–·.")
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        return ""
    return code


def find_household_login(raw: str) -> HouseholdLogin | None:
    """The open login whose code is ``raw`` (as typed), or None. Reads only."""
    code = normalise_code(raw)
    if not code:
        return None
    return (
        HouseholdLogin.objects.select_related("household__building", "household__entrance", "household__community")
        .filter(code_index=blind_index(code, FIELD), revoked_at__isnull=True)
        .first()
    )


def code_of(login: HouseholdLogin) -> str:
    """The plain code of a login, for printing its letter."""
    return unseal(login.code_sealed, FIELD)


def current_logins(households: Iterable[Household]) -> dict[int, HouseholdLogin]:
    """household id → its open login, for the households given (one query)."""
    ids = [household.pk for household in households]
    logins = HouseholdLogin.objects.filter(household_id__in=ids, revoked_at__isnull=True).order_by("id")
    return {login.household_id: login for login in logins}


def _issue(households: list[Household], actor: Any, now) -> dict[int, str]:
    """Revoke the open codes of ``households`` and give each a new one: a few queries for a whole building."""
    HouseholdLogin.objects.filter(household__in=households, revoked_at__isnull=True).update(revoked_at=now)
    codes: dict[int, str] = {}
    while len(codes) < len(households):
        wanted = {household.pk: new_household_code() for household in households if household.pk not in codes}
        indexes = {pk: blind_index(code, FIELD) for pk, code in wanted.items()}
        taken = set(HouseholdLogin.objects.filter(code_index__in=indexes.values()).values_list("code_index", flat=True))
        fresh = {pk: code for pk, code in wanted.items() if indexes[pk] not in taken}
        if len(set(fresh.values())) == len(fresh):  # never reuse a code, even a revoked one
            codes.update(fresh)
    creator = actor if getattr(actor, "is_authenticated", False) else None
    HouseholdLogin.objects.bulk_create(
        HouseholdLogin(
            household=household,
            code_sealed=seal(codes[household.pk], FIELD),
            code_index=blind_index(codes[household.pk], FIELD),
            created_by=creator,
        )
        for household in households
    )
    return codes


def do_issue_household_codes(
    actor: Any, households: list[Household], *, only_missing: bool = False, place: Any = None, request: Any = None
) -> dict[int, str]:
    """Give each household a new code (revoking its old one); returns household id → code.

    ``only_missing``: households that already have an open code keep it (printing
    letters again). The actor needs ``edit_ledger`` over every household; the issue is
    audited once, on ``place`` (the building or household), with the count only.
    """
    role = ""
    for household in households:
        role = require(actor, "edit_ledger", household)
    now = timezone.now()
    with transaction.atomic():
        existing = current_logins(households) if only_missing else {}
        wanted = [household for household in households if household.pk not in existing]
        issued = _issue(wanted, actor, now) if wanted else {}
        if issued:
            anchor = place if place is not None else households[0]
            record(
                "create",
                actor=actor,
                role=role,
                object_type="household_login",
                object_code=anchor.code,
                community_id=households[0].community_id,
                reason="issue",
                detail={"households": len(issued), "replaced": not only_missing},
                request=request,
            )
    return issued


def do_revoke_household_code(actor: Any, household: Household, request: Any = None) -> int:
    """Withdraw a household's code (a lost letter) without giving a new one. Returns how many were open."""
    role = require(actor, "edit_ledger", household)
    with transaction.atomic():
        revoked = HouseholdLogin.objects.filter(household=household, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if revoked:
            record("revoke", actor=actor, role=role, object_type="household_login", obj=household, request=request)
    return revoked
