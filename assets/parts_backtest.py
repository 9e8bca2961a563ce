"""Replay past visits in time order, predicting each from only what came before it.

First-visit coverage: the share of visits where every part actually used was predicted with at
least the threshold probability, in at least the quantity used. Extra parts: predicted lines at
or above the threshold that the visit did not use (a pair of springs or a box of rollers counts
once). The baseline carries, for each problem, the parts used in at least the threshold share of
its past visits, whatever the asset.

A visit that used no part is covered by carrying nothing, so it flatters coverage: every figure
is also given over the visits that used a part. The fitment rules of a visit are those the
asset's record gave just before it (the caller supplies them per visit), never today's record.

One pass serves every threshold: per visit the replay keeps the highest threshold that still
covers it and the probabilities of the lines it did not use; sorted once at the end, each
threshold's figures are two binary searches, so any number of thresholds costs the replay
nothing and it stays linear in the number of visits.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from assets.parts_evidence import EvidenceBook, Visit
from assets.parts_prediction import Fitting, PartRef, UsageCounts, predict_parts

FittingsFor = Callable[[Visit], Sequence[Fitting]]


@dataclass(frozen=True)
class Score:
    visits: int
    covered: int
    extra_lines: int

    @property
    def coverage(self) -> float:
        return self.covered / self.visits if self.visits else 0.0

    @property
    def extra_per_visit(self) -> float:
        return self.extra_lines / self.visits if self.visits else 0.0


@dataclass(frozen=True)
class ProblemScore:
    problem_code: str
    model: Score  # over the problem's visits that used a part
    baseline: Score
    no_part_visits: int


@dataclass(frozen=True)
class BacktestResult:
    threshold: float
    model: Score  # every visit, those that used no part included
    baseline: Score
    model_used_parts: Score  # only the visits that used a part
    baseline_used_parts: Score
    by_problem: tuple[ProblemScore, ...] = ()

    @property
    def no_part_visits(self) -> int:
        return self.model.visits - self.model_used_parts.visits


@dataclass(frozen=True)
class _Judged:
    """One visit's outcome for every threshold at once."""

    covered_up_to: float  # covered at any threshold <= this (inf when nothing was used)
    extra: list[float]  # probabilities (shares) of the lines offered but not used


def _judge(offered: Mapping[UUID, tuple[float, int]], used: Mapping[UUID, int]) -> _Judged:
    """`offered`: part -> (probability, quantity) of what would be carried at a low enough threshold."""
    covered_up_to = float("inf")
    for part_id, quantity in used.items():
        probability, carried = offered.get(part_id, (0.0, 0))
        covered_up_to = min(covered_up_to, probability if carried >= quantity else float("-inf"))
    return _Judged(covered_up_to, [p for pid, (p, _) in offered.items() if pid not in used])


def _baseline_offer(counts: UsageCounts | None) -> dict[UUID, tuple[float, int]]:
    """Each part the problem's past visits used: its share of them and its most usual quantity."""
    if counts is None or counts.jobs == 0:
        return {}
    offered: dict[UUID, tuple[float, int]] = {}
    for pid, n in counts.part_jobs.items():
        by_quantity = counts.part_quantities[pid]
        offered[pid] = (n / counts.jobs, max(by_quantity, key=lambda q: (by_quantity[q], -q)))
    return offered


@dataclass
class _Tally:
    """Visits judged so far; a threshold's score is two binary searches in the sorted values."""

    covered_up_to: list[float] = field(default_factory=list)
    extra: list[float] = field(default_factory=list)
    _sorted: bool = True

    def add(self, judged: _Judged) -> None:
        self.covered_up_to.append(judged.covered_up_to)
        self.extra.extend(judged.extra)
        self._sorted = False

    @property
    def visits(self) -> int:
        return len(self.covered_up_to)

    def score(self, threshold: float) -> Score:
        if not self._sorted:
            self.covered_up_to.sort()
            self.extra.sort()
            self._sorted = True
        covered = self.visits - bisect_left(self.covered_up_to, threshold)
        extra = len(self.extra) - bisect_left(self.extra, threshold)
        return Score(self.visits, covered, extra)


@dataclass
class _Tallies:
    """Model and baseline, over every visit and over those that used a part."""

    model: _Tally = field(default_factory=_Tally)
    baseline: _Tally = field(default_factory=_Tally)
    model_used: _Tally = field(default_factory=_Tally)
    baseline_used: _Tally = field(default_factory=_Tally)


def _fittings_from(fittings: FittingsFor | Mapping[UUID, Sequence[Fitting]]) -> FittingsFor:
    if callable(fittings):
        return fittings
    by_asset = fittings
    return lambda visit: by_asset.get(visit.asset_id, ())


def backtest(
    visits: Sequence[Visit],
    fittings: FittingsFor | Mapping[UUID, Sequence[Fitting]],
    usual_families: Mapping[tuple[str, str], frozenset[str]],
    thresholds: Sequence[float],
    *,
    progress: Callable[[int], None] | None = None,
    carry: bool = False,
    neighbours: Mapping[UUID, Sequence[PartRef]] | None = None,
) -> list[BacktestResult]:
    """`fittings`: the fitment rules' parts for a visit (as its asset's record stood just before
    it), or a mapping by asset when the record is taken as it is today. With `carry`, the
    thresholds are costs of an extra line and a line is carried while its carry value is above
    the threshold (parts_carry); otherwise they are probabilities."""
    fittings_for = _fittings_from(fittings)
    book = EvidenceBook(usual_families=usual_families)
    overall = _Tallies()
    by_problem: dict[str, _Tallies] = {}
    for index, visit in enumerate(sorted(visits, key=lambda v: v.finished_at)):
        predicted = predict_parts(
            book.evidence(
                asset_id=visit.asset_id,
                make=visit.make,
                model=visit.model,
                problem_code=visit.problem_code,
                choice=visit.choice,
                fittings=fittings_for(visit),
                neighbours=neighbours or {},
            )
        )
        used: dict[UUID, int] = {}
        for part, quantity in visit.parts:
            used[part.part_id] = used.get(part.part_id, 0) + quantity
        model = _judge(
            {p.part.part_id: (p.carry_value if carry else p.probability, p.quantity) for p in predicted}, used
        )
        base = _baseline_offer(book.fleet.get((visit.problem_code, visit.choice or "")))
        baseline = _judge(base, used)
        problem = by_problem.setdefault(visit.problem_code, _Tallies())
        for tallies in (overall, problem):
            tallies.model.add(model)
            tallies.baseline.add(baseline)
            if used:
                tallies.model_used.add(model)
                tallies.baseline_used.add(baseline)
        book.add(visit)
        if progress and index % 500 == 0:
            progress(index)
    return [
        BacktestResult(
            threshold=t,
            model=overall.model.score(t),
            baseline=overall.baseline.score(t),
            model_used_parts=overall.model_used.score(t),
            baseline_used_parts=overall.baseline_used.score(t),
            by_problem=tuple(
                ProblemScore(
                    problem_code=code,
                    model=tallies.model_used.score(t),
                    baseline=tallies.baseline_used.score(t),
                    no_part_visits=tallies.model.visits - tallies.model_used.visits,
                )
                for code, tallies in sorted(by_problem.items())
            ),
        )
        for t in thresholds
    ]
