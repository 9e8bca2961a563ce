"""What matching is asked (the job to place, its parts, the settings) and what it answers
(candidates with their score, parts plan and reasons)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import msgspec

from dispatch.matching.match_cost import Weights
from dispatch.travel.sources import (
    Point,
)


@dataclass(frozen=True)
class MatchSettings:
    weights: Weights = field(default_factory=Weights)
    reach_km: float = 15.0  # how far outside their territory a technician may be sent
    arrival_window_s: int = 1800  # the arrival window a customer is promised
    risk_horizon_s: int = 3600  # slack under this counts as risk
    depot_pickup_s: int = 600


@dataclass(frozen=True)
class NeededPart:
    part_id: UUID
    sku: str
    name: str
    quantity: int
    probability: float
    carry: bool  # chosen for the van (a part named by hand, or the prediction's carry set)


@dataclass(frozen=True)
class JobToPlace:
    id: UUID
    point: Point
    earliest: float  # seconds since the epoch: the start must fall in [earliest, latest]
    latest: float
    duration_s: float
    required_skills: Mapping[str, int]
    territory_id: UUID | None
    timezone: str = "UTC"
    parts: Sequence[NeededPart] = ()
    asset_label: str = "this asset"
    excluded: frozenset[UUID] = frozenset()
    preferred: frozenset[UUID] = frozenset()
    served: Mapping[UUID, datetime] = field(default_factory=dict)


class ScoreBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Each term in minutes; the score is their sum (lower is better)."""

    travel: float
    lateness_risk: float
    parts: float
    overqualification: float
    continuity: float
    workload: float


class DepotDetour(msgspec.Struct, frozen=True, kw_only=True):
    depot_id: UUID
    name: str
    skus: list[str]
    added_min: float  # minutes the detour adds over driving straight to the job


class PartsPlan(msgspec.Struct, frozen=True, kw_only=True):
    coverage: float  # probability-weighted share of the predicted parts that will be there
    on_van: list[str]
    missing: list[str]
    detour: DepotDetour | None


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    technician_id: UUID
    name: str
    score: float
    reason: str
    breakdown: ScoreBreakdown
    shift_id: UUID
    position: int  # where in the day's visits the job goes (0 = first)
    drive_min: float  # from the previous place (or the depot) to the job
    added_travel_min: float
    planned_start_at: datetime
    arrival_window_start_at: datetime
    arrival_window_end_at: datetime
    slack_min: float
    parts: PartsPlan
    served_asset_at: datetime | None
    preferred: bool


class Ranking(msgspec.Struct, frozen=True, kw_only=True):
    considered: int
    eligible: int
    excluded: dict[str, int]
    candidates: list[Candidate]
