"""The dashboard's reads: residents by colour per grid or community, today's changes, the 30-day trend.

Counts only (``view_aggregates``), never a personal record. The dashboard counts
whole grids, so it takes the memberships that hold ``view_aggregates`` at a grid,
a community or a street (``counting_memberships``): a building leader's view is
narrower than any row the dashboard shows. From those it knows which communities
of the page it counts whole and which grids it counts alone (``Reach``), so a grid
worker's dashboard counts only her grid. The residents are counted per grid of
the reach; the other rows (changes, kept days) go through ``visible_to(user,
"view_aggregates")`` narrowed to the reach.

The number of queries does not grow with the street: one for the grids and their
colours, one for today's changes, one for the trend. Today is counted live from
``Resident.status``; the days before come from ``DailyCount`` (``status.daily``).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property, reduce
from typing import Any

from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db.models import ExpressionWrapper, F, Func, IntegerField, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from firstline.accounts.models import Membership
from firstline.people.models import STATUS_COLOURS, Resident, Status
from firstline.places.models import Community, Grid, Street
from firstline.scoping import active_memberships, get_visible_or_404, memberships_with
from firstline.status.daily import COLOURS, day_range
from firstline.status.models import CheckIn, DailyCount, IsolationOrder, Referral
from firstline.tasks.models import Task

COUNTING_LEVELS = ("street", "community", "grid")
TREND_DAYS = 30  # the past 29 days and today


def counting_memberships(user: Any) -> list[Membership]:
    """The user's memberships that count whole grids: ``view_aggregates`` at a grid, community or street."""
    return [m for m in memberships_with(user, "view_aggregates") if m.level in COUNTING_LEVELS]


@dataclass(frozen=True)
class Reach:
    """What the user counts in one street: communities counted whole, and grids counted alone."""

    street: int
    communities: frozenset[int] = frozenset()
    grids: frozenset[tuple[int, int]] = frozenset()  # (community, grid) of the grids counted alone

    def __bool__(self) -> bool:
        return bool(self.communities or self.grids)

    @property
    def shown(self) -> frozenset[int]:
        """The communities with at least one counted grid."""
        return self.communities | {community for community, _ in self.grids}

    def q(self, grid_field: str = "grid_id") -> Q:
        """The rows of the reach, for a model carrying ``street_id``, ``community_id`` and ``grid_field``.

        It names the street, then the community, then the grid, in the order of the
        ``(street, community, grid, …)`` and ``(community, …)`` indexes it should use.
        """
        parts = [Q(community_id__in=sorted(self.communities))] if self.communities else []
        alone: dict[int, list[int]] = {}
        for community, grid in sorted(self.grids):
            alone.setdefault(community, []).append(grid)
        parts.extend(Q(community_id=community, **{f"{grid_field}__in": grids}) for community, grids in alone.items())
        if not parts:
            return Q(pk__in=[])
        return Q(street_id=self.street) & reduce(operator.or_, parts)


def reach_in(user: Any, street: Street | Community, communities: list[Community]) -> Reach:
    """What ``user`` counts among ``communities`` of one street (``street``, or a community's street)."""
    street_id = street.street_id if isinstance(street, Community) else street.id
    ids = {community.id for community in communities}
    whole: set[int] = set()
    alone: set[tuple[int, int]] = set()
    for membership in counting_memberships(user):
        community, grid = membership.community_id, membership.grid_id
        if membership.level == "street" and membership.street_id == street_id:
            whole.update(ids)
        elif membership.level == "community" and community in ids:
            whole.add(community)
        elif membership.level == "grid" and community in ids and grid is not None:
            alone.add((community, grid))
    return Reach(
        street_id,
        frozenset(whole),
        frozenset((community, grid) for community, grid in alone if community not in whole),
    )


def community_for_dashboard(user: Any, code: str) -> Community:
    """The community, 404 when out of sight, 403 when visible but nothing in it may be counted."""
    community = get_visible_or_404(Community.objects.visible_to(user).select_related("street"), code=code)
    if not reach_in(user, community, [community]):
        raise PermissionDenied
    return community


def street_for_dashboard(user: Any, code: str) -> Street:
    """The street, 404 unless a membership lies in it, 403 when none of them may count."""
    streets = Street.objects.filter(id__in={m.street_id for m in active_memberships(user)})
    street = get_visible_or_404(streets, code=code)
    if not any(m.street_id == street.id for m in counting_memberships(user)):
        raise PermissionDenied
    return street


@dataclass(frozen=True)
class Colour:
    """One colour of a row: its count and its share of the row, for a stacked bar."""

    status: str
    label: str
    colour: str
    count: int
    percent: str  # of the row, for a CSS width: no locale


@dataclass(frozen=True)
class Colours:
    """Residents by colour (``Status`` value → count)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def of(self, status: str) -> int:
        return self.counts.get(status, 0)

    @property
    def values(self) -> list[int]:
        """The counts in the order of ``Status``."""
        return [self.of(value) for value in Status.values]

    @cached_property
    def parts(self) -> list[Colour]:
        """The four colours in the order of ``Status``, for a row and its stacked bar."""
        total = self.total
        return [
            Colour(
                value,
                str(label),
                STATUS_COLOURS[value],
                self.of(value),
                f"{self.of(value) * 100 / total:.2f}" if total else "0",
            )
            for value, label in Status.choices
        ]


def _add(into: dict[str, int], counts: dict[str, int]) -> None:
    for status, count in counts.items():
        into[status] = into.get(status, 0) + count


@dataclass(frozen=True)
class Row:
    """One grid of a community's dashboard, or one community of a street's."""

    place: Grid | Community
    colours: Colours
    partial: bool = False  # a community of which the user counts some grids only


@dataclass(frozen=True)
class TodaysChanges:
    new_isolations: int = 0  # isolation orders (home or central) that started today
    releases: int = 0  # isolation orders released today
    fevers: int = 0  # residents with a fever check-in taken today
    referrals_out: int = 0  # referrals that left today
    referrals_back: int = 0  # referrals closed today
    missed_checkins: int = 0  # missed check-in tasks created today


@dataclass(frozen=True)
class TrendDay:
    day: date
    colours: Colours | None  # None: no count was kept that day

    @property
    def counts(self) -> list[int | None]:
        """The counts in the order of ``Status``, or None for each when nothing was kept."""
        return list(self.colours.values) if self.colours else [None] * len(Status.values)


@dataclass(frozen=True)
class Dashboard:
    today: date
    totals: Colours
    rows: list[Row]
    changes: TodaysChanges
    trend: list[TrendDay]


def _scoped(model: Any, user: Any, reach: Reach, **lookups: Any) -> Any:
    """The rows of ``model`` in the reach that the user may count, narrowed by ``lookups``."""
    return model.objects.visible_to(user, "view_aggregates").filter(reach.q(), **lookups)


def _count(queryset: Any, distinct: str = "") -> Subquery:
    """``COUNT`` of ``queryset`` as a scalar subquery (no ``GROUP BY``), to read several counts in one query.

    ``distinct`` counts the distinct values of that field instead of the rows.
    """
    if distinct:
        count = Func(F(distinct), function="COUNT", template="%(function)s(DISTINCT %(expressions)s)")
    else:
        count = Func(template="COUNT(*)")
    return Subquery(queryset.order_by().values(n=ExpressionWrapper(count, output_field=IntegerField())))


def _grids_counted(user: Any, reach: Reach) -> list[tuple[Grid, Colours]]:
    """Each grid of the reach with its residents by colour now, in one query.

    The reach is what the user's counting memberships cover, so every resident of
    those grids counts: the scope is applied once, to the grids, and each colour
    of each grid is a correlated ``COUNT(*)`` over an equal range of the
    ``(street, community, grid, status)`` index. A per-row scope filter would
    repeat one of those columns and cost a fifth more; one ``GROUP BY`` walking
    the same entries costs about twice as much.
    """
    residents = Resident.objects.filter(
        street_id=OuterRef("street_id"),
        community_id=OuterRef("community_id"),
        grid_id=OuterRef("id"),
        left_at__isnull=True,
    )
    counts = {f"n_{value}": _count(residents.filter(status=value)) for value in Status.values}
    grids = Grid.objects.visible_to(user).filter(reach.q(grid_field="id")).annotate(**counts).order_by("name", "id")
    counted = []
    for grid in grids:
        found = {value: getattr(grid, f"n_{value}") for value in Status.values}
        counted.append((grid, Colours({value: n for value, n in found.items() if n})))
    return counted


def _grids_counted_kept(user: Any, reach: Reach, communities: list[Community]) -> list[tuple[Grid, Colours]]:
    """``_grids_counted``, kept until a community of the reach changes (its ``map_version``, bumped by every
    write of a resident's colour, presence or place: see ``places.models.bump_map_version``).

    ``communities`` must be read in this request. The counts of 200,000 residents
    walk 200,000 index entries; kept, a look at an unchanged street reads none.
    """
    memberships = counting_memberships(user)
    scope = "-".join(sorted(f"{m.role}.{m.level}{m.place_id_at(m.level)}" for m in memberships))
    versions = "-".join(f"{c.pk}.{c.map_version}" for c in communities)
    key = f"colours:{scope}:{versions}"
    cache = caches["maps"]
    kept = cache.get(key)
    if kept is None:
        kept = _grids_counted(user, reach)
        cache.set(key, kept, KEPT_SECONDS)
    return kept


KEPT_SECONDS = 3600


def todays_changes(user: Any, reach: Reach, today: date) -> TodaysChanges:
    """Today's changes in the reach, in one query of six counts, each over a range of a (community, time) index."""
    start, end = day_range(today)
    # A task is due after it is created: the bound on ``due_at`` lets the (community,
    # state, due_at) index skip the tasks of the days before, with a day to spare.
    since = {"state__in": Task.State.values, "due_at__gte": start - timedelta(days=1)}
    counts = {
        "new_isolations": _count(_scoped(IsolationOrder, user, reach, starts_at__gte=start, starts_at__lt=end)),
        "releases": _count(_scoped(IsolationOrder, user, reach, released_at__gte=start, released_at__lt=end)),
        "fevers": _count(
            _scoped(CheckIn, user, reach, is_fever=True, taken_at__gte=start, taken_at__lt=end),
            distinct="resident_id",
        ),
        "referrals_out": _count(_scoped(Referral, user, reach, in_transit_at__gte=start, in_transit_at__lt=end)),
        "referrals_back": _count(_scoped(Referral, user, reach, closed_at__gte=start, closed_at__lt=end)),
        "missed_checkins": _count(
            _scoped(
                Task, user, reach, kind=Task.Kind.MISSED_CHECKIN, created_at__gte=start, created_at__lt=end, **since
            )
        ),
    }
    found: dict[str, Any] = dict(Street.objects.filter(pk=reach.street).values(**counts).first() or {})
    return TodaysChanges(**{name: int(found.get(name) or 0) for name in counts})


def trend(user: Any, reach: Reach, today: date, live: Colours) -> list[TrendDay]:
    """The kept counts of the past days and today's live ones, oldest first, one entry per day."""
    first = today - timedelta(days=TREND_DAYS - 1)
    kept = (
        _scoped(DailyCount, user, reach, day__gte=first, day__lt=today)
        .order_by()
        .values("day")
        .annotate(**{f"n_{colour}": Sum(colour) for colour in COLOURS})
    )
    by_day = {row["day"]: Colours({colour: row[f"n_{colour}"] for colour in COLOURS}) for row in kept}
    days = [first + timedelta(days=n) for n in range(TREND_DAYS)]
    return [TrendDay(day, live if day == today else by_day.get(day)) for day in days]


def _totals(rows: list[Row]) -> Colours:
    totals: dict[str, int] = {}
    for row in rows:
        _add(totals, row.colours.counts)
    return Colours(totals)


def community_dashboard(user: Any, community: Community) -> Dashboard:
    """A community's dashboard: a row per grid the user counts."""
    today = timezone.localdate()
    reach = reach_in(user, community, [community])
    rows = [Row(grid, colours) for grid, colours in _grids_counted_kept(user, reach, [community])]
    totals = _totals(rows)
    return Dashboard(today, totals, rows, todays_changes(user, reach, today), trend(user, reach, today, totals))


def street_dashboard(user: Any, street: Street) -> Dashboard:
    """A street's dashboard: a row per community the user counts (whole, or the grids she counts in it)."""
    today = timezone.localdate()
    communities = list(Community.objects.filter(street=street).order_by("name", "id"))
    reach = reach_in(user, street, communities)
    per_community: dict[int, dict[str, int]] = {}
    for grid, colours in _grids_counted_kept(user, reach, communities):
        _add(per_community.setdefault(grid.community_id, {}), colours.counts)
    rows = [
        Row(c, Colours(per_community.get(c.id, {})), partial=c.id not in reach.communities)
        for c in communities
        if c.id in reach.shown
    ]
    totals = _totals(rows)
    return Dashboard(today, totals, rows, todays_changes(user, reach, today), trend(user, reach, today, totals))
