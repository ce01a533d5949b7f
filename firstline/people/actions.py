"""Every write to the ledger: named actions, atomic, audited, with history."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from firstline.accounts import limits
from firstline.audit.log import record
from firstline.people.idcard import (
    InvalidIdNumber,
    InvalidPhone,
    birth_date_and_sex,
    normalise_phone,
    parse_id_number,
)
from firstline.people.models import Movement, Resident, ResidentVersion
from firstline.places.models import Household
from firstline.scoping import memberships_with, require
from firstline.sealing import blind_index, mask_id_number, mask_phone, seal, unseal

# Plain fields an action may set from cleaned input; sealed fields are handled separately.
PLAIN_FIELDS = (
    "name",
    "sex",
    "birth_date",
    "id_type",
    "relation_to_head",
    "person_type",
    "lives_alone_elderly",
    "unattended_child",
    "hardship",
    "disability",
    "chronic_illness",
    "pregnant",
    "domicile",
    "workplace",
    "notes",
)
SEALED_FIELDS = ("id_number", "phone")
# What the resident page shows masked and reveals, for a reason, to ``unmask``: the sealed fields, and the
# birth date and domicile, which beside the ID number's last 4 digits would rebuild it (docs/security.md).
REVEALABLE_FIELDS = ("id_number", "phone", "birth_date", "domicile")


class ExactSearchRefused(limits.Refused):
    """An exact search the user may not make (no ``search_exact``) or not now (over the limit)."""


def do_search_exact(actor: Any, queryset, kind: str, raw: str, request: Any = None):
    """Narrow ``queryset`` to the resident(s) with this full ID number (``kind="id"``) or phone (``"phone"``).

    Needs ``search_exact`` (the search reaches only where a membership has it), at most
    ``EXACT_SEARCH_LIMIT`` per ``EXACT_SEARCH_WINDOW_SECONDS`` per user, counted in the database so
    that the limit holds across processes. Every search, refused by the limit or not, is
    audited: which field and how many matched, never the value.
    """
    field = "id_number" if kind == "id" else "phone"
    if not memberships_with(actor, "search_exact"):
        raise ExactSearchRefused(_("Your role may not search by a full ID number or phone. Search by name instead."))
    allowance = limits.take(
        f"search_exact:user:{actor.pk}",
        limit=settings.EXACT_SEARCH_LIMIT,
        window=settings.EXACT_SEARCH_WINDOW_SECONDS,
    )
    if not allowance.allowed:
        record("search", actor=actor, detail={"field": field, "limited": True}, request=request)
        minutes = max(1, -(-allowance.retry_after // 60))
        raise ExactSearchRefused(
            ngettext(
                "Too many searches by ID number or phone: try again in %(minutes)s minute.",
                "Too many searches by ID number or phone: try again in %(minutes)s minutes.",
                minutes,
            )
            % {"minutes": minutes},
            retry_after=allowance.retry_after,
        )
    finder = find_by_id_number if kind == "id" else find_by_phone
    found = finder(queryset, raw) & finder(Resident.objects.visible_to(actor, "search_exact"), raw)
    record("search", actor=actor, detail={"field": field, "matched": found.count()}, request=request)
    return found


def do_check_id_number_clash(actor: Any, community_id: int, raw: str, request: Any = None) -> Resident | None:
    """A resident of the community holding this ID number whom ``actor`` may not see, or None.

    A new record with the number would duplicate them; saying so would tell the actor
    that the number is in the ledger, so the caller answers without it (and the
    community merges). The look-up is an exact search in effect: it counts against
    the same limit (``ExactSearchRefused`` beyond it) and is one ``search`` event.
    """
    if not (raw or "").strip():
        return None
    clash = (
        find_by_id_number(Resident.objects.filter(community_id=community_id), raw)
        .exclude(pk__in=Resident.objects.visible_to(actor).values("pk"))
        .first()
    )
    if clash is None:
        return None
    allowance = limits.take(
        f"search_exact:user:{actor.pk}", limit=settings.EXACT_SEARCH_LIMIT, window=settings.EXACT_SEARCH_WINDOW_SECONDS
    )
    record(
        "search",
        actor=actor,
        community_id=community_id,
        detail={"field": "id_number", "clash": True, "limited": not allowance.allowed},
        request=request,
    )
    if not allowance.allowed:
        raise ExactSearchRefused(
            _("Too many searches by ID number or phone: try again later."), retry_after=allowance.retry_after
        )
    return clash


def find_by_id_number(queryset, raw: str):
    """Residents in ``queryset`` whose ID number equals ``raw`` (normalised), via the blind index."""
    try:
        number = parse_id_number(raw).number
    except InvalidIdNumber:
        number = raw.strip().upper()
    return queryset.filter(id_number_index=blind_index(number, "id_number"))


def find_by_phone(queryset, raw: str):
    try:
        phone = normalise_phone(raw)
    except InvalidPhone:
        return queryset.none()
    return queryset.filter(phone_index=blind_index(phone, "phone"))


def _set_id_number(resident: Resident, raw: str, trusted: bool = False) -> None:
    raw = (raw or "").strip()
    if not raw:
        resident.id_number_sealed, resident.id_number_index, resident.id_number_masked = None, "", ""
        return
    if resident.id_type == Resident.IdType.RESIDENT_ID:
        if trusted:  # already the ``number`` of a successful parse_id_number: only what it states is needed
            number = raw
            born, sex = birth_date_and_sex(number)
        else:
            try:
                parsed = parse_id_number(raw)
            except InvalidIdNumber as error:
                raise ValidationError(
                    {"id_number": _("This ID number is not valid: %(problem)s.") % {"problem": error.args[0]}}
                ) from None
            number, born, sex = parsed.number, parsed.birth_date, parsed.sex
        resident.birth_date = resident.birth_date or born
        if resident.birth_date != born:
            raise ValidationError({"birth_date": _("The birth date does not match the ID number.")})
        resident.sex = resident.sex or sex
        if resident.sex != sex:
            raise ValidationError({"sex": _("The sex does not match the ID number.")})
    else:
        number = raw.upper().replace(" ", "")
    resident.id_number_sealed = seal(number, "id_number")
    resident.id_number_index = blind_index(number, "id_number")
    resident.id_number_masked = mask_id_number(number)


def _set_phone(resident: Resident, raw: str, trusted: bool = False) -> None:
    raw = (raw or "").strip()
    if not raw:
        resident.phone_sealed, resident.phone_index, resident.phone_masked = None, "", ""
        return
    if trusted:  # already what normalise_phone returned
        phone = raw
    else:
        try:
            phone = normalise_phone(raw)
        except InvalidPhone:
            raise ValidationError(
                {"phone": _("This phone number is not valid: use 11 mobile digits or a landline with its area code.")}
            ) from None
    resident.phone_sealed = seal(phone, "phone")
    resident.phone_index = blind_index(phone, "phone")
    resident.phone_masked = mask_phone(phone)


def seal_fields(resident: Resident, id_number: str = "", phone: str = "", *, trusted: bool = False) -> None:
    """Fill the sealed, indexed and masked columns of ``resident`` from plain values.

    An ID number of type ``resident_id`` is validated and must agree with the birth
    date and sex already set (they are derived from it when empty). Raises
    ValidationError; never puts the values themselves in the message. Bulk writers
    (the demo, ledger import) call this so that every row is sealed the same way.

    ``trusted``: the values are already normalised and validated — the ``number`` of a
    successful ``idcard.parse_id_number`` and the result of ``idcard.normalise_phone``,
    as the import's parser gives them — so they are not parsed again. Birth date and
    sex are still derived from the number and checked against the resident's.
    """
    _set_id_number(resident, id_number, trusted)
    _set_phone(resident, phone, trusted)


def _check_agrees_with_id_number(resident: Resident) -> None:
    """A resident ID number fixes birth date and sex: a correction may not contradict it."""
    if resident.id_type != Resident.IdType.RESIDENT_ID or not resident.id_number_sealed:
        return
    parsed = parse_id_number(unseal(resident.id_number_sealed, "id_number"))
    if resident.birth_date != parsed.birth_date:
        raise ValidationError({"birth_date": _("The birth date does not match the ID number.")})
    if resident.sex != parsed.sex:
        raise ValidationError({"sex": _("The sex does not match the ID number.")})


def _check_duplicate_id(resident: Resident, actor: Any = None) -> None:
    """One record per ID number in a community. Who may not see the other record is not told it exists."""
    if not resident.id_number_index:
        return
    clash = Resident.objects.filter(community_id=resident.community_id, id_number_index=resident.id_number_index)
    if resident.pk:
        clash = clash.exclude(pk=resident.pk)
    if not clash.exists():
        return
    if actor is not None and clash.exclude(pk__in=Resident.objects.visible_to(actor).values("pk")).exists():
        raise ValidationError(
            {"id_number": _("This ID number cannot be used here. Ask the community office to check the ledger.")}
        )
    raise ValidationError(
        {"id_number": _("A resident with this ID number is already in the ledger of this community.")}
    )


def _place(resident: Resident, household: Household) -> None:
    resident.household = household
    resident.street_id = household.street_id
    resident.community_id = household.community_id
    resident.grid_id = household.grid_id
    resident.building_id = household.building_id


def do_create_resident(
    actor: Any, household: Household, data: dict[str, Any], reason: str = "", request: Any = None
) -> Resident:
    """Add a resident to a household. ``data`` holds PLAIN_FIELDS and optionally ``id_number``, ``phone``."""
    role = require(actor, "edit_ledger", household)
    resident = Resident()
    _place(resident, household)
    for field in PLAIN_FIELDS:
        if field in data and data[field] is not None:
            setattr(resident, field, data[field])
    if not (resident.name or "").strip():
        raise ValidationError({"name": _("The name is required.")})
    seal_fields(resident, data.get("id_number", ""), data.get("phone", ""))
    resident.full_clean(
        exclude=["household", "street", "community", "grid", "building", "id_number_sealed", "phone_sealed"]
    )
    with transaction.atomic():
        _check_duplicate_id(resident, actor)
        resident.save()
        ResidentVersion.objects.create(
            resident=resident,
            version=1,
            changed_at=timezone.now(),
            changed_by=actor,
            reason=reason,
            changes={"created": True},
        )
        record("create", actor=actor, role=role, obj=resident, reason=reason, request=request)
    return resident


def _shown(resident: Resident, field: str) -> Any:
    if field == "id_number":
        return resident.id_number_masked
    if field == "phone":
        return resident.phone_masked
    value = getattr(resident, field)
    return value.isoformat() if hasattr(value, "isoformat") else value


def do_update_resident(
    actor: Any, resident: Resident, data: dict[str, Any], reason: str, request: Any = None
) -> Resident:
    """Correct a resident. Writes a new version listing what changed; a reason is required.

    When the correction is refused, ``resident`` is reloaded: the caller's object is left as stored.
    """
    role = require(actor, "edit_ledger", resident)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why this record is being corrected.")})
    try:
        changes = _apply_correction(resident, data, actor)
    except ValidationError:
        resident.refresh_from_db()
        raise
    if not changes:
        return resident
    with transaction.atomic():
        resident.version += 1
        resident.save()
        ResidentVersion.objects.create(
            resident=resident,
            version=resident.version,
            changed_at=timezone.now(),
            changed_by=actor,
            reason=reason,
            changes=changes,
        )
        record(
            "update",
            actor=actor,
            role=role,
            obj=resident,
            reason=reason,
            detail={"fields": sorted(changes)},
            request=request,
        )
    return resident


def _apply_correction(resident: Resident, data: dict[str, Any], actor: Any = None) -> dict[str, list[Any]]:
    """Set the corrected values on ``resident`` (unsaved) and return ``{field: [before, after]}``."""
    before = {field: _shown(resident, field) for field in PLAIN_FIELDS + SEALED_FIELDS}
    for field in PLAIN_FIELDS:
        if field in data and data[field] is not None:
            setattr(resident, field, data[field])
    if not (resident.name or "").strip():
        raise ValidationError({"name": _("The name is required.")})
    if "id_number" in data and data["id_number"] is not None:
        current = unseal(resident.id_number_sealed, "id_number") if resident.id_number_sealed else ""
        if data["id_number"].strip().upper() != current:
            _set_id_number(resident, data["id_number"])
    if "phone" in data and data["phone"] is not None:
        current = unseal(resident.phone_sealed, "phone") if resident.phone_sealed else ""
        if data["phone"].strip() != current:
            _set_phone(resident, data["phone"])
    if (before["birth_date"], before["sex"]) != (_shown(resident, "birth_date"), resident.sex):
        _check_agrees_with_id_number(resident)
    resident.full_clean(
        exclude=["household", "street", "community", "grid", "building", "id_number_sealed", "phone_sealed"]
    )
    after = {field: _shown(resident, field) for field in PLAIN_FIELDS + SEALED_FIELDS}
    if after != before:
        _check_duplicate_id(resident, actor)
    return {field: [before[field], after[field]] for field in after if before[field] != after[field]}


def do_record_movement(actor: Any, resident: Resident, data: dict[str, Any], request: Any = None) -> Movement:
    """Record where a resident came from or is going (R2 来源与去向)."""
    role = require(actor, "edit_ledger", resident)
    movement = Movement(
        resident=resident,
        street_id=resident.street_id,
        community_id=resident.community_id,
        grid_id=resident.grid_id,
        building_id=resident.building_id,
        recorded_by=actor,
    )
    for field in (
        "direction",
        "origin",
        "destination",
        "departed_on",
        "arrived_on",
        "transport",
        "trip_number",
        "notes",
    ):
        if data.get(field) is not None:
            setattr(movement, field, data[field])
    if movement.direction == Movement.Direction.ARRIVAL and not movement.origin:
        raise ValidationError({"origin": _("Say where the resident came from.")})
    if movement.direction == Movement.Direction.DEPARTURE and not movement.destination:
        raise ValidationError({"destination": _("Say where the resident is going.")})
    if movement.departed_on and movement.arrived_on and movement.arrived_on < movement.departed_on:
        raise ValidationError({"arrived_on": _("The arrival date is before the departure date.")})
    movement.full_clean(exclude=["resident", "street", "community", "grid", "building", "recorded_by"])
    with transaction.atomic():
        movement.save()
        record("create", actor=actor, role=role, obj=movement, reason=movement.direction, request=request)
    return movement


def read_full_resident(actor: Any, resident: Resident, request: Any = None) -> None:
    """Opening a resident's full record is audited (R17): who, which record, when, from where."""
    role = require(actor, "view_ledger", resident)
    record("read", actor=actor, role=role, obj=resident, request=request)


def do_unmask(actor: Any, resident: Resident, field: str, reason: str, request: Any = None) -> str:
    """Reveal a sealed field, the birth date or the domicile. Needs ``unmask`` and a reason; always audited."""
    if field not in REVEALABLE_FIELDS:
        raise ValidationError({"field": _("Only the ID number, phone, birth date or domicile can be revealed.")})
    role = require(actor, "unmask", resident)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why you need to see the full value.")})
    record("unmask", actor=actor, role=role, obj=resident, reason=reason, detail={"field": field}, request=request)
    if field == "birth_date":
        return resident.birth_date.isoformat() if resident.birth_date else ""
    if field == "domicile":
        return resident.domicile
    blob = resident.id_number_sealed if field == "id_number" else resident.phone_sealed
    return unseal(blob, field) if blob else ""
