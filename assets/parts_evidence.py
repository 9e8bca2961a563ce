"""Evidence for parts prediction, accumulated from past visits in time order.

The backtest adds visits one by one and asks before each. A live intake reads the same counts
from the database, which keeps them as visits finish (`prediction_queries.problem_counts`); a
test replays the demo's history through this book and checks the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from assets.parts_prediction import Evidence, Fitting, OwnUse, PartRef, UsageCounts


@dataclass(frozen=True)
class Visit:
    """A past first visit to an asset for a problem, with every part it took (follow-ups included)."""

    job_id: UUID | None
    asset_id: UUID
    make: str
    model: str
    problem_code: str
    choice: str | None
    finished_at: datetime
    parts: Sequence[tuple[PartRef, int]]
    needed_second_visit: bool = False
    second_visit_families: frozenset[str] = frozenset()
    started_at: datetime | None = None  # on site, when the visit was timed

    @property
    def judged_at(self) -> datetime:
        """The moment the visit's prediction is judged as of: the record as it stood before the
        technician arrived, so an edit made during the visit cannot help it."""
        return self.started_at or self.finished_at


def _count(counts: UsageCounts, visit: Visit) -> None:
    counts.jobs += 1
    for family in {part.family for part, _ in visit.parts}:
        counts.family_jobs[family] = counts.family_jobs.get(family, 0) + 1
    for part, quantity in visit.parts:
        counts.part_jobs[part.part_id] = counts.part_jobs.get(part.part_id, 0) + 1
        by_quantity = counts.part_quantities.setdefault(part.part_id, {})
        by_quantity[quantity] = by_quantity.get(quantity, 0) + 1
    for family in visit.second_visit_families:
        counts.second_visit_jobs[family] = counts.second_visit_jobs.get(family, 0) + 1


@dataclass
class EvidenceBook:
    usual_families: Mapping[tuple[str, str], frozenset[str]]  # (problem, choice or "") -> families
    fleet: dict[tuple[str, str], UsageCounts] = field(default_factory=dict)
    models: dict[tuple[str, str, str, str], UsageCounts] = field(default_factory=dict)
    own: dict[UUID, list[OwnUse]] = field(default_factory=dict)
    parts: dict[UUID, PartRef] = field(default_factory=dict)

    def add(self, visit: Visit) -> None:
        choice = visit.choice or ""
        _count(self.fleet.setdefault((visit.problem_code, choice), UsageCounts()), visit)
        key = (visit.problem_code, choice, visit.make, visit.model)
        _count(self.models.setdefault(key, UsageCounts()), visit)
        uses = self.own.setdefault(visit.asset_id, [])
        # Its own history counts whatever the problem was: a spring fitted for noise is its spring.
        uses.extend(OwnUse(part=p, quantity=q, occurred_at=visit.finished_at) for p, q in visit.parts)
        for part, _ in visit.parts:
            self.parts[part.part_id] = part

    def evidence(
        self,
        *,
        asset_id: UUID | None,
        make: str,
        model: str,
        problem_code: str,
        choice: str | None,
        fittings: Sequence[Fitting],
        neighbours: Mapping[UUID, Sequence[PartRef]] | None = None,
    ) -> Evidence:
        key = choice or ""
        return Evidence(
            usual_families=self.usual_families.get((problem_code, key), frozenset()),
            fleet=self.fleet.get((problem_code, key), UsageCounts()),
            model=self.models.get((problem_code, key, make, model), UsageCounts()),
            own_history=self.own.get(asset_id, []) if asset_id else [],
            fittings=fittings,
            parts=self.parts,
            make_model=f"{make} {model}".strip() or "this kind of asset",
            neighbours=neighbours or {},
        )
