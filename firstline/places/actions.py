"""Writes to the hierarchy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from firstline.audit.log import record
from firstline.places.models import Building, Entrance, Household, bump_map_version
from firstline.scoping import require

MAX_FLOORS = 100
MAX_ENTRANCES = 20
MAX_ROOMS_PER_FLOOR = 30


def room_number(floor: int, room: int) -> str:
    """The usual Chinese room numbering: floor then two-digit room, e.g. 5, 1 → ``501``."""
    return f"{floor}{room:02d}"


def do_bulk_create_households(
    actor: Any, building: Building, *, floors: int, entrances: int, rooms_per_floor: int, request: Any = None
) -> list[Household]:
    """Create every household of a building (floors × entrances × rooms). Rooms that exist are kept."""
    role = require(actor, "manage_places", building)
    problems = {}
    if not 1 <= floors <= MAX_FLOORS:
        problems["floors"] = _("Floors must be between 1 and %(max)s.") % {"max": MAX_FLOORS}
    if not 1 <= entrances <= MAX_ENTRANCES:
        problems["entrances"] = _("Entrances must be between 1 and %(max)s.") % {"max": MAX_ENTRANCES}
    if not 1 <= rooms_per_floor <= MAX_ROOMS_PER_FLOOR:
        problems["rooms_per_floor"] = _("Rooms per floor must be between 1 and %(max)s.") % {"max": MAX_ROOMS_PER_FLOOR}
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        existing = set(Household.objects.filter(building=building).values_list("entrance__number", "room"))
        created = []
        for number in range(1, entrances + 1):
            entrance, _created = Entrance.objects.get_or_create(building=building, number=number)
            for floor in range(1, floors + 1):
                for room in range(1, rooms_per_floor + 1):
                    name = room_number(floor, room)
                    if (number, name) in existing:
                        continue
                    created.append(
                        Household(
                            street_id=building.street_id,
                            community_id=building.community_id,
                            grid_id=building.grid_id,
                            building=building,
                            entrance=entrance,
                            room=name,
                            floor=floor,
                        )
                    )
        Household.objects.bulk_create(created, batch_size=500)
        bump_map_version(building.community_id)
        if building.floors < floors:
            building.floors = floors
            building.save(update_fields=["floors"])
        record(
            "create",
            actor=actor,
            role=role,
            obj=building,
            object_type="households",
            detail={"households": len(created)},
            request=request,
        )
    return created
