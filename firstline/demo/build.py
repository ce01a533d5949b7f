"""Write a demo plan to the database: one transaction, bulk inserts, one audit event.

The rows are the ones the ledger actions would write — sealed fields filled by
``people.actions.seal_fields``, a first ``ResidentVersion`` per resident — but
inserted in bulk: ``do_create_resident`` audits and validates each row on its
own, which would take minutes for a street. The build as a whole is audited once.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from firstline.accounts.models import Membership, User
from firstline.audit.log import record
from firstline.demo import plan as p
from firstline.demo.gates import write_gates
from firstline.demo.history import write_history
from firstline.people.actions import seal_fields
from firstline.people.models import CARE_FLAGS, Movement, Resident, ResidentVersion
from firstline.places.models import (
    Building,
    Community,
    Compound,
    Entrance,
    Gate,
    Grid,
    Household,
    Street,
    Zone,
    bump_map_version,
)
from firstline.status.daily import rebuild_daily_counts

BATCH = 2000

DEMO_REASON = "演示数据"  # the demo street is Chinese data, shown as written


@dataclass
class LoginRow:
    """A demo login as printed and written to the logins file. ``password`` is None when it is not the demo one."""

    username: str
    password: str | None
    role: str
    scope: str  # public code of the membership's place
    place_name: str
    full_name: str

    def as_json(self) -> dict[str, Any]:
        return {"username": self.username, "password": self.password, "role": self.role, "scope": self.scope}


def street_exists() -> bool:
    return Street.objects.exists()


@transaction.atomic
def build_demo(plan: p.Plan) -> dict[str, int]:
    """Write ``plan`` into an empty database. Returns the counts written (also in the audit event)."""
    now = timezone.now()
    street = Street.objects.create(code=plan.street.code, name=plan.street.name)
    places: dict[tuple, Any] = {("street",): street}

    communities = Community.objects.bulk_create(
        Community(code=c.code, street=street, name=c.name, kind=c.kind, secretary_name=c.secretary_name)
        for c in plan.street.communities
    )
    zones, compounds, gates, grids = [], [], [], []
    for ci, (c, community) in enumerate(zip(plan.street.communities, communities, strict=True)):
        places[("community", ci)] = community
        zones.append(
            [Zone(code=z.code, community=community, name=z.name, commander_name=z.commander_name) for z in c.zones]
        )
        compounds.append(
            [Compound(code=k.code, community=community, name=k.name, is_key=k.is_key) for k in c.compounds]
        )
    Zone.objects.bulk_create(z for row in zones for z in row)
    Compound.objects.bulk_create(k for row in compounds for k in row)
    for ci, (c, community) in enumerate(zip(plan.street.communities, communities, strict=True)):
        gates.append(
            [
                Gate(
                    code=g.code,
                    street=street,
                    community=community,
                    compound=compounds[ci][g.compound] if g.compound is not None else None,
                    name=g.name,
                    kind=g.kind,
                )
                for g in c.gates
            ]
        )
        grids.append(
            [
                Grid(
                    code=g.code,
                    street=street,
                    community=community,
                    zone=zones[ci][g.zone],
                    name=g.name,
                    leader_name=g.leader_name,
                )
                for g in c.grids
            ]
        )
    Gate.objects.bulk_create(g for row in gates for g in row)
    Grid.objects.bulk_create(g for row in grids for g in row)

    buildings: list[Building] = []
    building_plans: list[p.Building] = []
    for ci, c in enumerate(plan.street.communities):
        places.update({("gate", ci, gi): gate for gi, gate in enumerate(gates[ci])})
        for gi, (g, grid) in enumerate(zip(c.grids, grids[ci], strict=True)):
            places[("grid", ci, gi)] = grid
            for bi, b in enumerate(g.buildings):
                buildings.append(
                    Building(
                        code=b.code,
                        street=street,
                        community_id=grid.community_id,
                        grid=grid,
                        compound=compounds[ci][b.compound] if b.compound is not None else None,
                        name=b.name,
                        floors=b.floors,
                        leader_name=b.leader_name,
                    )
                )
                building_plans.append(b)
                places[("building", ci, gi, bi)] = buildings[-1]
    Building.objects.bulk_create(buildings, batch_size=BATCH)

    entrances = Entrance.objects.bulk_create(
        (Entrance(building=building, number=n) for building, b in zip(buildings, building_plans, strict=True)
         for n in range(1, b.entrances + 1)),
        batch_size=BATCH,
    )  # fmt: skip
    entrance_of = {(e.building_id, e.number): e for e in entrances}

    households: list[Household] = []
    household_plans: list[p.Household] = []
    for building, b in zip(buildings, building_plans, strict=True):
        for h in b.households:
            households.append(
                Household(
                    code=h.code,
                    street_id=building.street_id,
                    community_id=building.community_id,
                    grid_id=building.grid_id,
                    building=building,
                    entrance=entrance_of[(building.id, h.entrance)] if h.entrance else None,
                    room=h.room,
                    floor=h.floor,
                )
            )
            household_plans.append(h)
    Household.objects.bulk_create(households, batch_size=BATCH)

    residents: list[Resident] = []
    person_plans: list[p.Person] = []
    for household, h in zip(households, household_plans, strict=True):
        for person in h.people:
            resident = Resident(
                code=person.code,
                household=household,
                street_id=household.street_id,
                community_id=household.community_id,
                grid_id=household.grid_id,
                building_id=household.building_id,
                name=person.name,
                sex=person.sex,
                birth_date=person.birth_date,
                relation_to_head=person.relation,
                person_type=person.person_type,
                domicile=person.domicile,
                workplace=person.workplace,
                status=person.status,
                **{flag: flag in person.flags for flag in CARE_FLAGS},
            )
            seal_fields(resident, person.id_number, person.phone)
            residents.append(resident)
            person_plans.append(person)
    Resident.objects.bulk_create(residents, batch_size=BATCH)
    ResidentVersion.objects.bulk_create(
        (ResidentVersion(resident=r, version=1, changed_at=now, reason=DEMO_REASON, changes={"created": True})
         for r in residents),
        batch_size=BATCH,
    )  # fmt: skip
    movements = Movement.objects.bulk_create(
        (_movement(resident, person.movement) for resident, person in zip(residents, person_plans, strict=True)
         if person.movement),
        batch_size=BATCH,
    )  # fmt: skip

    users = _create_logins(plan, places)
    # The street has been in the ledger since before the four weeks of history began.
    Resident.objects.filter(street=street).update(created_at=now - timedelta(days=60))
    history = write_history(plan, street, residents, person_plans, now)
    today = timezone.localdate(now)
    history["daily_counts"] = rebuild_daily_counts(today - timedelta(days=29), today)
    history.update(write_gates(plan, gates, users, residents, person_plans, now))
    for community in communities:
        bump_map_version(community.id)  # bulk rows: no save signals
    counts = {
        "communities": len(communities),
        "grids": sum(len(row) for row in grids),
        "gates": sum(len(row) for row in gates),
        "buildings": len(buildings),
        "households": len(households),
        "residents": len(residents),
        "movements": len(movements),
        "users": len(users),
        **history,
    }
    record(
        "create", object_type="demo", object_code=street.code, reason=DEMO_REASON, detail={"seed": plan.seed, **counts}
    )
    return counts


def _movement(resident: Resident, m: p.Movement) -> Movement:
    return Movement(
        code=m.code,
        resident=resident,
        street_id=resident.street_id,
        community_id=resident.community_id,
        grid_id=resident.grid_id,
        building_id=resident.building_id,
        direction=m.direction,
        origin=m.origin,
        destination=m.destination,
        departed_on=m.departed_on,
        arrived_on=m.arrived_on,
        transport=m.transport,
        trip_number=m.trip_number,
    )


def _create_logins(plan: p.Plan, places: dict[tuple, Any]) -> list[User]:
    users = []
    hashes: dict[str, str] = {}  # the gate guards share one password: hash it once
    for login in [*plan.logins, *plan.guards]:
        user = User(username=login.username, code=login.user_code, full_name=login.full_name)
        if login.password not in hashes:
            hashes[login.password] = make_password(login.password)
        user.password = hashes[login.password]
        users.append(user)
    User.objects.bulk_create(users)
    memberships = []
    for user, login in zip(users, [*plan.logins, *plan.guards], strict=True):
        membership = Membership(user=user, role=login.role, code=login.membership_code, reason=DEMO_REASON)
        membership.bind(places[login.place])
        memberships.append(membership)
    Membership.objects.bulk_create(memberships)
    return users


def plan_logins(plan: p.Plan) -> list[LoginRow]:
    """The logins of a plan just built."""
    return [
        LoginRow(
            login.username,
            login.password,
            login.role,
            plan.place(login.place).code,
            plan.place(login.place).name,
            login.full_name,
        )
        for login in [*plan.logins, *plan.guards]
    ]


def existing_logins(seed: int) -> list[LoginRow]:
    """The demo logins of a street built earlier, read back from the database.

    A password is shown only if it still is the one the demo set (it is checked,
    not read): a changed password stays secret.
    """
    rows = []
    for login in p.make_logins(seed):
        user = User.objects.filter(username=login.username).first()
        membership = Membership.objects.active().filter(user=user).first() if user else None
        if user is None or membership is None:
            continue
        place = membership.place
        password = login.password if user.check_password(login.password) else None
        rows.append(LoginRow(login.username, password, membership.role, place.code, place.name, user.full_name))
    guard_password = p.guard_password(seed)
    guards = []
    for user in User.objects.filter(username__regex=p.GUARD_USERNAME.pattern):
        membership = Membership.objects.active().filter(user=user).first()
        match = p.GUARD_USERNAME.match(user.username)
        if membership is None or match is None:
            continue
        password = guard_password if user.check_password(guard_password) else None
        place = membership.place
        row = LoginRow(user.username, password, membership.role, place.code, place.name, user.full_name)
        guards.append(((int(match[1]), match[2]), row))
    return rows + [row for _, row in sorted(guards, key=lambda pair: pair[0])]


def write_logins_json(path: str | Path, rows: list[LoginRow]) -> None:
    """Write the logins file, readable by its owner only (it holds passwords)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump([row.as_json() for row in rows], out, ensure_ascii=False, indent=2)
        out.write("\n")
    path.chmod(0o600)
