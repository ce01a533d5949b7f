"""The dashboard: counts by colour per grid and community, today's changes, the trend, and who sees what.

Personas (``conftest.py``): the community administrator, the grid worker and the
read-only viewer of grid A1, the worker of grid A2; a street officer, an
upper-level viewer (counts only) and a gate guard are added here. Assertions read
numbers from the context and from the markup, never English wording.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from firstline.conftest import make_user
from firstline.people.models import Resident, Status
from firstline.places.models import Building, Community, Entrance, Grid, Household, Street
from firstline.status.daily import day_start
from firstline.status.models import CheckIn, DailyCount, IsolationOrder, Reason, Referral
from firstline.tasks.models import Task

TODAY = date(2026, 3, 10)
MORNING = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
RED, YELLOW, BLUE, GREEN = Status.HOME_ISOLATION, Status.OBSERVATION, Status.OUT, Status.HEALTHY


@pytest.fixture(autouse=True)
def morning():
    """Every test here runs at 10:00 on 10 March in Shanghai, fixtures included."""
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


def add_residents(household: Household, count: int, status: str = GREEN, **fields) -> list[Resident]:
    """Residents straight into the ledger: volume for the counts."""
    return Resident.objects.bulk_create(
        Resident(
            household=household,
            street_id=household.street_id,
            community_id=household.community_id,
            grid_id=household.grid_id,
            building_id=household.building_id,
            name=f"居民{status[:2]}{n:02d}",
            status=status,
            **fields,
        )
        for n in range(count)
    )


def new_household(grid: Grid, name: str) -> Household:
    building = Building.objects.create(grid=grid, name=name, floors=2)
    return Household.objects.create(building=building, entrance=Entrance.objects.create(building=building, number=1))


def community_url(community: Community) -> str:
    return reverse("dashboard:community", kwargs={"community": community.code})


def street_url(street: Street) -> str:
    return reverse("dashboard:street", kwargs={"street": street.code})


def row_counts(response) -> dict[str, dict[str, int]]:
    return {str(row.place.name): dict(row.colours.counts) for row in response.context["board"].rows}


@pytest.fixture
def colours(world):
    """A1: 3 red, 2 yellow, 1 blue, 5 green; A2: 1 red, 7 green; the village's group: 2 red, 1 green.

    One red resident of A1 has moved out and is not counted.
    """
    add_residents(world.household_a1, 3, RED)
    add_residents(world.household_a1, 2, YELLOW)
    add_residents(world.household_a1, 1, BLUE)
    add_residents(world.household_a1, 4, GREEN)
    add_residents(world.household_a1, 1, RED, left_at=datetime(2026, 1, 1, tzinfo=UTC))
    add_residents(world.household_a2, 1, RED)
    add_residents(world.household_a2, 6, GREEN)
    group = Grid.objects.create(community=world.village, name="一组")
    village_home = new_household(group, "张庄1号")
    add_residents(village_home, 2, RED)
    add_residents(village_home, 1, GREEN)
    world.village_group = group  # type: ignore[attr-defined]
    return world


A1 = {RED: 3, YELLOW: 2, BLUE: 1, GREEN: 5}
A2 = {RED: 1, GREEN: 7}


# --- counts


def test_it_counts_a_communitys_residents_by_colour_per_grid(colours, login):
    response = login(colours.admin).get(community_url(colours.community))

    assert response.status_code == 200
    assert row_counts(response) == {"第一网格": A1, "第二网格": A2}
    board = response.context["board"]
    assert board.totals.counts == {RED: 4, YELLOW: 2, BLUE: 1, GREEN: 12}
    assert board.totals.total == 19
    page = response.content.decode()
    status_links = {
        f"{reverse('people:residents', kwargs={'community': colours.community.code})}?status={value}"
        for value in Status.values
    }
    assert all(link in page for link in status_links)
    grid_red = f"?grid={colours.grid_a1.code}&amp;status=home_isolation"
    assert grid_red in page


def test_a_village_counts_its_villager_groups(colours, street_officer, login):
    response = login(street_officer).get(community_url(colours.village))

    assert row_counts(response) == {"一组": {RED: 2, GREEN: 1}}
    assert "村民小组" in response.content.decode()


def test_a_street_counts_each_community(colours, street_officer, login):
    response = login(street_officer).get(street_url(colours.street))

    assert response.status_code == 200
    assert row_counts(response) == {
        "幸福社区": {RED: 4, YELLOW: 2, BLUE: 1, GREEN: 12},
        "东庄村": {RED: 2, GREEN: 1},
    }
    assert response.context["board"].totals.counts == {RED: 6, YELLOW: 2, BLUE: 1, GREEN: 13}
    page = response.content.decode()
    assert community_url(colours.community) in page and community_url(colours.village) in page


# --- scope


@pytest.fixture
def street_officer(world):
    return make_user("street_a", "street_officer", world.street, "街道干部")


@pytest.fixture
def upper_viewer(world):
    return make_user("upper_a", "upper_level_viewer", world.street, "区指挥部")


@pytest.fixture
def elsewhere(db):
    """Another street with its own community, grid and residents."""
    street = Street.objects.create(name="别的街道")
    community = Community.objects.create(street=street, name="别的社区")
    grid = Grid.objects.create(community=community, name="别的网格")
    add_residents(new_household(grid, "9栋"), 5, RED)
    return community


@pytest.mark.parametrize(("persona", "expected"), [("grid_worker", A1), ("viewer", A1), ("other_worker", A2)])
def test_a_grid_persona_counts_only_her_grid(colours, login, persona, expected):
    grid = "第一网格" if expected is A1 else "第二网格"

    response = login(getattr(colours, persona)).get(community_url(colours.community))

    assert response.status_code == 200
    assert row_counts(response) == {grid: expected}
    assert response.context["board"].totals.counts == expected
    other = colours.grid_a2 if expected is A1 else colours.grid_a1
    assert other.code not in response.content.decode()


def test_a_grid_worker_sees_her_grid_alone_on_the_street_dashboard(colours, login):
    response = login(colours.grid_worker).get(street_url(colours.street))

    assert response.status_code == 200
    assert row_counts(response) == {"幸福社区": A1}
    assert response.context["board"].rows[0].partial
    assert community_url(colours.village) not in response.content.decode()


def test_a_grid_worker_gets_404_outside_her_memberships(colours, elsewhere, login):
    client = login(colours.grid_worker)

    assert client.get(community_url(elsewhere)).status_code == 404
    assert client.get(street_url(elsewhere.street)).status_code == 404
    assert client.get(community_url(colours.village)).status_code == 404
    assert client.get(reverse("dashboard:community", kwargs={"community": "NOSUCHCODE"})).status_code == 404


def test_an_upper_level_viewer_sees_counts_and_no_way_into_the_ledger(colours, upper_viewer, login):
    client = login(upper_viewer)

    street = client.get(street_url(colours.street))
    community = client.get(community_url(colours.community))

    assert street.status_code == community.status_code == 200
    assert street.context["board"].totals.total == 22
    assert row_counts(community) == {"第一网格": A1, "第二网格": A2}
    assert "?status=" not in community.content.decode()  # no link to a list of residents


def test_an_upper_level_viewer_of_one_community_counts_that_community(colours, login):
    viewer = make_user("upper_c", "upper_level_viewer", colours.community, "区指挥部")
    client = login(viewer)

    response = client.get(street_url(colours.street))

    assert row_counts(response) == {"幸福社区": {RED: 4, YELLOW: 2, BLUE: 1, GREEN: 12}}
    assert client.get(community_url(colours.village)).status_code == 404


@pytest.mark.parametrize(("role", "place"), [("gate_guard", "gate"), ("building_leader", "building_a1")])
def test_a_role_that_counts_no_whole_grid_is_refused(colours, login, role, place):
    """A gate guard counts nothing; a building leader's view is narrower than a grid's row."""
    user = make_user("narrow", role, getattr(colours, place))
    client = login(user)

    assert client.get(community_url(colours.community)).status_code == 403
    assert client.get(street_url(colours.street)).status_code == 403


def test_anonymous_users_are_sent_to_log_in(colours, client):
    response = client.get(community_url(colours.community))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- today's changes


def placed(model, resident: Resident, **fields):
    row = model(resident=resident, **fields)
    row.place_like(resident)
    row.save()
    return row


def isolation(resident: Resident, starts_at: datetime, released_at: datetime | None = None) -> IsolationOrder:
    return placed(
        IsolationOrder,
        resident,
        reason=Reason.ISOLATION_ORDERED,
        starts_at=starts_at,
        planned_end=(starts_at + timedelta(days=14)).date(),
        released_at=released_at,
    )


def checkin(resident: Resident, taken_at: datetime, fever: bool) -> CheckIn:
    return placed(
        CheckIn,
        resident,
        client_id=uuid.uuid4(),
        payload_hash="0" * 64,
        temperature="38.1" if fever else "36.5",
        is_fever=fever,
        source=CheckIn.Source.SELF,
        taken_at=taken_at,
    )


def referral(resident: Resident, left: datetime | None = None, closed: datetime | None = None) -> Referral:
    return placed(
        Referral,
        resident,
        destination=Referral.Destination.FEVER_CLINIC,
        reason=Reason.FEVER,
        requested_at=(left or closed or MORNING) - timedelta(hours=1),
        in_transit_at=left,
        closed_at=closed,
        updated_at=closed or left or MORNING,
    )


def task(resident: Resident, kind: str, created_at: datetime) -> Task:
    return Task.objects.create(
        kind=kind,
        resident=resident,
        street_id=resident.street_id,
        community_id=resident.community_id,
        grid_id=resident.grid_id,
        building_id=resident.building_id,
        level=Task.Level.GRID,
        due_at=created_at + timedelta(hours=24),
        created_at=created_at,
    )


@pytest.fixture
def changes(colours):
    """Today (10 March, Shanghai) and the days around it, in grids A1 and A2.

    Counted today in A1: 2 new isolations, 1 release, 2 residents with a fever,
    1 referral out, 1 back, 2 missed check-ins; in A2: 1 of each.
    """
    start = day_start(TODAY)
    just_before = start - timedelta(seconds=1)  # 23:59:59 yesterday
    a1 = list(Resident.objects.filter(grid=colours.grid_a1, left_at__isnull=True).order_by("id"))
    a2 = list(Resident.objects.filter(grid=colours.grid_a2).order_by("id"))
    for grid, people in (("a1", a1), ("a2", a2)):
        first, second, third = people[:3]
        isolation(first, start)  # the first instant of today
        isolation(third, start - timedelta(days=5), released_at=start + timedelta(hours=9))
        isolation(second, just_before)
        isolation(second, start - timedelta(days=20), released_at=just_before)
        checkin(first, start + timedelta(hours=7), fever=True)
        checkin(first, start + timedelta(hours=19), fever=True)  # the same resident again
        checkin(second, just_before, fever=True)
        checkin(third, start + timedelta(hours=8), fever=False)
        referral(first, left=start + timedelta(hours=8))
        referral(second, left=just_before)
        referral(third, left=start - timedelta(days=2), closed=start + timedelta(hours=9))
        task(first, Task.Kind.MISSED_CHECKIN, start + timedelta(hours=12))
        task(second, Task.Kind.MISSED_CHECKIN, just_before)
        task(third, Task.Kind.FEVER, start + timedelta(hours=1))
        if grid == "a1":
            isolation(people[3], start + timedelta(hours=23, minutes=59))
            checkin(people[3], start + timedelta(hours=23, minutes=59, seconds=59), fever=True)
            task(people[3], Task.Kind.MISSED_CHECKIN, start + timedelta(hours=2))
    return colours


def changes_of(response) -> dict[str, int]:
    return vars(response.context["board"].changes)


def test_it_counts_only_todays_changes(changes, login):
    response = login(changes.admin).get(community_url(changes.community))

    assert changes_of(response) == {
        "new_isolations": 3,
        "releases": 2,
        "fevers": 3,
        "referrals_out": 2,
        "referrals_back": 2,
        "missed_checkins": 3,
    }


def test_a_grid_worker_counts_only_her_grids_changes(changes, login):
    mine = changes_of(login(changes.grid_worker).get(community_url(changes.community)))
    other = changes_of(login(changes.other_worker).get(community_url(changes.community)))

    assert mine == {
        "new_isolations": 2,
        "releases": 1,
        "fevers": 2,
        "referrals_out": 1,
        "referrals_back": 1,
        "missed_checkins": 2,
    }
    assert set(other.values()) == {1}


def test_tomorrow_the_changes_start_again_from_zero(changes, street_officer, login, morning):
    morning.shift(timedelta(days=1))

    response = login(street_officer).get(street_url(changes.street))

    assert set(changes_of(response).values()) == {0}


# --- the trend


def keep_days(world, days: int, today: date = TODAY, skip: tuple[int, ...] = ()) -> None:
    """DailyCount rows for the ``days`` days before ``today``: grid A1 has n red residents n days ago."""
    for n in range(1, days + 1):
        if n in skip:
            continue
        for grid in (world.grid_a1, world.grid_a2):
            DailyCount.objects.create(
                day=today - timedelta(days=n),
                street=world.street,
                community=world.community,
                grid=grid,
                home_isolation=n if grid == world.grid_a1 else 0,
                observation=1,
                out=0,
                healthy=10,
            )


def polylines(page: str) -> dict[str, list[list[str]]]:
    """colour → the point lists of its lines in the trend chart."""
    chart = re.search(r'<svg class="trend-chart".*?</svg>', page, re.S)
    assert chart, "no trend chart"
    lines: dict[str, list[list[str]]] = {}
    for colour, body in re.findall(r'<g class="panel (\w+)">(.*?)</g>', chart.group(0), re.S):
        lines[colour] = [points.split() for points in re.findall(r'<polyline points="([^"]*)"', body)]
    return lines


def test_the_trend_draws_thirty_days_per_colour(colours, login):
    keep_days(colours, 29)
    keep_days(colours, 5, today=TODAY - timedelta(days=40))  # older rows stay out

    response = login(colours.admin).get(community_url(colours.community))

    page = response.content.decode()
    lines = polylines(page)
    assert set(lines) == {"red", "yellow", "blue", "green"}
    assert all(len(parts) == 1 and len(parts[0]) == 30 for parts in lines.values())
    trend = response.context["board"].trend
    assert [entry.day for entry in trend] == [TODAY - timedelta(days=29 - n) for n in range(30)]
    assert trend[0].colours.counts == {RED: 29, YELLOW: 2, BLUE: 0, GREEN: 20}
    assert trend[-1].colours.counts == {RED: 4, YELLOW: 2, BLUE: 1, GREEN: 12}  # today: live
    assert re.search(r'<svg class="trend-chart"[^>]*role="img"[^>]*aria-labelledby="trend-title trend-desc"', page)
    assert '<title id="trend-title">' in page and '<desc id="trend-desc">' in page
    for name in ("居家隔离", "医学观察", "外出", "健康", "今天"):
        assert name in page


def test_a_day_without_counts_breaks_the_line_and_shows_a_dash(colours, login):
    keep_days(colours, 29, skip=(1, 10))

    response = login(colours.admin).get(community_url(colours.community))

    red = polylines(response.content.decode())["red"]
    assert [len(points) for points in red] == [19, 8, 1]
    recent = response.context["recent"]
    assert recent[0].day == TODAY and recent[1].counts == [None] * 4


def test_a_grid_worker_sees_the_trend_of_her_grid(colours, login):
    keep_days(colours, 29)

    trend = login(colours.other_worker).get(community_url(colours.community)).context["board"].trend

    assert trend[0].colours.counts == {RED: 0, YELLOW: 1, BLUE: 0, GREEN: 10}
    assert trend[-1].colours.counts == A2


# --- queries


def grow(world, communities: int, grids: int) -> None:
    for c in range(communities):
        community = Community.objects.create(street=world.street, name=f"新社区{c}")
        for g in range(grids):
            grid = Grid.objects.create(community=community, name=f"网格{g}")
            add_residents(new_household(grid, f"{g}栋"), 3, RED)
            DailyCount.objects.create(
                day=TODAY - timedelta(days=1), street=world.street, community=community, grid=grid
            )


@pytest.mark.parametrize("page", ["street", "community"])
def test_its_query_count_does_not_grow_with_the_street(changes, street_officer, login, page):
    client = login(street_officer)
    url = street_url(changes.street) if page == "street" else community_url(changes.community)

    def queries() -> int:
        caches["maps"].clear()  # counted afresh each time (a kept count reads no resident)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    small = queries()
    grow(changes, communities=3, grids=4)
    assert queries() == small


def test_the_colour_counts_are_kept_until_a_resident_of_the_reach_changes(world, login):
    """Kept per community map version: a colour change (the engine's settle) is counted at once."""
    from firstline.status.actions import do_record_gate_reading

    client = login(world.admin)
    url = community_url(world.community)

    def reds_and_yellows() -> tuple[int, int]:
        totals = client.get(url).context["board"].totals
        return totals.of("home_isolation"), totals.of("observation")

    assert reds_and_yellows() == (0, 0)
    with CaptureQueriesContext(connection) as captured:
        reds_and_yellows()
    assert not [q for q in captured if "people_resident" in q["sql"]]  # kept: no resident read
    do_record_gate_reading(world.admin, world.resident_a1, "38.0")
    assert reds_and_yellows() == (0, 1)


def test_the_street_dashboard_takes_eleven_queries(changes, street_officer, login, django_assert_num_queries):
    """Session, user, memberships, street, communities, grids and colours, today's changes, trend, session save (3)."""
    client = login(street_officer)

    with django_assert_num_queries(11):
        assert client.get(street_url(changes.street)).status_code == 200
