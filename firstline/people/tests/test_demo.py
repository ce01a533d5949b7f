"""The demo street: ``firstline demo`` and the plan it writes.

The plan is a pure function of the seed, so most properties are checked on the
full-size plan without a database; one small street is built for real.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from firstline.accounts.models import Membership, User
from firstline.accounts.roles import Role
from firstline.audit.log import verify
from firstline.audit.models import AuditEvent
from firstline.demo.build import DEMO_REASON
from firstline.demo.plan import make_logins, make_plan
from firstline.people.actions import find_by_id_number, find_by_phone
from firstline.people.idcard import normalise_phone, parse_id_number
from firstline.people.models import Movement, Resident, ResidentVersion
from firstline.places.models import Building, Community, Gate, Grid, Household, Street, Zone
from firstline.sealing import mask_id_number, mask_phone, unseal

TODAY = date(2025, 3, 1)


@pytest.fixture(scope="module")
def full_plan():
    return make_plan(2020, 20000, TODAY)


@pytest.fixture
def fast_passwords(settings):
    # Argon2 is deliberately slow; the demo logins are checked, not their hashing cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def age(born: date) -> int:
    return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))


def test_it_gives_the_same_street_for_the_same_seed():
    first, second = make_plan(7, 600, TODAY), make_plan(7, 600, TODAY)
    assert first == second
    other = make_plan(8, 600, TODAY)
    assert [p.id_number for p in first.people()] != [p.id_number for p in other.people()]
    assert first.street.code != other.street.code


def test_its_logins_do_not_depend_on_the_number_of_residents():
    small, large = make_plan(7, 600, TODAY), make_plan(7, 900, TODAY)
    assert [(x.username, x.password, x.user_code) for x in small.logins] == [
        (x.username, x.password, x.user_code) for x in make_logins(7)
    ]
    assert [x.password for x in small.logins] == [x.password for x in large.logins]
    assert all(len(x.password) >= 10 for x in small.logins)


def test_the_full_street_has_the_promised_shape(full_plan):
    people = list(full_plan.people())
    assert len(people) == 20000
    urban = [c for c in full_plan.street.communities if c.kind == "urban"]
    villages = [c for c in full_plan.street.communities if c.kind == "village"]
    assert len(urban) == 2 and len(villages) == 1
    for community in urban:
        assert 2 <= len(community.compounds) <= 3 and sum(k.is_key for k in community.compounds) == 1
        assert {g.compound for g in community.gates} == set(range(len(community.compounds)))
        assert 4 <= len(community.grids) <= 6
        assert all(z.commander_name for z in community.zones)
        for grid in community.grids:
            assert grid.leader_name and 0 <= grid.zone < len(community.zones)
            assert 300 <= sum(len(b.households) for b in grid.buildings) <= 520
            for building in grid.buildings:
                assert 6 <= building.floors <= 18 and 2 <= building.entrances <= 4 and building.leader_name
                for household in building.households:
                    assert household.room == f"{household.floor}{household.room[-2:]}"
    village = villages[0]
    assert all(gate.kind == "village" for gate in village.gates)
    for grid in village.grids:
        assert all(len(b.households) == 1 and b.name.endswith("号") for b in grid.buildings)


def test_its_residents_look_like_a_real_ledger(full_plan):
    people = list(full_plan.people())
    share = Counter()
    for person in people:
        share[person.person_type] += 1
        share[person.status] += 1
        share.update(person.flags)
    assert 0.08 <= share["migrant"] / len(people) <= 0.12
    assert share["overseas"] > 0
    assert 0.015 <= share["lives_alone_elderly"] / len(people) <= 0.03
    assert 0.02 <= share["hardship"] / len(people) <= 0.04
    for flag in ("unattended_child", "disability", "chronic_illness", "pregnant"):
        assert share[flag] > 0
    for status in ("home_isolation", "observation", "out"):
        assert 0.005 <= share[status] / len(people) <= 0.05
    assert share["healthy"] / len(people) > 0.9
    assert len({p.name for p in people}) > 2000 and all(2 <= len(p.name) <= 3 for p in people)
    movements = [p.movement for p in people if p.movement]
    assert all(m.origin for m in movements if m.direction == "arrival")
    assert any(m.trip_number.startswith("G") for m in movements)


def test_its_id_numbers_and_phones_are_valid_unique_and_agree_with_the_person(full_plan):
    people = list(full_plan.people())
    for person in people:
        parsed = parse_id_number(person.id_number, today=TODAY)
        assert (parsed.birth_date, parsed.sex) == (person.birth_date, person.sex)
        if person.phone:
            assert normalise_phone(person.phone) == person.phone and person.phone[:3] in ("170", "171")
    assert len({p.id_number for p in people}) == len(people)
    phones = [p.phone for p in people if p.phone]
    assert len(set(phones)) == len(phones)
    assert len({p.code for p in people}) == len(people)


def test_its_families_have_consistent_ages(full_plan):
    for household in full_plan.households():
        head = household.people[0]
        assert head.relation == "head"
        adults = [p for p in household.people if p.relation in ("head", "spouse")]
        for person in household.people:
            if person.relation == "child":
                assert any(age(a.birth_date) - age(person.birth_date) >= 16 for a in adults)
            elif person.relation == "parent":
                assert age(person.birth_date) - age(head.birth_date) >= 18
            elif person.relation == "grandchild":
                assert age(head.birth_date) - age(person.birth_date) >= 36
            if "lives_alone_elderly" in person.flags:
                assert len(household.people) == 1 and age(person.birth_date) >= 65


def test_it_builds_a_small_street_with_sealed_residents_and_logins(db, tmp_path, fast_passwords):
    path = tmp_path / "logins.json"
    output = run_demo("--residents", "600", "--seed", "7", "--logins-json", str(path))

    assert Street.objects.count() == 1 and Community.objects.count() == 3
    assert Resident.objects.count() == 600
    assert ResidentVersion.objects.filter(version=1, reason=DEMO_REASON).count() == 600
    assert Household.objects.filter(residents__isnull=True).count() == 0
    assert Movement.objects.exists() and Zone.objects.filter(grids__isnull=False).exists()
    assert Gate.objects.filter(kind="village", community__kind="village").exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.detail["residents"]) == ("create", "demo", 600)
    assert verify().ok

    plan = make_plan(7, 600, timezone.localdate())
    planned = {person.code: person for person in plan.people()}
    residents = list(Resident.objects.all())
    assert {r.code for r in residents} == set(planned)
    for resident in residents:
        number = unseal(resident.id_number_sealed, "id_number")
        parsed = parse_id_number(number)
        assert (parsed.birth_date, parsed.sex) == (resident.birth_date, resident.sex)
        assert resident.id_number_masked == mask_id_number(number)
        assert number == planned[resident.code].id_number
        if resident.phone_sealed:
            assert resident.phone_masked == mask_phone(unseal(resident.phone_sealed, "phone"))
    someone = residents[123]
    number, phone = planned[someone.code].id_number, planned[someone.code].phone
    assert list(find_by_id_number(Resident.objects.all(), number)) == [someone]
    if phone:
        assert list(find_by_phone(Resident.objects.all(), phone)) == [someone]

    logins = json.loads(path.read_text(encoding="utf-8"))
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert {login["role"] for login in logins} == set(Role.values)
    assert {login["username"] for login in logins} == set(User.objects.values_list("username", flat=True))
    for login in logins:
        membership = Membership.objects.get(user__username=login["username"])
        assert membership.role == login["role"] and membership.place.code == login["scope"]
        assert User.objects.get(username=login["username"]).check_password(login["password"])
        assert login["username"] in output and login["password"] in output


def test_its_grid_workers_see_their_own_grids_only(db, fast_passwords):
    run_demo("--residents", "600", "--seed", "7")
    place = {m.user.username: m for m in Membership.objects.select_related("user")}
    worker, worker2, viewer = place["grid_worker"], place["grid_worker2"], place["viewer"]
    assert worker.level == worker2.level == "grid" and worker.grid_id != worker2.grid_id
    assert worker.community_id == worker2.community_id
    assert viewer.grid_id == worker.grid_id
    assert Building.objects.get(pk=place["building_leader"].building_id).grid_id == worker.grid_id
    assert place["gate_guard"].level == "gate" and place["gate_guard"].community_id == worker.community_id
    assert Grid.objects.get(pk=place["village_worker"].grid_id).community.kind == "village"

    mine = Resident.objects.visible_to(worker.user)
    assert mine.exists() and set(mine.values_list("grid_id", flat=True)) == {worker.grid_id}
    assert not Resident.objects.visible_to(worker2.user).filter(grid_id=worker.grid_id).exists()
    assert set(Resident.objects.visible_to(viewer.user)) == set(mine)


def test_it_builds_only_once(db, tmp_path, fast_passwords):
    path = tmp_path / "logins.json"
    run_demo("--residents", "300", "--seed", "7", "--logins-json", str(path))
    written = path.read_text(encoding="utf-8")
    path.unlink()
    counts = (Resident.objects.count(), Household.objects.count(), User.objects.count(), AuditEvent.objects.count())

    output = run_demo("--if-empty", "--residents", "300", "--seed", "7", "--logins-json", str(path))
    assert "not built again" in output and "grid_worker" in output
    assert path.read_text(encoding="utf-8") == written
    with pytest.raises(CommandError):
        run_demo("--residents", "300")
    after = (Resident.objects.count(), Household.objects.count(), User.objects.count(), AuditEvent.objects.count())
    assert after == counts


def test_it_keeps_a_changed_password_secret(db, tmp_path, fast_passwords):
    run_demo("--residents", "300", "--seed", "7")
    user = User.objects.get(username="grid_worker")
    user.set_password("a new secret password")
    user.save()
    path = tmp_path / "logins.json"
    output = run_demo("--if-empty", "--seed", "7", "--logins-json", str(path))
    logins = {login["username"]: login for login in json.loads(path.read_text(encoding="utf-8"))}
    assert logins["grid_worker"]["password"] is None and "(unknown)" in output
    assert logins["viewer"]["password"]


def test_its_colours_are_backed_by_the_facts_the_rules_leave(db, fast_passwords):
    """Every colour has its order, observation or departure and its history; the rules' tasks are assigned."""
    from firstline.status.actions import derived_status
    from firstline.status.models import CheckIn, IsolationOrder, RiskArea, StatusChange
    from firstline.tasks.models import Task

    run_demo("--residents", "3000", "--seed", "11")
    residents = list(Resident.objects.all())
    assert {r.status for r in residents} == {"healthy", "home_isolation", "observation", "out"}
    assert [r.code for r in residents if derived_status(r) != r.status] == []
    for resident in residents:
        changes = list(StatusChange.objects.filter(resident=resident).order_by("changed_at", "id"))
        if resident.status != "healthy":
            assert changes and changes[-1].to_status == resident.status
        if changes:
            assert changes[0].from_status == "healthy"
            assert all(a.to_status == b.from_status for a, b in pairwise(changes))
    assert RiskArea.objects.filter(name="湖北省武汉市").exists()
    assert IsolationOrder.objects.filter(released_at__isnull=False).exists()
    assert CheckIn.objects.filter(is_fever=True, source="gate").exists()
    assert Task.objects.exists() and not Task.objects.filter(assignee__isnull=True).exists()
