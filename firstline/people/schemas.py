"""API shapes of the ledger. Places are named by public codes; ID numbers and phones only masked."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

MAX_PAGE_SIZE = 200
FILTER_LENGTH = 60


class ResidentFilters(Schema):
    """The filters of the resident list (the same as the web list); unknown values match nothing."""

    community: str | None = Field(None, max_length=FILTER_LENGTH, description="community code")
    grid: str | None = Field(None, max_length=FILTER_LENGTH, description="grid code")
    building: str | None = Field(None, max_length=FILTER_LENGTH, description="building code")
    flag: str | None = Field(None, max_length=FILTER_LENGTH, description="care flag, e.g. lives_alone_elderly")
    person_type: str | None = Field(None, max_length=FILTER_LENGTH, description="registered, migrant or overseas")
    status: str | None = Field(None, max_length=FILTER_LENGTH, description="home_isolation, observation, out, healthy")
    q: str | None = Field(
        None,
        max_length=FILTER_LENGTH,
        description="part of a name; an exact ID number or phone only in the body of POST /residents/search",
    )
    page: int = Field(1, ge=1, description="1-based")
    page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE, description="default: the ledger page size")


class ResidentItem(Schema):
    code: str
    name: str
    sex: str
    age: int | None = Field(description="in whole years; the birth date is shown only when revealed (audited)")
    id_type: str
    id_number: str = Field(description="masked")
    phone: str = Field(description="masked")
    relation_to_head: str
    person_type: str
    flags: list[str]
    status: str
    household: str = Field(description="household code")
    address: str
    grid: str = Field(description="grid code")
    building: str = Field(description="building code")
    community: str = Field(description="community code")
    version: int


class ResidentPage(Schema):
    count: int = Field(description="residents matching the filters, on all pages")
    page: int
    pages: int = Field(description="0 when nothing matches; a page beyond the last is empty")
    items: list[ResidentItem]


class MovementOut(Schema):
    code: str
    direction: str
    origin: str
    destination: str
    departed_on: date | None
    arrived_on: date | None
    transport: str
    trip_number: str
    notes: str
    recorded_at: datetime


class OpenOrderOut(Schema):
    """An isolation order that has not been released."""

    code: str
    kind: str = Field(description="home or central")
    starts_at: datetime
    planned_end: date
    site: str = Field(description="the central isolation site; empty for home isolation")


class ResidentDetail(ResidentItem):
    domicile: str = Field(description="masked: the province only")
    workplace: str
    notes: str
    left_at: datetime | None
    updated_at: datetime
    movements: list[MovementOut]
    open_orders: list[OpenOrderOut]


class HouseholdOut(Schema):
    code: str
    address: str
    room: str
    floor: int | None
    entrance: int | None = Field(description="entrance number")
    building: str = Field(description="building code")
    grid: str = Field(description="grid code")
    community: str = Field(description="community code")
    members: list[ResidentItem]
