"""The demo street as plain data: a pure function of (seed, number of residents, today).

Nothing here touches the database, so two plans from the same arguments are equal
and a test can compare them. Birth dates are anchored on 1 January of ``today``'s
year (the same seed gives the same ID numbers all year long); movement dates count
back from ``today`` so that arrivals are recent whenever the demo is built.

Logins draw from their own random stream (``f"{seed}:logins"``), so usernames,
passwords and names of the demo users do not depend on the number of residents:
``firstline demo --if-empty`` can reprint them for a street built earlier.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from firstline.accounts.roles import Role
from firstline.codes import ALPHABET
from firstline.demo import names as words
from firstline.people.idcard import check_char

CODE_LENGTH = 12
MIN_RESIDENTS = 100

# Share of the residents living in each community: two urban communities, then the village.
COMMUNITY_SHARES = (0.38, 0.38, 0.24)
URBAN_RESIDENTS_PER_GRID = 1300  # ≈ 470 households of 2.75 people
VILLAGE_RESIDENTS_PER_GROUP = 1100

HOUSEHOLD_KINDS = {
    # kind: (urban weight, village weight)
    "elder_alone": (6, 6),
    "single": (7, 4),
    "couple": (16, 8),
    "couple_1": (26, 14),
    "couple_2": (11, 14),
    "three_gen": (12, 22),
    "elder_couple": (12, 18),
    "single_parent": (4, 2),
    "left_behind": (0, 10),
}
MIGRANT_HOUSEHOLD_SHARE = {"urban": 0.12, "village": 0.03}
MIGRANT_KINDS = ("shared_rent", "migrant_couple", "migrant_family")
HARDSHIP_HOUSEHOLD_SHARE = 0.03
# Household events that colour the battle map: arrival (home isolation), observation, out, from abroad.
EVENT_SHARES = (("isolation", 0.02), ("observation", 0.05), ("out", 0.06), ("abroad", 0.008))
EVENT_BOUNDS = tuple(
    zip([name for name, _ in EVENT_SHARES], accumulate(share for _, share in EVENT_SHARES), strict=True)
)


@dataclass
class Movement:
    code: str
    direction: str  # "arrival" or "departure"
    origin: str = ""
    destination: str = ""
    departed_on: date | None = None
    arrived_on: date | None = None
    transport: str = ""
    trip_number: str = ""


@dataclass
class Person:
    code: str
    name: str
    sex: str
    birth_date: date
    id_number: str
    phone: str
    relation: str
    person_type: str
    domicile: str
    workplace: str
    status: str = "healthy"
    flags: tuple[str, ...] = ()
    movement: Movement | None = None
    since: date | None = None  # when the current colour (or the last isolation) began


@dataclass
class Household:
    code: str
    room: str
    floor: int | None
    entrance: int | None
    people: list[Person] = field(default_factory=list)


@dataclass
class Building:
    code: str
    name: str
    floors: int
    entrances: int
    leader_name: str
    compound: int | None
    households: list[Household] = field(default_factory=list)


@dataclass
class Grid:
    code: str
    name: str
    leader_name: str
    zone: int
    buildings: list[Building] = field(default_factory=list)


@dataclass
class Zone:
    code: str
    name: str
    commander_name: str


@dataclass
class Compound:
    code: str
    name: str
    is_key: bool


@dataclass
class Gate:
    code: str
    name: str
    kind: str
    compound: int | None


@dataclass
class Community:
    code: str
    name: str
    kind: str
    secretary_name: str
    zones: list[Zone] = field(default_factory=list)
    compounds: list[Compound] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)


@dataclass
class Street:
    code: str
    name: str
    communities: list[Community] = field(default_factory=list)


# A place in the plan: ("street",), ("community", c), ("grid", c, g), ("building", c, g, b), ("gate", c, k).
PlaceRef = tuple


@dataclass
class Login:
    username: str
    password: str
    full_name: str
    role: str
    user_code: str
    membership_code: str
    place: PlaceRef = ()


@dataclass
class Plan:
    seed: int
    street: Street
    logins: list[Login]
    guards: list[Login] = field(default_factory=list)  # the gate guards of the rotations (``guard_logins``)

    def place(self, ref: PlaceRef):
        """The plan node a ``PlaceRef`` points at."""
        level, *path = ref
        if level == "street":
            return self.street
        community = self.street.communities[path[0]]
        if level == "community":
            return community
        if level == "gate":
            return community.gates[path[1]]
        grid = community.grids[path[1]]
        if level == "grid":
            return grid
        return grid.buildings[path[2]]

    def households(self) -> Iterator[Household]:
        for community in self.street.communities:
            for grid in community.grids:
                for building in grid.buildings:
                    yield from building.households

    def people(self) -> Iterator[Person]:
        for household in self.households():
            yield from household.people


# The demo users: one per role, a second grid worker in another grid, and a village grid worker.
# Where: street, community (1), grid (1st of community 1), grid2 (2nd), building (1st of grid),
# building2 (2nd of grid, or the 1st), gate (1st of community 1), village_grid (1st group of the village).
LOGINS: tuple[tuple[str, str, str], ...] = (
    ("street_officer", Role.STREET_OFFICER, "street"),
    ("community_admin", Role.COMMUNITY_ADMIN, "community"),
    ("community_worker", Role.COMMUNITY_WORKER, "community"),
    ("grid_leader", Role.GRID_LEADER, "grid"),
    ("grid_worker", Role.GRID_WORKER, "grid"),
    ("grid_worker2", Role.GRID_WORKER, "grid2"),
    ("building_leader", Role.BUILDING_LEADER, "building"),
    ("volunteer", Role.VOLUNTEER, "building2"),
    ("gate_guard", Role.GATE_GUARD, "gate"),
    ("property_staff", Role.PROPERTY_STAFF, "community"),
    ("department_liaison", Role.DEPARTMENT_LIAISON, "street"),
    ("upper_level_viewer", Role.UPPER_LEVEL_VIEWER, "street"),
    ("viewer", Role.VIEWER, "grid"),
    ("village_worker", Role.GRID_WORKER, "village_grid"),
)


class Codes:
    """Public codes (``firstline.codes.ALPHABET``) drawn from a seeded generator, never repeated."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def __call__(self) -> str:
        while True:
            bits = self.rng.getrandbits(5 * CODE_LENGTH)
            code = "".join(ALPHABET[(bits >> (5 * i)) & 31] for i in range(CODE_LENGTH))
            if code not in self.seen:
                self.seen.add(code)
                return code


class Names:
    """Chinese names: surnames weighted by frequency, 1–2 given-name characters of the person's generation."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.surnames = [surname for surname, _ in words.SURNAMES]
        self.cum_weights = list(accumulate(weight for _, weight in words.SURNAMES))

    def surname(self, village: bool = False) -> str:
        if village and self.rng.random() < 0.55:
            return words.VILLAGE_SURNAME
        return self.rng.choices(self.surnames, cum_weights=self.cum_weights)[0]

    def given(self, sex: str, born_year: int) -> str:
        generation = 0 if born_year < 1965 else 1 if born_year < 1995 else 2
        pool = (words.GIVEN_MALE if sex == "M" else words.GIVEN_FEMALE)[generation]
        rng = self.rng
        if rng.random() < (0.35, 0.3, 0.12)[generation]:
            return rng.choice(pool)
        first = rng.choice(pool)
        if sex == "F" and generation == 2 and rng.random() < 0.05:
            return first + first  # 婷婷, 欣欣
        second = rng.choice(pool)
        while second == first:
            second = rng.choice(pool)
        return first + second

    def full(self, sex: str, born_year: int, village: bool = False) -> str:
        return self.surname(village) + self.given(sex, born_year)


def chinese_number(n: int) -> str:
    """1–99 in Chinese numerals: 第一网格, 第十二网格."""
    digits = words.NUMERALS
    if n <= 10:
        return digits[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens - 1]) + "十" + (digits[ones - 1] if ones else "")


# A member of a household before it has a name: (relation, sex, age, surname).
Member = tuple[str, str, int, str]


class _StreetMaker:
    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.codes = Codes(self.rng)
        self.names = Names(self.rng)
        self.today = today
        self.anchor_year = today.year
        self.used_ids: set[str] = set()
        self.used_phones: set[str] = set()
        self.urban_kinds = [kind for kind, (weight, _) in HOUSEHOLD_KINDS.items() if weight]
        self.urban_weights = [weight for weight, _ in HOUSEHOLD_KINDS.values() if weight]
        self.village_kinds = [kind for kind, (_, weight) in HOUSEHOLD_KINDS.items() if weight]
        self.village_weights = [weight for _, weight in HOUSEHOLD_KINDS.values() if weight]

    # --- places

    def street(self, residents: int) -> Street:
        street = Street(code=self.codes(), name=words.STREET_NAME)
        shares = [round(residents * share) for share in COMMUNITY_SHARES[:-1]]
        shares.append(residents - sum(shares))
        for index, name in enumerate(words.URBAN_COMMUNITIES):
            street.communities.append(self.urban_community(name, index, shares[index]))
        street.communities.append(self.village(shares[-1]))
        return street

    def staff_name(self, village: bool = False) -> str:
        sex = self.rng.choice("MF")
        return self.names.full(sex, self.rng.randint(1965, 1995), village)

    def split(self, total: int, parts: int) -> list[int]:
        """``total`` split into ``parts`` roughly equal shares (±5 %) that add up exactly."""
        weights = [self.rng.uniform(0.95, 1.05) for _ in range(parts)]
        shares = [int(total * weight / sum(weights)) for weight in weights]
        shares[-1] += total - sum(shares)
        return shares

    def urban_community(self, name: str, index: int, residents: int) -> Community:
        rng = self.rng
        community = Community(self.codes(), name, "urban", self.staff_name())
        community.zones = [Zone(self.codes(), f"{side}片战区", self.staff_name()) for side in ("东", "西")]
        compound_names = words.COMPOUNDS[index][: rng.randint(2, 3)]
        key = rng.randrange(len(compound_names))
        for number, compound_name in enumerate(compound_names):
            community.compounds.append(Compound(self.codes(), compound_name, number == key))
            community.gates.append(Gate(self.codes(), f"{compound_name}南门", "compound", number))
            if number == key:  # the key compound has a second, north gate
                community.gates.append(Gate(self.codes(), f"{compound_name}北门", "compound", number))
        grid_count = min(6, max(4, math.ceil(residents / URBAN_RESIDENTS_PER_GRID)))
        building_numbers = [0] * len(community.compounds)
        for number, target in enumerate(self.split(residents, grid_count)):
            grid = Grid(
                self.codes(), f"第{chinese_number(number + 1)}网格", self.staff_name(), number * 2 // grid_count
            )
            compound = number * len(community.compounds) // grid_count
            while target > 0 or not grid.buildings:
                building_numbers[compound] += 1
                building = self.tower(f"{building_numbers[compound]}栋", compound)
                target -= self.fill_tower(building, target)
                grid.buildings.append(building)
            community.grids.append(grid)
        return community

    def tower(self, name: str, compound: int) -> Building:
        rng = self.rng
        floors = rng.randint(6, 7) if rng.random() < 0.6 else rng.randint(11, 18)
        return Building(self.codes(), name, floors, rng.randint(2, 4), self.staff_name(), compound)

    def fill_tower(self, building: Building, target: int) -> int:
        """Households in the occupied rooms of ``building`` until ``target`` residents; returns how many."""
        rng = self.rng
        rooms_per_floor = rng.randint(2, 4)
        placed = 0
        for entrance in range(1, building.entrances + 1):
            for floor in range(1, building.floors + 1):
                for room in range(1, rooms_per_floor + 1):
                    if placed >= target:
                        return placed
                    if rng.random() < 0.12:  # vacant
                        continue
                    household = Household(self.codes(), f"{floor}{room:02d}", floor, entrance)
                    household.people = self.family("urban", target - placed)
                    placed += len(household.people)
                    building.households.append(household)
        return placed

    def village(self, residents: int) -> Community:
        rng = self.rng
        community = Community(self.codes(), words.VILLAGE_NAME, "village", self.staff_name(village=True))
        community.zones = [Zone(self.codes(), f"{words.VILLAGE_NAME}战区", self.staff_name(village=True))]
        community.gates = [
            Gate(self.codes(), f"{words.VILLAGE_NAME}{side}口卡口", "village", None) for side in ("东", "南")
        ]
        groups = min(len(words.HAMLETS), max(2, round(residents / VILLAGE_RESIDENTS_PER_GROUP)))
        for number, target in enumerate(self.split(residents, groups)):
            hamlet = words.HAMLETS[number]
            grid = Grid(self.codes(), f"第{chinese_number(number + 1)}村民小组", self.staff_name(village=True), 0)
            house = 0
            while target > 0 or not grid.buildings:
                house += 1
                building = Building(
                    self.codes(), f"{hamlet}{house}号", rng.randint(1, 2), 0, self.staff_name(village=True), None
                )
                # A village house is one household: no entrance, no room number.
                household = Household(self.codes(), "", None, None, self.family("village", target))
                target -= len(household.people)
                building.households.append(household)
                grid.buildings.append(building)
            community.grids.append(grid)
        return community

    # --- people

    def family(self, setting: str, room_left: int) -> list[Person]:
        """One household's members, with consistent ages and surnames, and their flags and movements."""
        rng = self.rng
        village = setting == "village"
        if rng.random() < MIGRANT_HOUSEHOLD_SHARE[setting]:
            kind = rng.choice(MIGRANT_KINDS)
        elif village:
            kind = rng.choices(self.village_kinds, weights=self.village_weights)[0]
        else:
            kind = rng.choices(self.urban_kinds, weights=self.urban_weights)[0]
        members = self.members(kind, village)[: max(1, room_left)]
        migrant = kind in MIGRANT_KINDS
        home_region = rng.choice(words.OTHER_REGIONS)
        hardship = rng.random() < HARDSHIP_HOUSEHOLD_SHARE
        people = []
        for relation, sex, age, surname in members:
            born = date(self.anchor_year - age - 1, 1, 1) + timedelta(days=rng.randrange(365))
            if migrant:
                region = home_region if kind != "shared_rent" else rng.choice(words.OTHER_REGIONS)
                person_type, domicile = "migrant", region[1]
            else:
                region = self.birth_region(age, relation, village)
                person_type = "registered"
                domicile = f"北京市海淀区{words.STREET_NAME}" + (words.VILLAGE_NAME if village else "")
            flags = self.flags(kind, relation, sex, age, hardship)
            people.append(
                Person(
                    code=self.codes(),
                    name=surname + self.names.given(sex, born.year),
                    sex=sex,
                    birth_date=born,
                    id_number=self.id_number(region[0], born, sex),
                    phone=self.phone(age),
                    relation=relation,
                    person_type=person_type,
                    domicile=domicile,
                    workplace=self.workplace(age, village, migrant),
                    flags=flags,
                )
            )
        self.event(people)
        return people

    def members(self, kind: str, village: bool) -> list[Member]:
        rng = self.rng
        surname = self.names.surname

        def couple(low: int, high: int) -> list[Member]:
            head_sex = "M" if rng.random() < 0.8 else "F"
            head_age = rng.randint(low, high)
            gap = rng.randint(-1, 5)
            spouse_age = max(20, head_age - gap if head_sex == "M" else head_age + gap)
            spouse_sex = "F" if head_sex == "M" else "M"
            return [("head", head_sex, head_age, surname(village)), ("spouse", spouse_sex, spouse_age, surname())]

        def children(parents: list[Member], count: int, relation: str = "child") -> list[Member]:
            father = next((m for m in parents if m[1] == "M"), parents[0])
            mother = next((m for m in parents if m[1] == "F"), parents[0])
            result: list[Member] = []
            for _ in range(count):
                age = mother[2] - rng.randint(22, 36)
                if age < 0:
                    continue
                family_name = father[3] if rng.random() < 0.92 else mother[3]
                result.append((relation, rng.choice("MF"), age, family_name))
            return result

        def parents_of(head: Member) -> list[Member]:
            father_age = min(95, head[2] + rng.randint(24, 34))
            mother_age = max(head[2] + 20, father_age - rng.randint(0, 5))
            both = [("parent", "M", father_age, head[3]), ("parent", "F", mother_age, surname())]
            return both if rng.random() < 0.6 else [rng.choice(both)]

        if kind == "elder_alone":
            return [("head", "F" if rng.random() < 0.65 else "M", rng.randint(66, 92), surname(village))]
        if kind == "single":
            return [("head", rng.choice("MF"), rng.randint(22, 58), surname(village))]
        if kind == "couple":
            return couple(24, 58)
        if kind == "couple_1":
            pair = couple(26, 52)
            return pair + children(pair, 1)
        if kind == "couple_2":
            pair = couple(30, 52)
            return pair + children(pair, 2)
        if kind == "three_gen":
            pair = couple(30, 50)
            return pair + children(pair, rng.randint(1, 2)) + parents_of(pair[0])
        if kind == "elder_couple":
            return couple(60, 85)
        if kind == "single_parent":
            head = ("head", "F" if rng.random() < 0.75 else "M", rng.randint(28, 50), surname(village))
            return [head, *children([head], 1)]
        if kind == "left_behind":
            # 留守儿童: grandparents and grandchildren; the parents work in the city.
            pair = couple(55, 72)
            middle: list[Member] = [("child", "M", pair[0][2] - rng.randint(24, 30), pair[0][3])]
            middle.append(("spouse", "F", middle[0][2] - rng.randint(0, 3), surname()))
            grandchildren = [m for m in children(middle, rng.randint(1, 2), "grandchild") if m[2] <= 14]
            return pair + (grandchildren or [("grandchild", rng.choice("MF"), rng.randint(3, 12), pair[0][3])])
        if kind == "shared_rent":
            sex = rng.choice("MF")
            tenants = [("tenant", sex, rng.randint(19, 45), surname()) for _ in range(rng.randint(2, 4))]
            return [("head", *tenants[0][1:]), *tenants[1:]]
        if kind == "migrant_couple":
            return couple(22, 45)
        pair = couple(25, 42)  # migrant_family
        return pair + children(pair, rng.randint(1, 2))

    def birth_region(self, age: int, relation: str, village: bool) -> tuple[str, str]:
        rng = self.rng
        if age >= 30 and rng.random() < (0.3 if village and relation == "spouse" else 0.15):
            return rng.choice(words.OTHER_REGIONS)
        if village or age < 30 or rng.random() < 0.7:
            return words.LOCAL_REGIONS[0]
        return rng.choice(words.LOCAL_REGIONS[1:])

    def id_number(self, region: str, born: date, sex: str) -> str:
        """A synthetic 18-digit number: region, birth date, serial (odd for men), GB 11643 check digit."""
        rng = self.rng
        while True:
            serial = rng.randrange(100) * 10 + rng.randrange(5) * 2 + (1 if sex == "M" else 0)
            body = f"{region}{born:%Y%m%d}{serial:03d}"
            if body not in self.used_ids:
                self.used_ids.add(body)
                return body + check_char(body)

    def phone(self, age: int) -> str:
        rng = self.rng
        if age < 14 or rng.random() < (0.3 if age >= 75 else 0.05):
            return ""
        while True:
            number = f"17{rng.randrange(2)}{rng.randrange(10**8):08d}"  # virtual-operator ranges
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def workplace(self, age: int, village: bool, migrant: bool) -> str:
        rng = self.rng
        if age < 3:
            return ""
        if age < 6:
            return rng.choice(words.KINDERGARTENS)
        if age < 18:
            if village:
                return rng.choice(words.VILLAGE_SCHOOLS)
            return rng.choice(words.PRIMARY_SCHOOLS if age < 12 else words.SECONDARY_SCHOOLS)
        if age < 22 and not migrant and rng.random() < 0.7:
            return "在校大学生"
        if age >= 60 and not migrant:
            return "务农" if village and age < 70 else "退休" if not village else ""
        if rng.random() < 0.03:
            return "待业"
        return rng.choice(words.MIGRANT_WORK if migrant else words.VILLAGE_WORK if village else words.WORKPLACES)

    def flags(self, kind: str, relation: str, sex: str, age: int, hardship: bool) -> tuple[str, ...]:
        rng = self.rng
        flags = []
        if kind == "elder_alone":
            flags.append("lives_alone_elderly")
        if kind == "left_behind" and relation == "grandchild":
            flags.append("unattended_child")
        if hardship:
            flags.append("hardship")
        if rng.random() < (0.04 if age >= 60 else 0.012):
            flags.append("disability")
        if rng.random() < (0.3 if age >= 60 else 0.08 if age >= 40 else 0.01):
            flags.append("chronic_illness")
        if sex == "F" and 22 <= age <= 40 and relation in ("head", "spouse") and rng.random() < 0.04:
            flags.append("pregnant")
        return tuple(flags)

    # --- colours of the battle map

    def event(self, people: list[Person]) -> None:
        """Maybe give the household an event: a recent arrival, an observation, a member out, a return from abroad."""
        rng = self.rng
        roll = rng.random()
        event = next((name for name, bound in EVENT_BOUNDS if roll < bound), None)
        if event is None:
            return
        adults = [person for person in people if self.anchor_year - person.birth_date.year > 18] or people
        if event == "isolation":
            # Arrived from a risk area in the last four weeks: the household isolates at home for 14 days
            # from the arrival, then a worker releases it (those who arrived earlier are green again).
            travellers = adults if rng.random() < 0.4 else [rng.choice(adults)]
            days = rng.randint(1, 28)
            self.arrive(travellers, days, abroad=False, risk=True)
            for person in people:
                person.status = "home_isolation" if days <= 14 else "healthy"
                person.since = self.today - timedelta(days=days)
        elif event == "observation":
            person = rng.choice(adults)
            person.status = "observation"
            person.since = self.today - timedelta(days=rng.randint(0, 2))
            if rng.random() < 0.5:
                self.arrive([person], rng.randint(1, 7), abroad=False)
        elif event == "out":
            person = rng.choice(adults)
            person.status = "out"
            self.depart(person, rng.randint(1, 30))
            person.since = person.movement.departed_on if person.movement else None
        else:
            traveller = rng.choice(adults)
            traveller.person_type = "overseas"
            days = rng.randint(2, 20)
            self.arrive([traveller], days, abroad=True)
            traveller.status = "home_isolation" if days <= 14 else "healthy"
            traveller.since = self.today - timedelta(days=days)

    def arrive(self, travellers: list[Person], days_ago: int, abroad: bool, risk: bool = False) -> None:
        rng = self.rng
        arrived = self.today - timedelta(days=days_ago)
        if abroad:
            origin, transport = rng.choice(words.ABROAD), "flight"
        else:
            if risk:
                origin = rng.choice(words.RISK_ORIGINS)
            else:
                safe = [region for _, region in words.OTHER_REGIONS if not words.is_risk_origin(region)]
                origin = rng.choice(safe).rsplit("市", 1)[0] + "市"
            transport = rng.choices(("train", "flight", "coach", "car"), weights=(6, 2, 1, 2))[0]
        trip = self.trip_number(transport)
        for person in travellers:
            person.movement = Movement(
                self.codes(),
                "arrival",
                origin=origin,
                departed_on=arrived if transport != "car" else arrived - timedelta(days=rng.randint(0, 1)),
                arrived_on=arrived,
                transport=transport,
                trip_number=trip,
            )

    def depart(self, person: Person, days_ago: int) -> None:
        transport = self.rng.choices(("train", "flight", "car"), weights=(6, 2, 2))[0]
        person.movement = Movement(
            self.codes(),
            "departure",
            destination=self.rng.choice(words.DESTINATIONS),
            departed_on=self.today - timedelta(days=days_ago),
            transport=transport,
            trip_number=self.trip_number(transport),
        )

    def trip_number(self, transport: str) -> str:
        rng = self.rng
        if transport == "train":
            return rng.choice("GGGDK") + str(rng.randint(1, 9999))
        if transport == "flight":
            return rng.choice(("CA", "MU", "CZ", "HU", "3U")) + str(rng.randint(1000, 9999))
        if transport == "car":
            letters = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
            return rng.choice("冀鲁豫皖鄂京") + rng.choice("ABCDEF") + "".join(rng.choice(letters) for _ in range(5))
        return ""


def make_logins(seed: int, street: Street | None = None) -> list[Login]:
    """The demo users; with ``street``, each bound to its place in the plan."""
    rng = random.Random(f"{seed}:logins")
    codes, names = Codes(rng), Names(rng)
    logins = []
    for username, role, where in LOGINS:
        first, second = rng.sample(words.PASSWORD_WORDS, 2)
        sex = rng.choice("MF")
        logins.append(
            Login(
                username=username,
                password=f"{first}-{second}-{rng.randint(10, 99)}",
                full_name=names.full(sex, rng.randint(1968, 1998)),
                role=str(role),
                user_code=codes(),
                membership_code=codes(),
                place=_where(street, where) if street else (),
            )
        )
    return logins


def _where(street: Street, where: str) -> PlaceRef:
    grid = street.communities[0].grids[0]
    return {
        "street": ("street",),
        "community": ("community", 0),
        "grid": ("grid", 0, 0),
        "grid2": ("grid", 0, 1),
        "building": ("building", 0, 0, 0),
        "building2": ("building", 0, 0, 1 if len(grid.buildings) > 1 else 0),
        "gate": ("gate", 0, 0),
        "village_grid": ("grid", len(street.communities) - 1, 0),
    }[where]


def make_plan(seed: int = 2020, residents: int = 20000, today: date | None = None) -> Plan:
    """The whole demo street for ``seed``: the same arguments always give an equal plan."""
    if residents < MIN_RESIDENTS:
        raise ValueError(f"the demo needs at least {MIN_RESIDENTS} residents")
    street = _StreetMaker(seed, today or date.today()).street(residents)
    return Plan(seed=seed, street=street, logins=make_logins(seed, street), guards=guard_logins(seed, street))


GUARDS_PER_GATE = 3  # three guards taking turns around the clock, 8 hours each
GUARD_USERNAME = re.compile(r"^guard(\d+)([a-z])$")


def guard_password(seed: int) -> str:
    """The one password of the demo's gate guards (hashed once: a hash costs a tenth of a second)."""
    rng = random.Random(f"{seed}:guards:password")
    first, second = rng.sample(words.PASSWORD_WORDS, 2)
    return f"{first}-{second}-{rng.randint(10, 99)}"


def guard_logins(seed: int, street: Street) -> list[Login]:
    """Three guards per gate (``guard1b`` …), numbered by gate along the street; the first gate's first
    guard is the ``gate_guard`` login. Their own random stream: the other logins do not change."""
    rng = random.Random(f"{seed}:guards")
    codes, names = Codes(rng), Names(rng)
    password = guard_password(seed)
    logins = []
    number = 0
    for ci, community in enumerate(street.communities):
        for gi in range(len(community.gates)):
            number += 1
            for k in range(GUARDS_PER_GATE):
                if number == 1 and k == 0:
                    continue  # the gate_guard login
                sex = rng.choice("MF")
                logins.append(
                    Login(
                        username=f"guard{number}{'abc'[k]}",
                        password=password,
                        full_name=names.full(sex, rng.randint(1960, 1995), community.kind == "village"),
                        role=str(Role.GATE_GUARD),
                        user_code=codes(),
                        membership_code=codes(),
                        place=("gate", ci, gi),
                    )
                )
    return logins
