"""The battle map (作战图): every household of a community as one cell, coloured by its members.

A cell takes the worst colour among the household's present members (red > yellow >
blue > green; a household with nobody present is a neutral empty cell), a badge
with the number of members in that colour when there are several, and a title
with the count of each colour. Cells are laid out by grid, then by building as
floors (top floor first) × entrances; in a village each house is one cell in the
block of its villager group (the village's grids). Colour is never the only
signal: each colour has its glyph (``GLYPHS``), on the screen and on paper.

The map reads only the cached colour (``Resident.status``) and shows no name: a
cell is a room number (a house name in a village) and counts. Everything comes
through the one door: households are ``Household.objects.visible_to(user)``, so a
grid worker opening her community's map gets her own grid's cells and no other.

Cost: one aggregate over the present residents grouped by household (the same
work as counting a community's colours), one read of the households (so that empty
ones are drawn too), and three small reads (grids, buildings, entrances). The cells
are written here as HTML strings, one building at a time, each pattern of counts
worked out once: a community of 5,000 households is 5,000 cells, and a template
include per cell would cost several times the queries (see ``bench/cases.py`` and
``docs/benchmarks.md``).

The printed map is the same layout drawn for WeasyPrint — one table cell per
household, glyph and count in its text, fixed sizes — and is made on the job queue
(``make_map_print``): WeasyPrint needs seconds for a community's thousands of cells.
A print's state is a small JSON file beside the PDF under ``DATA_DIR/prints``; both
are read by their requester only and removed after a day.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Count, Q
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from firstline.accounts.models import User
from firstline.audit.actions import role_in_community
from firstline.audit.log import record
from firstline.codes import new_code
from firstline.people.models import CARE_FLAGS, STATUS_COLOURS, Resident, Status
from firstline.people.queries import FLAG_LABELS
from firstline.places.models import Building, Community, Entrance, Grid, Household
from firstline.scoping import memberships_with

# Worst first: a household takes the first of these that one of its present members has.
WORST_FIRST: tuple[str, ...] = (Status.HOME_ISOLATION, Status.OBSERVATION, Status.OUT, Status.HEALTHY)
COLOURS: tuple[str, ...] = tuple(STATUS_COLOURS[status] for status in WORST_FIRST)
EMPTY = "empty"  # a household with nobody present
FILTERS = (*COLOURS, EMPTY)  # what the legend can show alone
# The second signal beside colour, for colour-blind readers and black-and-white printers.
GLYPHS: dict[str, str] = {"red": "■", "yellow": "▲", "blue": "◆", "green": "●", EMPTY: "○"}
NOBODY = gettext_lazy("nobody present")
# Paper sizes of the printed map (ISO 216, landscape); A1 is a wall of the community office.
PAPER_SIZES = ("A0", "A1", "A2", "A3")
DEFAULT_PAPER = "A1"
PRINTS_KEPT = timedelta(hours=24)


@dataclass(frozen=True)
class LegendRow:
    """One colour of the legend: its households and their residents (under a care flag, those with it)."""

    colour: str
    label: str
    glyph: str
    households: int
    residents: int | None  # None for the empty households


@dataclass
class Block:
    """A building (or, in a village, a villager group's houses) drawn as HTML."""

    code: str
    name: str
    html: SafeString
    colours: set[str] = field(default_factory=set)
    households: int = 0
    width_mm: float = 0.0  # on paper

    @property
    def classes(self) -> str:
        return _has(self.colours)


@dataclass
class GridBlock:
    code: str
    name: str
    buildings: list[Block] = field(default_factory=list)
    colours: set[str] = field(default_factory=set)

    @property
    def classes(self) -> str:
        return _has(self.colours)


@dataclass
class BattleMap:
    community: Community
    grids: list[GridBlock]
    legend: list[LegendRow]
    households: int  # drawn (under a care flag, those with a member who has it)
    residents: int  # present members of the drawn households (under a care flag, those who have it)
    flag: str
    flag_label: str
    generated_at: datetime
    colours: set[str] = field(default_factory=set)

    @property
    def classes(self) -> str:
        return _has(self.colours)

    @property
    def body(self) -> SafeString:
        """The grids and their buildings for the screen, as one string (a template loop over them costs more)."""
        parts = []
        for grid in self.grids:
            parts.append(f'<section class="grid {grid.classes}"><h2>{html.escape(grid.name)}</h2>')
            if self.community.is_village:
                parts.extend(block.html for block in grid.buildings)
            else:
                parts.extend(
                    f'<div class="bldg {block.classes}"><h3>{html.escape(block.name)}</h3>'
                    f'<div class="scroll">{block.html}</div></div>'
                    for block in grid.buildings
                )
            parts.append("</section>")
        return mark_safe("".join(parts))  # noqa: S308 -- names escaped here, cells by the painter


# A household as the map needs it: its id, code, room, floor, entrance id, building id.
Household_ = tuple[int, str, str, int | None, int | None, int]
ID: Final = 0
CODE: Final = 1
ROOM: Final = 2
FLOOR: Final = 3
ENTRANCE: Final = 4
BUILDING: Final = 5
Counts = tuple[int, ...]


def _fetch(queryset: Any) -> list[tuple[Any, ...]]:
    """The rows of a values_list queryset straight from the cursor (no per-value conversion)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def household_counts(user: Any, community: Community, flag: str = "") -> dict[int, Counts]:
    """Household id → its present members per colour (worst first) and, under a care flag, those who have it.

    One aggregate over the residents the user may see who have not left, grouped by
    household: the same work as counting the colours of a community, once.
    """
    counts = {f"n_{status}": Count("id", filter=Q(status=status)) for status in WORST_FIRST}
    if flag:
        counts.update({f"f_{status}": Count("id", filter=Q(status=status, **{flag: True})) for status in WORST_FIRST})
    residents = (
        Resident.objects.visible_to(user)
        .filter(community=community, left_at__isnull=True)
        .order_by()
        .values("household_id")
        .annotate(**counts)
        .values_list("household_id", *counts)
    )
    return {row[0]: row[1:] for row in _fetch(residents)}


def households_of(user: Any, community: Community) -> list[Household_]:
    """The households of ``community`` the user may see, empty ones included, rooms in order."""
    households = (
        Household.objects.visible_to(user)
        .filter(community=community)
        .order_by()
        .values_list("id", "code", "room", "floor", "entrance_id", "building_id")
    )
    rows = _fetch(households)
    rows.sort(key=itemgetter(ROOM))
    return rows


def circled(n: int) -> str:
    """②…⑳ for a printed badge; larger counts as ×n."""
    return chr(0x2460 + n - 1) if 1 <= n <= 20 else f"×{n}"


@dataclass(frozen=True)
class _Look:
    """How a household with given counts is drawn: its colour and the HTML before and after its code and label."""

    colour: str
    head: str
    middle: str
    tail: str
    badge: str


_UNSEEN: Any = object()


class _Painter:
    """Draws cells, working out each pattern of counts once (a community has a few dozen patterns).

    ``for_print``: a table cell with the glyph and count in its text (one box per household,
    which WeasyPrint lays out fastest); otherwise a link to the household with a title.
    """

    def __init__(self, counts: dict[int, Counts], flag: str, for_print: bool = False) -> None:
        url = reverse("people:household", kwargs={"code": "CODE"})
        self.before, self.after = url.split("CODE")
        self.labels = [str(dict(Status.choices)[status]) for status in WORST_FIRST]
        self.nobody = str(NOBODY)
        self.counts = counts
        self.zero: Counts = (0,) * (8 if flag else 4)
        self.flag = flag
        self.for_print = for_print
        self.looks: dict[Counts, _Look | None] = {}
        self.texts: dict[str, str] = {}
        self.drawn: Counter[Counts] = Counter()
        self.numbers: dict[int, int] = {}  # entrance id → its number

    def look(self, counts: Counts) -> _Look | None:
        """The look of a household with ``counts``; None when the care flag leaves it out."""
        if self.flag and not any(counts[4:]):
            return None
        present = counts[:4]
        colour = next((c for c, n in zip(COLOURS, present, strict=True) if n), EMPTY)
        n = present[COLOURS.index(colour)] if colour != EMPTY else 0
        if self.for_print:
            badge = f"{circled(n)}</td>" if n > 1 else "</td>"
            return _Look(colour, f'<td class="{colour}">{GLYPHS[colour]}', "", "", badge)
        parts = [f"{label} {count}" for label, count in zip(self.labels, present, strict=True) if count]
        return _Look(
            colour=colour,
            head=f'<a class="{colour}" href="{self.before}',
            middle=f'{self.after}" title="',
            tail=f' · {" · ".join(parts) if parts else self.nobody}">',
            badge=f"<i>{n}</i></a>" if n > 1 else "</a>",
        )

    def paint(self, members: list[Household_], label: str = "") -> list[tuple[Household_, str, str]]:
        """(household, colour, HTML) of each member the care flag keeps; ``label`` names a village house."""
        looks, texts, drawn = self.looks, self.texts, self.drawn
        counts_of, zero, for_print = self.counts.get, self.zero, self.for_print
        painted = []
        for household in members:
            counts = counts_of(household[ID], zero)
            look = looks.get(counts, _UNSEEN)
            if look is _UNSEEN:
                look = looks[counts] = self.look(counts)
            if look is None:
                continue
            drawn[counts] += 1
            room = household[ROOM]
            name = f"{label} {room}" if label and room else label or room or "—"
            text = texts.get(name)
            if text is None:
                text = texts[name] = html.escape(name)
            if for_print:
                painted.append((household, look.colour, f"{look.head}{text}{look.badge}"))
            else:
                cell = f"{look.head}{household[CODE]}{look.middle}{text}{look.tail}{text}{look.badge}"
                painted.append((household, look.colour, cell))
        return painted

    def legend(self) -> tuple[list[LegendRow], int, int]:
        """The legend, the households drawn and their residents (under a care flag, those who have it)."""
        households: Counter[str] = Counter()
        residents: Counter[str] = Counter()
        for counts, times in self.drawn.items():
            look = self.looks[counts]
            assert look is not None
            households[look.colour] += times
            counted = counts[4:] if self.flag else counts[:4]
            for colour, n in zip(COLOURS, counted, strict=True):
                residents[colour] += n * times
        labels = dict(Status.choices)
        rows = [
            LegendRow(colour, str(labels[status]), GLYPHS[colour], households[colour], residents[colour])
            for status, colour in zip(WORST_FIRST, COLOURS, strict=True)
        ]
        if not self.flag:
            rows.append(LegendRow(EMPTY, self.nobody, GLYPHS[EMPTY], households[EMPTY], None))
        return rows, sum(households.values()), sum(residents.values())


def battle_map(user: Any, community: Community, flag: str = "", for_print: bool = False) -> BattleMap:
    """The map of ``community`` as ``user`` may see it; ``flag`` (a care flag) keeps the households with one.

    The drawn map is kept (cache ``maps``) under the community's ``map_version``, the
    user's reach (the places of their memberships that see the ledger), the flag and
    the language: every write that changes what a map shows bumps the version
    (``places.models.bump_map_version``), so a kept map is never stale; it is drawn
    again after the next change. ``community`` must be read in this request.
    """
    if flag not in CARE_FLAGS:
        flag = ""
    if for_print:
        return draw_battle_map(user, community, flag, for_print=True)
    reach = "-".join(sorted(f"{m.level}{m.place_id_at(m.level)}" for m in memberships_with(user, "view_ledger")))
    key = f"map:{community.pk}:{community.map_version}:{flag}:{get_language()}:{reach}"
    cache = caches["maps"]
    kept = cache.get(key)
    if kept is None:
        kept = draw_battle_map(user, community, flag)
        cache.set(key, kept, MAP_KEPT_SECONDS)
    return dataclasses.replace(kept, community=community)


MAP_KEPT_SECONDS = 3600


def draw_battle_map(user: Any, community: Community, flag: str = "", for_print: bool = False) -> BattleMap:
    """Draw the map (see ``battle_map``, which keeps what this draws)."""
    painter = _Painter(household_counts(user, community, flag), flag, for_print)
    by_building: dict[int, list[Household_]] = defaultdict(list)
    for household in households_of(user, community):
        by_building[household[BUILDING]].append(household)
    grids = {
        grid_id: GridBlock(code, name)
        for grid_id, code, name in Grid.objects.visible_to(user)
        .filter(community=community)
        .order_by("id")
        .values_list("id", "code", "name")
    }
    buildings = (
        Building.objects.visible_to(user)
        .filter(community=community)
        .order_by("grid_id", "id")
        .values_list("id", "code", "name", "floors", "grid_id")
    )
    if community.is_village:
        _draw_village(painter, grids, buildings, by_building)
    else:
        entrances: dict[int, list[int]] = defaultdict(list)  # building id → its entrance ids by number
        for building_id, entrance_id, number in (
            Entrance.objects.filter(building__community=community)
            .order_by("building_id", "number")
            .values_list("building_id", "id", "number")
        ):
            entrances[building_id].append(entrance_id)
            painter.numbers[entrance_id] = number
        draw = _printed_building if for_print else _building
        word = _("Entrance %(number)s")
        for building_id, code, name, floors, grid_id in buildings:
            grid = grids.get(grid_id)
            members = by_building.get(building_id)
            if grid is None or not members:
                continue
            block = draw(painter, code, name, floors, members, entrances[building_id], word)
            if block.households:
                grid.buildings.append(block)
                grid.colours |= block.colours

    legend, households, residents = painter.legend()
    drawn = [grid for grid in grids.values() if grid.buildings]
    return BattleMap(
        community=community,
        grids=drawn,
        legend=legend,
        households=households,
        residents=residents,
        flag=flag,
        flag_label=str(FLAG_LABELS[flag]) if flag else "",
        generated_at=timezone.now(),
        colours=set().union(*(grid.colours for grid in drawn)),
    )


# The printed cells have fixed sizes (mm), so that WeasyPrint lays the tables out without measuring
# thousands of cells first: a fixed table layout and floats of a known width.
PRINTED_CELL_MM = 13.0
PRINTED_HOUSE_MM = 24.0
PRINTED_FLOOR_MM = 6.0
PRINTED_SPACING_MM = 0.4
HOUSES_PER_PRINTED_ROW = 12


def _printed_table(columns: int, cell_mm: float, floors: bool) -> tuple[str, float]:
    """The opening of a printed table of ``columns`` cells of ``cell_mm`` (after a floor column if ``floors``),
    and its width in mm."""
    width = columns * (cell_mm + PRINTED_SPACING_MM) + PRINTED_SPACING_MM
    cols = f'<col style="width:{cell_mm}mm" span="{columns}">'
    if floors:
        width += PRINTED_FLOOR_MM + PRINTED_SPACING_MM
        cols = f'<col style="width:{PRINTED_FLOOR_MM}mm">{cols}'
    return f'<table style="width:{width:.1f}mm"><colgroup>{cols}</colgroup>', width


def _draw_village(
    painter: _Painter, grids: dict[int, GridBlock], buildings: Any, by_building: dict[int, list[Household_]]
) -> None:
    """A village: each house one cell (labelled with its name) in one block per villager group."""
    cells: dict[int, list[str]] = defaultdict(list)
    for building_id, _code, name, _floors, grid_id in buildings:
        grid = grids.get(grid_id)
        if grid is None:
            continue
        for _household, colour, cell in painter.paint(by_building.get(building_id, []), label=name):
            grid.colours.add(colour)
            cells[grid_id].append(cell)
    for grid_id, grid in grids.items():
        houses = cells.get(grid_id)
        if not houses:
            continue
        if painter.for_print:
            rows = [houses[i : i + HOUSES_PER_PRINTED_ROW] for i in range(0, len(houses), HOUSES_PER_PRINTED_ROW)]
            columns = min(len(houses), HOUSES_PER_PRINTED_ROW)
            body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
            markup = f"{_printed_table(columns, PRINTED_HOUSE_MM, floors=False)[0]}{body}</table>"
        else:
            markup = f'<div class="houses">{"".join(houses)}</div>'
        block = Block(grid.code, grid.name, mark_safe(markup), set(grid.colours), len(houses))  # noqa: S308 -- escaped
        grid.buildings.append(block)


@dataclass
class _Layout:
    """A building's drawn cells by (floor, entrance column), its floors top first, the colours of each floor."""

    block: Block
    slots: dict[tuple[int | None, int], list[str]]
    levels: list[int | None]
    floor_colours: dict[int | None, set[str]]
    heads: list[str]


def _layout(
    painter: _Painter, code: str, name: str, floors: int, members: list[Household_], entrances: list[int], word: str
) -> _Layout:
    """Lay out a building's households.

    Entrances are columns in the order of their numbers; a household without an entrance goes in
    a last column, one without a floor in a last row (both marked "—"). Floors run from the
    building's top floor (or a higher recorded one) down to the ground floor (or a basement).
    """
    block = Block(code, name, mark_safe(""))
    columns: dict[int | None, int] = {entrance_id: index for index, entrance_id in enumerate(entrances)}
    other = len(entrances)
    slots: dict[tuple[int | None, int], list[str]] = defaultdict(list)
    floor_colours: dict[int | None, set[str]] = defaultdict(set)
    lowest, highest = 1, floors
    for household, colour, cell in painter.paint(members):
        floor = household[FLOOR]
        floor_colours[floor].add(colour)
        if floor is not None and not lowest <= floor <= highest:
            lowest, highest = min(lowest, floor), max(highest, floor)
        slots[floor, columns.get(household[ENTRANCE], other)].append(cell)
    block.households = sum(len(cells) for cells in slots.values())
    block.colours = set().union(*floor_colours.values())
    levels: list[int | None] = [floor for floor in range(highest, lowest - 1, -1) if floor != 0 or 0 in floor_colours]
    if None in floor_colours:
        levels.append(None)
    heads = [html.escape(word % {"number": number}) for number in (painter.numbers[e] for e in entrances)]
    if any(column == other for _floor, column in slots):
        heads.append("—")
    return _Layout(block, slots, levels, floor_colours, heads)


def _has(colours: set[str]) -> str:
    """The classes that name the colours inside a block or a floor (what the colour filter folds by)."""
    return _HAS.get(frozenset(colours)) or _HAS.setdefault(
        frozenset(colours), " ".join(f"has-{colour}" for colour in sorted(colours))
    )


_HAS: dict[frozenset[str], str] = {}


def _building(
    painter: _Painter, code: str, name: str, floors: int, members: list[Household_], entrances: list[int], word: str
) -> Block:
    """A building on the screen: a table of floors (top first) × entrances, the rooms of a floor in one cell.

    Each floor row names its colours, so that showing one colour folds away the floors without it."""
    layout = _layout(painter, code, name, floors, members, entrances, word)
    if not layout.block.households:
        return layout.block
    slots, columns = layout.slots, range(len(layout.heads))
    parts = ["<table><thead><tr><th></th>", *(f"<th>{head}</th>" for head in layout.heads), "</tr></thead><tbody>"]
    for floor in layout.levels:
        parts.append(
            f'<tr class="{_has(layout.floor_colours.get(floor, set()))}"><th>{"—" if floor is None else floor}</th>'
        )
        for column in columns:
            cells = slots.get((floor, column))
            parts.append(f"<td>{''.join(cells)}</td>" if cells else "<td></td>")
        parts.append("</tr>")
    parts.append("</tbody></table>")
    layout.block.html = mark_safe("".join(parts))  # noqa: S308 -- cells escaped by the painter, numbers are ints
    return layout.block


def _printed_building(
    painter: _Painter, code: str, name: str, floors: int, members: list[Household_], entrances: list[int], word: str
) -> Block:
    """A building on paper: the same table with one cell per household, each entrance as wide as its widest floor."""
    layout = _layout(painter, code, name, floors, members, entrances, word)
    if not layout.block.households:
        return layout.block
    widths = [
        max((len(cells) for (_floor, at), cells in layout.slots.items() if at == column), default=1)
        for column in range(len(layout.heads))
    ]
    opening, layout.block.width_mm = _printed_table(sum(widths), PRINTED_CELL_MM, floors=True)
    parts = [
        opening,
        "<thead><tr><th></th>",
        *(f'<th colspan="{width}">{head}</th>' for head, width in zip(layout.heads, widths, strict=True)),
        "</tr></thead><tbody>",
    ]
    for floor in layout.levels:
        parts.append(f"<tr><th>{'—' if floor is None else floor}</th>")
        for column, width in enumerate(widths):
            cells = layout.slots.get((floor, column), [])
            parts.extend(cells)
            if len(cells) < width:
                parts.append(f'<td class="gap" colspan="{width - len(cells)}"></td>')
        parts.append("</tr>")
    parts.append("</tbody></table>")
    layout.block.html = mark_safe("".join(parts))  # noqa: S308 -- cells escaped by the painter, numbers are ints
    return layout.block


# --- streets


@dataclass(frozen=True)
class CommunityRow:
    """A community on the street's map: its residents per colour (a stacked bar) and households."""

    community: Community
    households: int
    residents: int
    colours: list[tuple[str, str, str, int, float]]  # colour, label, glyph, count, percent
    may_open: bool


def street_rows(user: Any, communities: list[Community]) -> list[CommunityRow]:
    """The communities' counts by colour, as far as ``user`` may count them (``view_aggregates``): two queries."""
    ids = [community.id for community in communities]
    per_status: dict[int, Counter[str]] = defaultdict(Counter)
    residents = Resident.objects.visible_to(user, "view_aggregates").filter(community_id__in=ids, left_at__isnull=True)
    for community_id, status, n in residents.order_by().values_list("community_id", "status").annotate(n=Count("id")):
        per_status[community_id][status] += n
    households = dict(
        Household.objects.visible_to(user, "view_aggregates")
        .filter(community_id__in=ids)
        .order_by()
        .values_list("community_id")
        .annotate(n=Count("id"))
        .values_list("community_id", "n")
    )
    labels = dict(Status.choices)
    rows = []
    for community in communities:
        counts = per_status[community.id]
        total = sum(counts.values())
        rows.append(
            CommunityRow(
                community=community,
                households=households.get(community.id, 0),
                residents=total,
                colours=[
                    (
                        colour,
                        str(labels[status]),
                        GLYPHS[colour],
                        counts[status],
                        counts[status] * 100 / total if total else 0,
                    )
                    for status, colour in zip(WORST_FIRST, COLOURS, strict=True)
                ],
                may_open=bool(role_in_community(user, "view_ledger", community)),
            )
        )
    return rows


# --- the printed map, made on the job queue


def prints_dir() -> Path:
    path = Path(settings.DATA_DIR) / "prints"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class MapPrint:
    """A printed map asked for by one user: its state lives in ``prints/<code>.json``, the file beside it."""

    code: str
    user_id: int
    community_id: int
    paper: str
    language: str
    requested_at: str
    state: str = "queued"  # queued → ready | failed
    seconds: float | None = None
    households: int | None = None

    @property
    def pdf_path(self) -> Path:
        return prints_dir() / f"{self.code}.pdf"

    @property
    def ready(self) -> bool:
        return self.state == "ready" and self.pdf_path.exists()

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    def save(self) -> None:
        """Replace the state file atomically, so that a reader never sees half of it."""
        path = prints_dir() / f"{self.code}.json"
        handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=f"{self.code}.", suffix=".json.tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.__dict__, out)
        os.replace(scratch, path)

    @classmethod
    def load(cls, code: str) -> MapPrint | None:
        if not code.isalnum():
            return None
        try:
            return cls(**json.loads((prints_dir() / f"{code}.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def own_print_or_404(user: Any, community: Community, code: str) -> MapPrint:
    """A print of ``community`` asked for by ``user``; anyone else's, or none, is a 404."""
    item = MapPrint.load(code)
    if item is None or item.user_id != user.pk or item.community_id != community.id:
        raise Http404
    return item


def do_request_map_print(user: Any, community: Community, paper: str, request: Any = None) -> MapPrint:
    """Queue the printed map of what ``user`` sees of ``community`` (``view_ledger`` within it), audited."""
    role = role_in_community(user, "view_ledger", community)
    if not role:
        raise PermissionDenied
    purge_old_prints()
    item = MapPrint(
        code=new_code(16),
        user_id=user.pk,
        community_id=community.id,
        paper=paper if paper in PAPER_SIZES else DEFAULT_PAPER,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        requested_at=timezone.now().isoformat(),
    )
    item.save()
    record(
        "print",
        actor=user,
        role=role,
        object_type="community",
        object_code=community.code,
        community_id=community.id,
        detail={"what": "battle_map", "paper": item.paper, "print": item.code},
        request=request,
    )
    make_map_print(item.code)
    return item


def render_map_pdf(user: Any, community: Community, paper: str = DEFAULT_PAPER) -> tuple[bytes, int]:
    """The printed map as PDF bytes, and the households on it."""
    import weasyprint  # loaded by the job consumer only: the web processes never need it

    the_map = battle_map(user, community, for_print=True)
    page = render_to_string("status/map_print.html", {"map": the_map, "community": community, "paper": paper})
    pdf = weasyprint.HTML(string=page, base_url=str(settings.BASE_DIR)).write_pdf()
    return pdf, the_map.households


@db_task()
def make_map_print(code: str) -> None:
    """Draw a queued print as the user who asked for it (their scope is read again now)."""
    item = MapPrint.load(code)
    if item is None or item.state != "queued":
        return
    user = User.objects.filter(pk=item.user_id, is_active=True).first()
    community = Community.objects.filter(pk=item.community_id).select_related("street").first()
    if user is None or community is None or not role_in_community(user, "view_ledger", community):
        item.state = "failed"
        item.save()
        return
    started = time.perf_counter()
    try:
        with translation.override(item.language):
            pdf, item.households = render_map_pdf(user, community, item.paper)
        scratch = item.pdf_path.with_suffix(".pdf.tmp")
        scratch.write_bytes(pdf)
        os.replace(scratch, item.pdf_path)
        item.state = "ready"
    except Exception:
        item.state = "failed"
        raise
    finally:
        item.seconds = round(time.perf_counter() - started, 2)
        item.save()


def purge_old_prints() -> None:
    """Printed maps are kept a day: the wall copy is paper, the file is only the way there."""
    cutoff = time.time() - PRINTS_KEPT.total_seconds()
    for path in prints_dir().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue
