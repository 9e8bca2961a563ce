"""The hard rules of matching: who may not take a job at all, and why.

Each excluded technician is counted under the first rule they break, in a fixed order, so a
dispatcher reads "12 lack the skill level, 3 are off shift" and the counts add up.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID


class Exclusion(enum.StrEnum):
    INACTIVE = "inactive"
    SKILL = "skill"
    EXCLUDED_BY_CUSTOMER = "excluded_by_customer"
    OUT_OF_REACH = "out_of_reach"
    OFF_SHIFT = "off_shift"
    NO_ROOM = "no_room"  # on shift, but the day cannot take the job without breaking a promise


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


def lacks_skill(skills: Mapping[str, int], required: Mapping[str, int]) -> bool:
    return any(skills.get(skill, 0) < level for skill, level in required.items())


def fits_a_shift(shifts: Sequence[WorkWindow], job: JobFacts) -> bool:
    """Some shift lets the job start inside its window and finish before the shift (and overtime) ends."""
    for shift in shifts:
        earliest_start = max(shift.starts_at, job.window_start_at)
        if (
            earliest_start <= job.window_end_at
            and earliest_start + job.duration <= shift.ends_at + shift.overtime
        ):
            return True
    return False


def exclusion(
    technician: TechnicianFacts, job: JobFacts, *, distance_km: float, reach_km: float
) -> Exclusion | None:
    if not technician.active:
        return Exclusion.INACTIVE
    if lacks_skill(technician.skills, job.required_skills):
        return Exclusion.SKILL
    if technician.id in job.excluded_technicians:
        return Exclusion.EXCLUDED_BY_CUSTOMER
    if (
        job.territory_id is not None
        and technician.territory_id != job.territory_id
        and distance_km > reach_km
    ):
        return Exclusion.OUT_OF_REACH
    if not fits_a_shift(technician.shifts, job):
        return Exclusion.OFF_SHIFT
    return None


def screen(
    technicians: Sequence[TechnicianFacts],
    job: JobFacts,
    distances_km: Sequence[float],
    *,
    reach_km: float,
) -> tuple[list[TechnicianFacts], Counter[Exclusion]]:
    """The technicians who may take the job, and how many were excluded by each rule."""
    eligible: list[TechnicianFacts] = []
    excluded: Counter[Exclusion] = Counter()
    for technician, distance in zip(technicians, distances_km, strict=True):
        reason = exclusion(technician, job, distance_km=distance, reach_km=reach_km)
        if reason is None:
            eligible.append(technician)
        else:
            excluded[reason] += 1
    return eligible, excluded
