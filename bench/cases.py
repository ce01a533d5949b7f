"""Benchmark cases: what is timed, the bare reference it is compared with, and its target.

A case is a function registered with ``@case(name, target_p95_ms=..., max_ratio=...)``. It gets the
``Context`` of the run (the demo street built in a throwaway database) and returns a
``Trial``: ``subject`` does one request the way a user would, ``reference`` does the
least work that could answer it (a bare indexed SELECT through the sqlite3 module),
and ``check`` runs once before timing so that a fast wrong answer cannot pass.
Add a case by writing one more registered function here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from typing import Any

REGISTRY: list[Case] = []


@dataclass
class Trial:
    subject: Callable[[], Any]
    reference: Callable[[], Any] | None = None
    check: Callable[[], None] = lambda: None
    queries: int | None = None  # SQL queries of one subject call


@dataclass
class Case:
    name: str
    prepare: Callable[[Context], Trial]
    target_p95_ms: float = 100.0
    max_ratio: float | None = None  # p95 of the subject over p95 of the reference, when the case sets one


@dataclass
class Context:
    db_path: str
    page_size: int
    users: dict[str, Any]  # demo username → User
    memberships: dict[str, Any]  # demo username → Membership
    _sqlite: sqlite3.Connection | None = field(default=None, repr=False)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """A plain sqlite3 connection to the same database file, for references."""
        if self._sqlite is None:
            self._sqlite = sqlite3.connect(self.db_path)
        return self._sqlite


def case(
    name: str, target_p95_ms: float = 100.0, max_ratio: float | None = None
) -> Callable[[Callable[[Context], Trial]], Callable[[Context], Trial]]:
    def register(prepare: Callable[[Context], Trial]) -> Callable[[Context], Trial]:
        REGISTRY.append(Case(name, prepare, target_p95_ms, max_ratio))
        return prepare

    return register


# --- the resident list (people:residents), page 1


def resident_list(
    ctx: Context, username: str, params: dict[str, str], where: str, args: list[Any], htmx: bool = False
) -> Trial:
    """The resident list as ``username`` with ``params``; reference: the same page of rows in SQL.

    ``htmx``: the request the filter form sends (a POST answered with the results fragment).
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from firstline.people.models import Resident

    membership = ctx.memberships[username]
    client = Client()
    client.force_login(ctx.users[username])
    url = reverse("people:residents", kwargs={"community": membership.community.code})

    def subject() -> Any:
        if htmx:
            return client.post(url, params, headers={"HX-Request": "true"})
        return client.get(url, params)

    columns = ", ".join(f'"{f.column}"' for f in Resident._meta.concrete_fields)
    sql = (
        f"SELECT {columns} FROM people_resident WHERE {where} AND left_at IS NULL "
        f"ORDER BY id LIMIT {int(ctx.page_size)}"
    )  # fmt: skip

    def reference() -> Any:
        return ctx.sqlite.execute(sql, args).fetchall()

    def check() -> None:
        response = subject()
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        rows = reference()
        assert rows, f"the reference page is empty: {sql}"
        code_at = [f.column for f in Resident._meta.concrete_fields].index("code")
        body = response.content.decode()
        missing = [row[code_at] for row in rows if f"/r/{row[code_at]}/" not in body]
        assert not missing, f"{len(missing)} of the {len(rows)} reference rows are not on the page"

    with CaptureQueriesContext(connection) as queries:
        subject()
    return Trial(subject, reference, check, len(queries))


def resident_api_page(ctx: Context, username: str, where: str, args: list[Any]) -> Trial:
    """``GET /api/v1/residents`` with a device token: one page, counted against the day's take-out and
    audited as one ``list`` event; reference: the same page of rows in SQL."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from firstline.accounts.actions import do_issue_token
    from firstline.people.models import Resident

    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {do_issue_token(ctx.users[username])}"}

    def subject() -> Any:
        return client.get("/api/v1/residents", **headers)

    columns = ", ".join(f'"{f.column}"' for f in Resident._meta.concrete_fields)
    sql = (
        f"SELECT {columns} FROM people_resident WHERE {where} AND left_at IS NULL "
        f"ORDER BY id LIMIT {int(ctx.page_size)}"
    )  # fmt: skip

    def reference() -> Any:
        return ctx.sqlite.execute(sql, args).fetchall()

    def check() -> None:
        response = subject()
        assert response.status_code == 200, f"the API answered {response.status_code}"
        code_at = [f.column for f in Resident._meta.concrete_fields].index("code")
        listed = [item["code"] for item in response.json()["items"]]
        assert listed == [row[code_at] for row in reference()], "the API page is not the reference page"

    subject()  # the token's first use records last_used_at
    with CaptureQueriesContext(connection) as queries:
        subject()
    return Trial(subject, reference, check, len(queries))


def _grid(ctx: Context, username: str) -> int:
    return ctx.memberships[username].grid_id


@case("residents · grid worker · all, page 1")
def grid_worker_all(ctx: Context) -> Trial:
    return resident_list(ctx, "grid_worker", {}, "grid_id = ?", [_grid(ctx, "grid_worker")])


@case("residents · grid worker · status=healthy, page 1")
def grid_worker_healthy(ctx: Context) -> Trial:
    return resident_list(
        ctx, "grid_worker", {"status": "healthy"}, "grid_id = ? AND status = ?", [_grid(ctx, "grid_worker"), "healthy"]
    )


@case("residents · grid worker · status=healthy, htmx filter fragment")
def grid_worker_healthy_fragment(ctx: Context) -> Trial:
    grid = _grid(ctx, "grid_worker")
    return resident_list(
        ctx, "grid_worker", {"status": "healthy"}, "grid_id = ? AND status = ?", [grid, "healthy"], htmx=True
    )


@case("residents · grid worker · flag=chronic_illness, page 1")
def grid_worker_flag(ctx: Context) -> Trial:
    return resident_list(
        ctx, "grid_worker", {"flag": "chronic_illness"}, "grid_id = ? AND chronic_illness", [_grid(ctx, "grid_worker")]
    )


@case("residents · grid worker · person_type=migrant, page 1")
def grid_worker_migrants(ctx: Context) -> Trial:
    return resident_list(
        ctx,
        "grid_worker",
        {"person_type": "migrant"},
        "grid_id = ? AND person_type = ?",
        [_grid(ctx, "grid_worker"), "migrant"],
    )


@case("residents API · grid worker · page 1, with a device token")
def grid_worker_api(ctx: Context) -> Trial:
    return resident_api_page(ctx, "grid_worker", "grid_id = ?", [_grid(ctx, "grid_worker")])


@case("residents · community admin · all, page 1")
def community_admin_all(ctx: Context) -> Trial:
    community_id = ctx.memberships["community_admin"].community_id
    return resident_list(ctx, "community_admin", {}, "community_id = ?", [community_id])


# --- the dashboard (dashboard:street, dashboard:community)

_activity: dict[str, int] = {}


def status_activity() -> dict[str, int]:
    """Thirty days of status rows (``bench/activity.py``), added once to a street (a kept one has them)."""
    from firstline.status.models import DailyCount

    if not _activity and not DailyCount.objects.exists():
        from activity import add_status_activity
        from django.db import connection

        _activity.update(add_status_activity())
        with connection.cursor() as cursor:  # fold the new rows into the database file, as a quiet server would
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return _activity


def dashboard(ctx: Context, username: str, place: str) -> Trial:
    """The dashboard of ``place`` ("street" or "community") as ``username``; reference: the same counts in SQL.

    The reference runs the page's three counting queries, written by hand in the
    form that reads least (the same indexes), with the user's scope written in: the
    colours of each grid; today's isolations, releases, fevers, referrals out and
    back and missed check-ins; the 29 kept days of the trend.
    """
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from firstline.places.models import Community
    from firstline.status import dashboard as queries
    from firstline.status.daily import day_range

    status_activity()
    membership = ctx.memberships[username]
    user = ctx.users[username]
    client = Client()
    client.force_login(user)
    if place == "street":
        url = reverse("dashboard:street", kwargs={"street": membership.street.code})
        communities = list(Community.objects.filter(street_id=membership.street_id).values_list("id", flat=True))
    else:
        url = reverse("dashboard:community", kwargs={"community": membership.community.code})
        communities = [membership.community_id]
    grid = membership.grid_id

    def subject() -> Any:
        return client.get(url)

    today = timezone.localdate()
    start, end = (moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") for moment in day_range(today))
    yesterday = (day_range(today)[0] - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    first_day = (today - timedelta(days=queries.TREND_DAYS - 1)).isoformat()
    places = f"street_id = ? AND community_id IN ({', '.join('?' * len(communities))})"
    scope = f"{places} AND grid_id = ?" if grid else places  # a grid worker's rows
    grids = f"{places} AND id = ?" if grid else places  # and her grid
    scope_args: list[Any] = [membership.street_id, *communities, *([grid] if grid else [])]
    today_args = [start, end]
    colour = (
        "(SELECT COUNT(*) FROM people_resident r WHERE r.street_id = g.street_id AND r.community_id = g.community_id "
        "AND r.grid_id = g.id AND r.status = '{}' AND r.left_at IS NULL)"
    )
    statuses = ("home_isolation", "observation", "out", "healthy")
    sqls = [
        (
            f"SELECT g.id, {', '.join(colour.format(value) for value in statuses)} FROM places_grid g WHERE {grids}",
            scope_args,
        ),
        (
            "SELECT "
            f"(SELECT COUNT(*) FROM status_isolationorder WHERE {scope} AND starts_at >= ? AND starts_at < ?), "
            f"(SELECT COUNT(*) FROM status_isolationorder WHERE {scope} AND released_at >= ? AND released_at < ?), "
            f"(SELECT COUNT(DISTINCT resident_id) FROM status_checkin WHERE {scope} "
            "AND is_fever AND taken_at >= ? AND taken_at < ?), "
            f"(SELECT COUNT(*) FROM status_referral WHERE {scope} AND in_transit_at >= ? AND in_transit_at < ?), "
            f"(SELECT COUNT(*) FROM status_referral WHERE {scope} AND closed_at >= ? AND closed_at < ?), "
            f"(SELECT COUNT(*) FROM tasks_task WHERE {scope} AND state IN ('open', 'done', 'cancelled') "
            "AND due_at >= ? AND kind = 'missed_checkin' AND created_at >= ? AND created_at < ?)",
            [*[*scope_args, *today_args] * 5, *scope_args, yesterday, *today_args],
        ),
        (
            "SELECT day, SUM(home_isolation), SUM(observation), SUM(out), SUM(healthy) "
            f"FROM status_dailycount WHERE {scope} AND day >= ? AND day < ? GROUP BY day",
            [*scope_args, first_day, today.isoformat()],
        ),
    ]

    def reference() -> Any:
        return [ctx.sqlite.execute(sql, args).fetchall() for sql, args in sqls]

    def check() -> None:
        response = subject()
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        colours, changes, kept = reference()
        board = (
            queries.street_dashboard(user, membership.street)
            if place == "street"
            else queries.community_dashboard(user, membership.community)
        )
        assert board.totals.total == sum(sum(row[1:]) for row in colours) > 0, "the residents counted differ"
        shown = board.changes
        assert changes[0] == (
            shown.new_isolations,
            shown.releases,
            shown.fevers,
            shown.referrals_out,
            shown.referrals_back,
            shown.missed_checkins,
        ), "today's changes differ"
        assert sum(changes[0]) > 0, "nothing changed today: the check would prove nothing"
        assert len(kept) == queries.TREND_DAYS - 1, "the trend is not 29 kept days"
        assert [entry.colours.values for entry in board.trend[:-1]] == [list(row[1:]) for row in kept]
        assert f"<b>{board.totals.total}</b>" in response.content.decode()

    with CaptureQueriesContext(connection) as captured:
        subject()
    return Trial(subject, reference, check, len(captured))


@case("dashboard · street officer · street", target_p95_ms=100, max_ratio=2)
def street_officer_dashboard(ctx: Context) -> Trial:
    return dashboard(ctx, "street_officer", "street")


@case("dashboard · community admin · community", target_p95_ms=100)
def community_admin_dashboard(ctx: Context) -> Trial:
    return dashboard(ctx, "community_admin", "community")


@case("dashboard · grid worker · her grid", target_p95_ms=100)
def grid_worker_dashboard(ctx: Context) -> Trial:
    return dashboard(ctx, "grid_worker", "community")


# --- the battle map (status:map) and the street's map (status:street_map)

MAP_COUNTS = (
    "SELECT household_id, "
    "COUNT(*) FILTER (WHERE status = 'home_isolation'), COUNT(*) FILTER (WHERE status = 'observation'), "
    "COUNT(*) FILTER (WHERE status = 'out'), COUNT(*) FILTER (WHERE status = 'healthy'){flagged} "
    "FROM people_resident WHERE {where} AND left_at IS NULL GROUP BY household_id"
)
WORST_FIRST_COLOURS = ("red", "yellow", "blue", "green")


def battle_map(ctx: Context, username: str, column: str, value: int, flag: str = "") -> Trial:
    """The battle map as ``username`` (every household of the scope drawn as a cell);
    reference: the bare aggregate of the same counts, per household, present members per colour.

    The check compares every cell's colour with the worst colour of the reference's
    counts, and the number of cells with the households of the scope (empty ones too).
    """
    import re

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from firstline.places.models import Household

    membership = ctx.memberships[username]
    client = Client()
    client.force_login(ctx.users[username])
    url = reverse("status:map", kwargs={"community": membership.community.code})
    params = {"flag": flag} if flag else {}
    statuses = ("home_isolation", "observation", "out", "healthy")
    flagged = "".join(f", COUNT(*) FILTER (WHERE status = '{s}' AND {flag})" for s in statuses) if flag else ""
    sql = MAP_COUNTS.format(where=f"{column} = ?", flagged=flagged)

    def subject() -> Any:
        return client.get(url, params)

    def reference() -> Any:
        return ctx.sqlite.execute(sql, [value]).fetchall()

    def check() -> None:
        response = subject()
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        cells = {
            code: colour for colour, code in re.findall(r'<a class="(\w+)" href="/h/(\w+)/"', response.content.decode())
        }
        rows = reference()
        assert rows, f"the reference is empty: {sql}"
        codes = dict(Household.objects.filter(id__in=[row[0] for row in rows]).values_list("id", "code"))
        expected = {}
        for household_id, *counts in rows:
            if flag and not any(counts[4:]):
                continue
            expected[codes[household_id]] = next(c for c, n in zip(WORST_FIRST_COLOURS, counts, strict=False) if n)
        wrong = [code for code, colour in expected.items() if cells.get(code) != colour]
        assert not wrong, f"{len(wrong)} of {len(expected)} households have the wrong colour or no cell"
        if not flag:
            scope = Household.objects.filter(**{column: value}).count()
            assert len(cells) == scope, f"{len(cells)} cells for {scope} households"

    with CaptureQueriesContext(connection) as queries:
        subject()
    return Trial(subject, reference, check, len(queries))


@case("battle map · community admin · whole community", target_p95_ms=150)
def map_community_admin(ctx: Context) -> Trial:
    return battle_map(ctx, "community_admin", "community_id", ctx.memberships["community_admin"].community_id)


@case("battle map · community admin · flag=lives_alone_elderly", target_p95_ms=150)
def map_community_admin_flag(ctx: Context) -> Trial:
    community_id = ctx.memberships["community_admin"].community_id
    return battle_map(ctx, "community_admin", "community_id", community_id, flag="lives_alone_elderly")


@case("battle map · community admin · whole community, drawn after a change", target_p95_ms=150)
def map_community_admin_changed(ctx: Context) -> Trial:
    """The same map when something on it has just changed (the map version bumped before each look):
    the full drawing, not the kept one."""
    from firstline.places.models import bump_map_version

    community_id = ctx.memberships["community_admin"].community_id
    trial = battle_map(ctx, "community_admin", "community_id", community_id)
    look = trial.subject

    def subject() -> Any:
        bump_map_version(community_id)
        return look()

    return Trial(subject, trial.reference, trial.check, trial.queries)


@case("battle map · grid worker · own grid", target_p95_ms=150)
def map_grid_worker(ctx: Context) -> Trial:
    return battle_map(ctx, "grid_worker", "grid_id", _grid(ctx, "grid_worker"))


@case("street map · street officer · every community", target_p95_ms=100)
def street_map(ctx: Context) -> Trial:
    """The street's communities by colour; reference: the bare count per community and colour."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    membership = ctx.memberships["street_officer"]
    client = Client()
    client.force_login(ctx.users["street_officer"])
    url = reverse("status:street_map", kwargs={"street": membership.street.code})
    sql = (
        "SELECT community_id, status, COUNT(*) FROM people_resident "
        "WHERE street_id = ? AND left_at IS NULL GROUP BY community_id, status"
    )

    def subject() -> Any:
        return client.get(url)

    def reference() -> Any:
        return ctx.sqlite.execute(sql, [membership.street_id]).fetchall()

    def check() -> None:
        response = subject()
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        body = response.content.decode()
        missing = [row for row in reference() if f"<b>{row[2]}</b>" not in body]
        assert not missing, f"counts missing from the page: {missing}"

    with CaptureQueriesContext(connection) as queries:
        subject()
    return Trial(subject, reference, check, len(queries))
