"""The hard rules asked of one technician at a time, in the words of the trade (datetimes, a
list of shifts): a batch of one through dispatch.matching.eligibility, the rules' only definition."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import numpy as np

from dispatch.matching.eligibility import (
    ORDER,
    Exclusion,
    Roster,
    first_broken,
    fits_shift,
    rules_without_route,
)


@dataclass(frozen=True)
class WorkWindow:
    """A shift: work may start at starts_at and must end by ends_at plus the allowed overtime."""

    starts_at: datetime
    ends_at: datetime
    overtime: timedelta = timedelta(0)


@dataclass(frozen=True)
class TechnicianFacts:
    id: UUID
    active: bool
    territory_id: UUID
    skills: Mapping[str, int]
    shifts: Sequence[WorkWindow]


@dataclass(frozen=True)
class JobFacts:
    required_skills: Mapping[str, int]
    window_start_at: datetime
    window_end_at: datetime
    duration: timedelta
    territory_id: UUID | None
    excluded_technicians: frozenset[UUID] = frozenset()


def fits_a_shift(shifts: Sequence[WorkWindow], job: JobFacts) -> bool:
    """Some shift lets the job start inside its window and finish before the shift (and overtime) ends."""
    fits = fits_shift(
        np.array([s.starts_at.timestamp() for s in shifts], dtype=np.float64),
        np.array([(s.ends_at + s.overtime).timestamp() for s in shifts], dtype=np.float64),
        earliest=job.window_start_at.timestamp(),
        latest=job.window_end_at.timestamp(),
        duration_s=job.duration.total_seconds(),
    )
    return bool(fits.any())


def _first_broken(
    technicians: Sequence[TechnicianFacts], job: JobFacts, distances_km: Sequence[float], reach_km: float
) -> list[Exclusion | None]:
    roster = Roster.of(
        [t.id for t in technicians],
        [t.active for t in technicians],
        [t.territory_id for t in technicians],
        [t.skills for t in technicians],
    )
    rules = rules_without_route(
        roster,
        required_skills=job.required_skills,
        excluded=job.excluded_technicians,
        territory_id=job.territory_id,
        distance_km=np.array(distances_km, dtype=np.float64).reshape(-1),
        reach_km=reach_km,
    )
    off_shift = np.array([not fits_a_shift(t.shifts, job) for t in technicians], dtype=bool).reshape(-1)
    first = first_broken([*rules, (Exclusion.OFF_SHIFT, off_shift)], len(technicians))
    return [None if i < 0 else ORDER[i] for i in first.tolist()]


def exclusion(
    technician: TechnicianFacts, job: JobFacts, *, distance_km: float, reach_km: float
) -> Exclusion | None:
    return _first_broken([technician], job, [distance_km], reach_km)[0]


def screen(
    technicians: Sequence[TechnicianFacts],
    job: JobFacts,
    distances_km: Sequence[float],
    *,
    reach_km: float,
) -> tuple[list[TechnicianFacts], Counter[Exclusion]]:
    """The technicians who may take the job, and how many were excluded by each rule."""
    reasons = _first_broken(technicians, job, distances_km, reach_km)
    kept = [t for t, reason in zip(technicians, reasons, strict=True) if reason is None]
    return kept, Counter(reason for reason in reasons if reason is not None)
