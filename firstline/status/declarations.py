"""Self-declarations (R22): a visitor or returnee registers from the QR code at a gate, without login.

The actions of this module are the only writers of ``Declaration``. Submitting
one needs no account: the values are validated like the ledger's (an ID card
number must be a real one; passports and permits are accepted as written), the ID
number and phone are sealed at once, the arrival is checked against the risk
areas, and the community gets a task (urgent when the person comes from a risk
area or has a fever). A worker then accepts it — registering the arrival of the
matched resident, or of a new person in the household the worker picks, which
applies the screening rules — or dismisses it with a reason. Nothing here writes
a personal value to a log, a URL or an audit event.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from firstline.audit.log import record
from firstline.people.idcard import InvalidIdNumber, InvalidPhone, normalise_phone, parse_id_number
from firstline.people.models import Movement, Resident
from firstline.places.models import Community, Gate, Household
from firstline.scoping import require
from firstline.sealing import blind_index, mask_id_number, mask_phone, seal, unseal
from firstline.status.actions import (
    ArrivalReferred,
    ArrivalResult,
    clean_symptoms,
    clean_temperature,
    do_register_arrival,
)
from firstline.status.models import Declaration
from firstline.status.rules import risk_area_for, rules_for
from firstline.tasks.actions import close_tasks, open_task
from firstline.tasks.models import Task

OTHER_DOCUMENT = re.compile(r"[A-Z0-9]{5,20}")
ID_TYPES = tuple(Resident.IdType.values)


def _id_number(id_type: str, raw: str) -> str:
    """The ID number as stored: a resident ID card checked and normalised; other documents as written."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError({"id_number": _("Enter the number of your ID card or passport.")})
    if id_type == Resident.IdType.RESIDENT_ID:
        try:
            return parse_id_number(raw).number
        except InvalidIdNumber as error:
            raise ValidationError(
                {"id_number": _("This ID number is not valid: %(problem)s.") % {"problem": error.args[0]}}
            ) from None
    number = re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", raw)).upper()
    if not OTHER_DOCUMENT.fullmatch(number):
        raise ValidationError({"id_number": _("A passport or permit number has 5 to 20 letters and digits.")})
    return number


def _text(data: dict[str, Any], name: str, limit: int, message: str = "") -> str:
    value = " ".join(str(data.get(name) or "").split())[:limit]
    if message and not value:
        raise ValidationError({name: message})
    return value


def _clean(community: Community, data: dict[str, Any]) -> dict[str, Any]:
    """The declaration's values, validated; every problem at once, never holding the values themselves."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def check(name: str, function, *args) -> None:
        try:
            cleaned[name] = function(*args)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                errors.setdefault(field, []).extend(messages)

    check("name", _text, data, "name", 50, _("Enter your name."))
    id_type = data.get("id_type") or Resident.IdType.RESIDENT_ID
    if id_type not in ID_TYPES:
        errors["id_type"] = [_("Choose the kind of document.")]
    else:
        check("id_number", _id_number, id_type, data.get("id_number", ""))
    try:
        cleaned["phone"] = normalise_phone(str(data.get("phone") or ""))
    except InvalidPhone:
        errors["phone"] = [_("This phone number is not valid: use 11 mobile digits or a landline with its area code.")]
    check("address", _text, data, "address", 100, _("Say where you stay in the community."))
    check("origin", _text, data, "origin", 200, _("Say where you came from."))
    check("trip_no", _text, data, "trip_no", 30)
    transport = data.get("transport") or ""
    if transport and transport not in Movement.Transport.values:
        errors["transport"] = [_("Choose how you travelled.")]
    cleaned["transport"] = transport
    arrival, departure = data.get("arrival_date"), data.get("departure_date")
    today = timezone.localdate()
    if not isinstance(arrival, date):
        errors["arrival_date"] = [_("Enter the day you arrived.")]
    elif arrival > today:
        errors["arrival_date"] = [_("The arrival date is in the future.")]
    elif arrival < today - timedelta(days=60):
        errors["arrival_date"] = [_("The arrival date is more than 60 days ago.")]
    if isinstance(departure, date) and isinstance(arrival, date) and departure > arrival:
        errors["departure_date"] = [_("The departure date is after the arrival date.")]
    cleaned["arrival_date"] = arrival
    cleaned["departure_date"] = departure if isinstance(departure, date) else None
    check("temperature", clean_temperature, data.get("temperature"))
    check("symptoms", clean_symptoms, data.get("symptoms"))
    if errors:
        raise ValidationError(errors)
    return cleaned


def is_urgent(declaration: Declaration) -> bool:
    return declaration.from_risk_area or (
        declaration.temperature is not None and rules_for(declaration.community_id).is_fever(declaration.temperature)
    )


def do_submit_declaration(
    community: Community, data: dict[str, Any], *, gate: Gate | None = None, request: Any = None
) -> Declaration:
    """Store a self-declaration (no account needed) and give the community a task about it.

    ``data``: name, id_type, id_number, phone, address, origin, departure_date,
    arrival_date, transport, trip_no, temperature (optional), symptoms (list).
    Raises ValidationError naming the fields, never their values.
    """
    if gate is not None and gate.community_id != community.pk:
        raise ValidationError({"gate": _("This gate is not in this community.")})
    values = _clean(community, data)
    number, phone = values.pop("id_number"), values.pop("phone")
    rules = rules_for(community.pk)
    area = risk_area_for(community.street_id, values["origin"], values["arrival_date"])
    within_period = values["arrival_date"] + timedelta(days=rules.isolation_days) > timezone.localdate()
    index = blind_index(number, "id_number")
    declaration = Declaration(
        street_id=community.street_id,
        community=community,
        gate=gate,
        id_number_sealed=seal(number, "id_number"),
        id_number_index=index,
        id_number_masked=mask_id_number(number),
        phone_sealed=seal(phone, "phone"),
        phone_masked=mask_phone(phone),
        from_risk_area=area is not None and within_period,
        resident=Resident.objects.filter(community=community, id_number_index=index, left_at__isnull=True).first(),
        **values,
    )
    urgent = is_urgent(declaration)
    with transaction.atomic():
        declaration.save()
        if declaration.from_risk_area:
            note = _("Self-declaration: arrived from a risk area (%(area)s). Contact them today.") % {"area": area}
        elif urgent:
            note = _("Self-declaration with a fever: contact them at once.")
        else:
            note = _("Self-declaration to check and register.")
        open_task(
            Task.Kind.DECLARATION,
            place=community,
            level=Task.Level.COMMUNITY,
            urgent=urgent,
            note=note,
            source=f"declaration:{declaration.code}",
            dedupe_key=f"declaration:{declaration.code}",
        )
        record(
            "create",
            obj=declaration,
            reason="self-declaration",
            detail={"gate": gate.code if gate is not None else "", "from_risk_area": declaration.from_risk_area},
            request=request,
        )
    return declaration


def _finish(actor: Any, declaration: Declaration, state: str, note: str) -> None:
    now = timezone.now()
    declaration.state, declaration.handled_by, declaration.handled_at = state, actor, now
    declaration.save(update_fields=["state", "handled_by", "handled_at", "resident"])
    close_tasks(Q(source=f"declaration:{declaration.code}", kind=Task.Kind.DECLARATION), note, by=actor, at=now)


def guessed_id_type(declaration: Declaration) -> str:
    """A number that is a valid ID card number is one; anything else was declared as a passport or permit."""
    if not declaration.id_number_sealed:
        return Resident.IdType.OTHER
    try:
        parse_id_number(unseal(declaration.id_number_sealed, "id_number"))
    except InvalidIdNumber:
        return Resident.IdType.PASSPORT
    return Resident.IdType.RESIDENT_ID


def do_accept_declaration(
    actor: Any,
    declaration: Declaration,
    *,
    household: Household | None = None,
    id_type: str = "",
    request: Any = None,
) -> ArrivalResult:
    """Register the declared arrival and apply the screening rules; the declaration's task is done.

    The matched resident (same ID number in this community) arrives; without one,
    a new resident is created in ``household`` from the declared name and the sealed
    ID number and phone (validated again by ``do_create_resident``).
    """
    role = require(actor, "edit_ledger", declaration)
    if declaration.state != Declaration.State.NEW:
        raise ValidationError({"state": _("This declaration has already been handled.")})
    resident = declaration.resident
    if resident is not None and resident.left_at is not None:
        resident = None
    person = None
    if resident is None:
        if household is None:
            raise ValidationError({"household": _("Choose the household the person stays in.")})
        if household.community_id != declaration.community_id:
            raise ValidationError({"household": _("This household is not in the declaration's community.")})
        person = {
            "name": declaration.name,
            "id_type": id_type or guessed_id_type(declaration),
            "id_number": unseal(declaration.id_number_sealed, "id_number") if declaration.id_number_sealed else "",
            "phone": unseal(declaration.phone_sealed, "phone") if declaration.phone_sealed else "",
            "relation_to_head": Resident.Relation.OTHER,
        }
    data = {
        "origin": declaration.origin,
        "departure_date": declaration.departure_date,
        "arrival_date": declaration.arrival_date,
        "transport": declaration.transport,
        "trip_no": declaration.trip_no,
        "temperature": declaration.temperature,
        "notes": _("Self-declaration"),
    }
    with transaction.atomic():
        try:
            result = do_register_arrival(
                actor, data, resident=resident, household=household, person=person, request=request
            )
        except ArrivalReferred as referred:  # the merge task is kept; the declaration waits for it
            refused: ArrivalReferred | None = referred
        else:
            refused = None
            declaration.resident = result.resident
            _finish(actor, declaration, Declaration.State.ACCEPTED, _("Arrival registered."))
            record("update", actor=actor, role=role, obj=declaration, reason="accepted", request=request)
    if refused is not None:
        raise refused
    return result


def do_dismiss_declaration(actor: Any, declaration: Declaration, reason: str, request: Any = None) -> None:
    """Set a declaration aside (a duplicate, a test, someone only passing by); the reason is required."""
    role = require(actor, "edit_ledger", declaration)
    if declaration.state != Declaration.State.NEW:
        raise ValidationError({"state": _("This declaration has already been handled.")})
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise ValidationError({"reason": _("Say why the declaration is dismissed.")})
    with transaction.atomic():
        _finish(actor, declaration, Declaration.State.DISMISSED, reason)
        record("update", actor=actor, role=role, obj=declaration, reason=reason, detail={"state": "dismissed"})
