"""Territories, technicians and their shifts and stock, jobs and their audit trail."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, NewType
from uuid import UUID

import msgspec

from assets.models import AssetId, CustomerId, Latitude, Longitude, PartId, SiteId

TerritoryId = NewType("TerritoryId", UUID)
TechnicianId = NewType("TechnicianId", UUID)
ShiftId = NewType("ShiftId", UUID)
StockLocationId = NewType("StockLocationId", UUID)
JobId = NewType("JobId", UUID)

SkillLevel = Annotated[int, msgspec.Meta(ge=1, le=5)]
SkillCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
Priority = Annotated[int, msgspec.Meta(ge=1, le=5, description="1 = most urgent, 5 = whenever")]
DurationS = Annotated[int, msgspec.Meta(ge=60, le=12 * 3600, description="seconds on site")]


class Skill(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str


class Territory(msgspec.Struct, frozen=True, kw_only=True):
    id: TerritoryId
    name: str
    timezone: str
    circuity_factor: float
    speed_kmh: float
    stop_overhead_s: int
    created_at: datetime
    updated_at: datetime


class Break(msgspec.Struct, frozen=True, kw_only=True):
    """A break of duration_s to be taken somewhere inside [earliest_start_at, latest_end_at]."""

    id: UUID
    earliest_start_at: datetime
    latest_end_at: datetime
    duration_s: int


class Shift(msgspec.Struct, frozen=True, kw_only=True):
    id: ShiftId
    technician_id: TechnicianId
    starts_at: datetime
    ends_at: datetime
    start_latitude: Latitude
    start_longitude: Longitude
    end_latitude: Latitude
    end_longitude: Longitude
    overtime_limit_s: int
    breaks: list[Break]


class Technician(msgspec.Struct, frozen=True, kw_only=True):
    id: TechnicianId
    external_id: str | None
    name: str
    email: str | None
    phone: str | None
    territory_id: TerritoryId
    home_latitude: Latitude
    home_longitude: Longitude
    active: bool
    skills: dict[str, int]  # skill code -> level 1..5
    created_at: datetime
    updated_at: datetime


class Preference(msgspec.Struct, frozen=True, kw_only=True):
    customer_id: UUID
    technician_id: UUID
    technician_name: str
    preference: str  # preferred | excluded
    reason: str


class StockLocationKind(enum.StrEnum):
    VAN = "van"
    DEPOT = "depot"


class StockLevel(msgspec.Struct, frozen=True, kw_only=True):
    part_id: PartId
    sku: str
    name: str
    quantity: int


class StockLocation(msgspec.Struct, frozen=True, kw_only=True):
    id: StockLocationId
    kind: StockLocationKind
    name: str
    territory_id: TerritoryId | None
    technician_id: TechnicianId | None
    latitude: float | None
    longitude: float | None


class Holding(msgspec.Struct, frozen=True, kw_only=True):
    """Where a part is: a van or a depot, and how many."""

    location_id: UUID
    kind: StockLocationKind
    name: str
    territory_id: UUID | None
    technician_id: UUID | None
    latitude: float | None
    longitude: float | None
    quantity: int


class JobStatus(enum.StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    INCOMPLETE = "incomplete"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset(
    {JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.DISPATCHED, JobStatus.EN_ROUTE, JobStatus.ON_SITE}
)
CANCELLABLE_STATUSES = frozenset({JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.DISPATCHED})


class DurationSource(enum.StrEnum):
    MANUAL = "manual"
    CATALOGUE = "catalogue"
    HISTORY = "history"


class PartSource(enum.StrEnum):
    MANUAL = "manual"
    PREDICTED = "predicted"


class JobPart(msgspec.Struct, frozen=True, kw_only=True):
    part_id: PartId
    sku: str
    name: str
    quantity: int
    probability: float
    source: PartSource
    reasons: list[str]
    carry: bool = True  # on the van for this job: named by hand, or chosen by the prediction


class Job(msgspec.Struct, frozen=True, kw_only=True):
    id: JobId
    external_id: str | None
    site_id: SiteId
    asset_id: AssetId | None
    customer_id: CustomerId | None
    parent_job_id: JobId | None
    problem_code: str
    problem_description: str
    customer_choice: str | None
    required_skills: dict[str, int]
    duration_s: int
    duration_source: DurationSource
    duration_reason: str
    window_start_at: datetime
    window_end_at: datetime
    priority: int
    status: JobStatus
    technician_id: TechnicianId | None
    planned_start_at: datetime | None
    eta_at: datetime | None
    pinned: bool
    pinned_start_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    pickup_location_id: StockLocationId | None  # a depot planned on the way, for parts the van lacks
    outcome: str | None  # completed or incomplete, once the visit is over
    outcome_reason: str
    version: int
    parts: list[JobPart]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class JobFilters:
    statuses: Sequence[JobStatus] = ()
    territory_id: UUID | None = None
    technician_id: UUID | None = None
    site_id: UUID | None = None
    customer_id: UUID | None = None
    asset_id: UUID | None = None
    window_overlaps: tuple[datetime, datetime] | None = None


class Variant(msgspec.Struct, frozen=True, kw_only=True):
    choice: str  # "" when the problem offers no choice
    required_skills: dict[str, int]
    skills_if: dict[str, dict[str, int]]
    duration_s: int
    part_families: list[str]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    asset_kind: str
    name: str
    keywords: list[str]
    default_choice: str | None
    variants: list[Variant]


class Note(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    job_id: UUID
    author: str
    text: str
    client_at: datetime | None
    created_at: datetime


class JobEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    job_id: JobId
    kind: str
    from_status: JobStatus | None
    to_status: JobStatus | None
    actor_user_id: UUID | None
    actor: str
    reason: str
    data: dict[str, object]
    client_at: datetime | None
    occurred_at: datetime
