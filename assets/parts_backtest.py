"""Replay past visits in time order, predicting each from only what came before it.

First-visit coverage: the share of visits where every part actually used was predicted with at
least the threshold probability, in at least the quantity used. Extra parts: predicted lines at
or above the threshold that the visit did not use (a pair of springs or a box of rollers counts
once). The baseline carries, for each problem, the parts used in at least the threshold share of
its past visits, whatever the asset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from assets.parts_evidence import EvidenceBook, Visit
from assets.parts_prediction import Fitting, predict_parts


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
class BacktestResult:
    threshold: float
    model: Score
    baseline: Score


Carried = dict[UUID, int]  # part -> quantity


def _score(carried: Carried, visit: Visit) -> tuple[bool, int]:
    used = {p.part_id: q for p, q in visit.parts}
    covered = all(carried.get(pid, 0) >= q for pid, q in used.items())
    return covered, sum(1 for pid in carried if pid not in used)


def _baseline(book: EvidenceBook, visit: Visit, threshold: float) -> Carried:
    counts = book.fleet.get((visit.problem_code, visit.choice or ""))
    if counts is None or counts.jobs == 0:
        return {}
    carried: Carried = {}
    for pid, n in counts.part_jobs.items():
        if n / counts.jobs >= threshold:
            by_quantity = counts.part_quantities[pid]
            carried[pid] = max(by_quantity, key=lambda q: (by_quantity[q], -q))
    return carried


def backtest(
    visits: Sequence[Visit],
    fittings: Mapping[UUID, Sequence[Fitting]],
    usual_families: Mapping[tuple[str, str], frozenset[str]],
    thresholds: Sequence[float],
    *,
    progress: Callable[[int], None] | None = None,
) -> list[BacktestResult]:
    book = EvidenceBook(usual_families=usual_families)
    model_scores = {t: [0, 0] for t in thresholds}
    base_scores = {t: [0, 0] for t in thresholds}
    for index, visit in enumerate(sorted(visits, key=lambda v: v.finished_at)):
        predicted = predict_parts(
            book.evidence(
                asset_id=visit.asset_id,
                make=visit.make,
                model=visit.model,
                problem_code=visit.problem_code,
                choice=visit.choice,
                fittings=fittings.get(visit.asset_id, ()),
            )
        )
        for threshold in thresholds:
            carried = {p.part.part_id: p.quantity for p in predicted if p.probability >= threshold}
            covered, extra = _score(carried, visit)
            model_scores[threshold][0] += covered
            model_scores[threshold][1] += extra
            covered, extra = _score(_baseline(book, visit, threshold), visit)
            base_scores[threshold][0] += covered
            base_scores[threshold][1] += extra
        book.add(visit)
        if progress and index % 500 == 0:
            progress(index)
    n = len(visits)
    return [
        BacktestResult(
            threshold=t,
            model=Score(n, model_scores[t][0], model_scores[t][1]),
            baseline=Score(n, base_scores[t][0], base_scores[t][1]),
        )
        for t in thresholds
    ]
