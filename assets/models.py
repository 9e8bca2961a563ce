"""Customers, sites and who lived there, installed assets and their history, parts and fitments."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated, Any, NewType
from uuid import UUID

import msgspec

CustomerId = NewType("CustomerId", UUID)
SiteId = NewType("SiteId", UUID)
AssetId = NewType("AssetId", UUID)
PartId = NewType("PartId", UUID)
OccupancyId = NewType("OccupancyId", UUID)
AssetEventId = NewType("AssetEventId", UUID)
FitmentId = NewType("FitmentId", UUID)

Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
Phone = Annotated[str, msgspec.Meta(min_length=3, max_length=50, pattern=r"^[0-9+() .\-]+$")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$", description="lower_snake_case code")]
Attributes = dict[str, Any]
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True, description="ISO 8601 with an offset")]
# What an asset, a part or a fitment condition may record: one plain value per key, so fitments
# can match with jsonb containment and nothing nested hides from a comparison.
AttributeValue = str | int | float | bool
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_TEXT = 200
RawAttributes = Annotated[
    dict[str, object],
    msgspec.Meta(
        max_length=MAX_ATTRIBUTES,
        description="Flat object: lower_snake_case keys; string (≤ 200), number or boolean values.",
    ),
]


class Customer(msgspec.Struct, frozen=True, kw_only=True):
    id: CustomerId
    external_id: str | None
    name: str
    email: str | None
    phone: str | None
    notes: str
    created_at: datetime
    updated_at: datetime


class Occupant(msgspec.Struct, frozen=True, kw_only=True):
    customer_id: CustomerId
    name: str
    since: datetime


class Site(msgspec.Struct, frozen=True, kw_only=True):
    id: SiteId
    external_id: str | None
    territory_id: UUID | None
    address_line: str
    city: str
    postal_code: str
    country: str
    address_key: str
    latitude: float
    longitude: float
    access_notes: str
    occupant: Occupant | None  # who lives there today; None while the site stands empty
    created_at: datetime
    updated_at: datetime


class Occupancy(msgspec.Struct, frozen=True, kw_only=True):
    """A customer living at a site from started_at until ended_at (None: still there)."""

    id: OccupancyId
    site_id: SiteId
    customer_id: CustomerId
    customer_name: str
    started_at: datetime
    ended_at: datetime | None


class Asset(msgspec.Struct, frozen=True, kw_only=True):
    id: AssetId
    external_id: str | None
    site_id: SiteId
    kind: str  # a code of asset_kinds
    make: str
    model: str
    serial: str | None
    installed_at: datetime | None
    warranty_until: date | None
    attributes: dict[str, AttributeValue]  # e.g. {"spring_size": "218", "width_in": 96}
    removed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AssetKind(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str


class AssetEventKind(enum.StrEnum):
    INSTALL = "install"
    REPAIR = "repair"
    REPLACE = "replace"
    INSPECTION = "inspection"
    MAINTENANCE = "maintenance"
    REMOVAL = "removal"


class PartUsed(msgspec.Struct, frozen=True, kw_only=True):
    part_id: PartId
    sku: str
    name: str
    quantity: int


class AssetEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of an asset's service history; it names no customer, the history stays with the site."""

    id: AssetEventId
    external_id: str | None
    asset_id: AssetId
    kind: AssetEventKind
    occurred_at: datetime
    summary: str
    problem_code: str | None
    technician_id: UUID | None
    job_id: UUID | None
    parts: list[PartUsed]
    created_at: datetime


class AttributeSource(enum.StrEnum):
    """Where a value of an asset's record came from."""

    IMPORT = "import"  # loaded with the installed base
    INTAKE = "intake"  # told when a job was taken
    VISIT = "visit"  # implied by a part a technician fitted
    MANUAL = "manual"  # typed in by staff


class AttributeChange(msgspec.Struct, frozen=True, kw_only=True):
    """From `valid_from` the record said `value` for `key` (null: the key was removed)."""

    key: str
    value: AttributeValue | None
    valid_from: datetime
    source: AttributeSource
    job_id: UUID | None
    asset_event_id: AssetEventId | None
    recorded_at: datetime


class AttributeDisagreement(msgspec.Struct, frozen=True, kw_only=True):
    """A visit fitted a part that says the record was wrong; the record now follows the visit."""

    key: str
    recorded_value: AttributeValue  # what the record said before the visit
    fitted_value: AttributeValue  # what the fitted part implies
    part_id: PartId
    sku: str
    quantity: int
    job_id: UUID | None
    asset_event_id: AssetEventId
    occurred_at: datetime


class AssetRecord(Asset, frozen=True, kw_only=True, omit_defaults=True):
    """An asset with the visits that contradicted its record and are not yet looked at (the
    key is left out when there are none, so the shape is the plain asset's)."""

    disagreements: list[AttributeDisagreement] = []


class AttributeHistory(msgspec.Struct, frozen=True, kw_only=True):
    """An asset's record through time: every change, newest first, and the visits that
    contradicted it. An asset whose record never changed has no change listed."""

    asset_id: AssetId
    attributes: dict[str, AttributeValue]  # as the record stands now
    changes: list[AttributeChange]
    disagreements: list[AttributeDisagreement]


class PartQuantity(msgspec.Struct, frozen=True, kw_only=True):
    part_id: PartId
    quantity: int


class Part(msgspec.Struct, frozen=True, kw_only=True):
    id: PartId
    sku: str
    name: str
    unit_cost_cents: int
    sold_in_multiples_of: int  # springs come in pairs: 2
    attributes: dict[str, AttributeValue]
    created_at: datetime
    updated_at: datetime


class Fitment(msgspec.Struct, frozen=True, kw_only=True):
    """Fits assets of asset_kind (and make and model, when set) whose attributes hold the conditions."""

    id: FitmentId
    part_id: PartId
    asset_kind: str
    make: str | None
    model: str | None
    conditions: dict[str, AttributeValue]
    quantity: int


class FittingPart(msgspec.Struct, frozen=True, kw_only=True):
    part: Part
    fitment_id: FitmentId  # the most specific fitment that matched
    quantity: int


__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_ATTRIBUTE_TEXT",
    "Asset",
    "AssetEvent",
    "AssetEventId",
    "AssetEventKind",
    "AssetId",
    "AssetKind",
    "AttributeValue",
    "Attributes",
    "AwareDatetime",
    "Code",
    "Customer",
    "CustomerId",
    "Email",
    "ExternalId",
    "Fitment",
    "FitmentId",
    "FittingPart",
    "Latitude",
    "Longitude",
    "Name",
    "Occupancy",
    "OccupancyId",
    "Occupant",
    "Part",
    "PartId",
    "PartQuantity",
    "PartUsed",
    "Phone",
    "RawAttributes",
    "Site",
    "SiteId",
    "date",
]
