"""The hard rules: who may not take a job at all, and why. This is their only definition.

Each rule is written once, over arrays with a row per technician: matching screens the whole
fleet in one pass, and a check of one technician (the optimizer's and the plan check's
`day_plan.may_serve`) is a batch of one. Each excluded technician is counted under the first rule
they break, in the order of `Exclusion`, so a dispatcher reads "12 lack the skill level, 3 are off
shift" and the counts add up.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np
import numpy.typing as npt

Bool = npt.NDArray[np.bool_]
Float = npt.NDArray[np.float64]
Levels = npt.NDArray[np.int64]


class Exclusion(enum.StrEnum):
    INACTIVE = "inactive"
    SKILL = "skill"
    EXCLUDED_BY_CUSTOMER = "excluded_by_customer"
    OUT_OF_REACH = "out_of_reach"
    OFF_SHIFT = "off_shift"
    NO_ROOM = "no_room"  # on shift, but the day cannot take the job without breaking a promise


ORDER = tuple(Exclusion)


@dataclass(frozen=True)
class SkillTable:
    """Skill levels with a row per technician and a column per skill code."""

    columns: Mapping[str, int]
    levels: Levels

    @classmethod
    def of(cls, skills: Sequence[Mapping[str, int]]) -> SkillTable:
        columns = {code: j for j, code in enumerate(sorted({code for held in skills for code in held}))}
        levels = np.zeros((len(skills), len(columns)), dtype=np.int64)
        for i, held in enumerate(skills):
            for code, level in held.items():
                levels[i, columns[code]] = level
        return cls(columns, levels)

    def level(self, skill: str) -> Levels:
        """Each technician's level in `skill`; a skill not held is level 0."""
        column = self.columns.get(skill)
        return np.zeros(len(self.levels), dtype=np.int64) if column is None else self.levels[:, column]

    def excess(self, required: Mapping[str, int]) -> Levels:
        """Levels held above those the job asks, summed over the job's skills."""
        over = np.zeros(len(self.levels), dtype=np.int64)
        for skill, level in required.items():
            over += self.level(skill) - level
        return over


def lacking_skill(table: SkillTable, required: Mapping[str, int]) -> Bool:
    """The skill rule: at least the level the job asks in every skill it names."""
    lacking = np.zeros(len(table.levels), dtype=bool)
    for skill, level in required.items():
        lacking |= table.level(skill) < level
    return lacking


def qualified(skills: Sequence[Mapping[str, int]], required: Sequence[Mapping[str, int]]) -> Bool:
    """[technician, job]: who has the skill levels for which job."""
    table = SkillTable.of(skills)
    answer = np.ones((len(skills), len(required)), dtype=bool)
    for j, needs in enumerate(required):
        answer[:, j] = ~lacking_skill(table, needs)
    return answer


def fits_shift(
    start_at: Float, end_latest: Float, *, earliest: float, latest: float, duration_s: float
) -> Bool:
    """The shift lets the job start inside its window and finish before the shift (and its
    allowed overtime, included in end_latest) ends. Times in seconds on one clock."""
    start = np.maximum(start_at, earliest)
    fits: Bool = (start <= latest) & (start + duration_s <= end_latest)
    return fits


@dataclass(frozen=True)
class Roster:
    """What the rules read of each technician, a row each."""

    ids: Sequence[UUID]
    row: Mapping[UUID, int]
    active: Bool
    territory: Levels  # a code per territory, see territory_code
    territory_code: Mapping[UUID, int]
    skills: SkillTable

    @classmethod
    def of(
        cls,
        ids: Sequence[UUID],
        active: Sequence[bool],
        territory_ids: Sequence[UUID],
        skills: Sequence[Mapping[str, int]],
    ) -> Roster:
        code = {tid: i for i, tid in enumerate(sorted(set(territory_ids), key=str))}
        return cls(
            ids=list(ids),
            row={tech_id: n for n, tech_id in enumerate(ids)},
            active=np.array(active, dtype=bool).reshape(-1),
            territory=np.array([code[t] for t in territory_ids], dtype=np.int64).reshape(-1),
            territory_code=code,
            skills=SkillTable.of(skills),
        )

    def mask(self, chosen: Collection[UUID]) -> Bool:
        mask = np.zeros(len(self.ids), dtype=bool)
        for tech_id in chosen:
            if (row := self.row.get(tech_id)) is not None:
                mask[row] = True
        return mask

    def outside(self, territory_id: UUID | None) -> Bool:
        """Who works outside the job's territory (nobody, for a job with none)."""
        if territory_id is None:
            return np.zeros(len(self.ids), dtype=bool)
        outside: Bool = self.territory != self.territory_code.get(territory_id, -1)
        return outside


def rules_without_route(
    roster: Roster,
    *,
    required_skills: Mapping[str, int],
    excluded: Collection[UUID],
    territory_id: UUID | None,
    distance_km: Float,
    reach_km: float,
) -> list[tuple[Exclusion, Bool]]:
    """Who breaks each rule that needs no route (active, skill level, the customer's exclusions,
    reach), in the order they are counted. `distance_km` is from each technician's home to the
    job; it is read only for those outside the job's territory."""
    return [
        (Exclusion.INACTIVE, ~roster.active),
        (Exclusion.SKILL, lacking_skill(roster.skills, required_skills)),
        (Exclusion.EXCLUDED_BY_CUSTOMER, roster.mask(excluded)),
        (Exclusion.OUT_OF_REACH, roster.outside(territory_id) & (distance_km > reach_km)),
    ]


def first_broken(rules: Sequence[tuple[Exclusion, Bool]], count: int) -> Levels:
    """Per technician, the index in ORDER of the first rule broken, -1 where none is."""
    first = np.full(count, -1, dtype=np.int64)
    for kind, broken in rules:
        first = np.where((first < 0) & broken, ORDER.index(kind), first)
    return first


def counted(first: Levels) -> Counter[Exclusion]:
    numbers = np.bincount(first[first >= 0], minlength=len(ORDER))
    return Counter({ORDER[i]: int(n) for i, n in enumerate(numbers) if n})
