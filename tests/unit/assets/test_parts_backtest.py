"""The backtest's bookkeeping, one rule per test, on hand-built visits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID, uuid4

from assets.parts_backtest import backtest
from assets.parts_evidence import Visit
from assets.parts_prediction import Fitting, PartRef

SPR_218 = PartRef(uuid4(), "SPR-218", "Torsion spring .218", "torsion_spring")
CABLE = PartRef(uuid4(), "CAB-7", "Lift cables 7 ft", "lift_cable")
SPRINGS = frozenset({"torsion_spring", "lift_cable"})
USUAL = {("broken_spring", ""): SPRINGS, ("cable_snapped", ""): frozenset({"lift_cable"})}


def visit(
    asset: UUID, parts: list[tuple[PartRef, int]], day: int, *, problem_code: str = "broken_spring"
) -> Visit:
    return Visit(
        job_id=uuid4(),
        asset_id=asset,
        make="Clopay",
        model="Classic Steel 4050",
        problem_code=problem_code,
        choice=None,
        finished_at=datetime(2020, 1, day, tzinfo=UTC),
        parts=parts,
    )


def springs_fit(doors: Sequence[UUID]) -> dict[UUID, list[Fitting]]:
    return {d: [Fitting(part=SPR_218, quantity=2, rule="spring_size = 218")] for d in doors}


def test_visits_that_used_no_part_are_counted_apart_and_always_covered() -> None:
    doors = [uuid4() for _ in range(6)]
    visits = [visit(d, [(SPR_218, 2)] if i % 3 else [], i + 1) for i, d in enumerate(doors)]
    [result] = backtest(visits, springs_fit(doors), USUAL, [0.5])
    # Days 1 and 4 used nothing: 2 of 6 visits, covered by carrying nothing.
    assert result.no_part_visits == 2
    assert (result.model.visits, result.model_used_parts.visits) == (6, 4)
    assert result.model.covered == result.model_used_parts.covered + 2
    assert result.baseline.covered == result.baseline_used_parts.covered + 2


def test_several_thresholds_in_one_replay_score_as_separate_replays_would() -> None:
    doors = [uuid4() for _ in range(8)]
    visits = [
        visit(d, [(SPR_218, 2), (CABLE, 1)] if i % 2 else [(SPR_218, 2)], i + 1) for i, d in enumerate(doors)
    ]
    together = backtest(visits, springs_fit(doors), USUAL, [0.2, 0.5, 0.8])
    apart = [backtest(visits, springs_fit(doors), USUAL, [t])[0] for t in (0.2, 0.5, 0.8)]
    assert [r.threshold for r in together] == [0.2, 0.5, 0.8]
    assert together == apart
    # Carrying more never covers less.
    assert together[0].model.covered >= together[1].model.covered >= together[2].model.covered


def test_each_problem_gets_its_own_coverage_and_extra_parts() -> None:
    doors = [uuid4() for _ in range(6)]
    visits = [
        visit(d, [(CABLE, 1)], i + 1, problem_code="cable_snapped")
        if i < 2
        else visit(d, [(SPR_218, 2)] if i < 5 else [], i + 1)
        for i, d in enumerate(doors)
    ]
    [result] = backtest(visits, springs_fit(doors), USUAL, [0.5])
    by_code = {p.problem_code: p for p in result.by_problem}
    assert list(by_code) == ["broken_spring", "cable_snapped"]
    # broken_spring: days 3-5 used springs, day 6 nothing; cable_snapped: days 1-2 used a cable.
    assert (by_code["broken_spring"].model.visits, by_code["broken_spring"].no_part_visits) == (3, 1)
    assert (by_code["cable_snapped"].model.visits, by_code["cable_snapped"].no_part_visits) == (2, 0)
    assert sum(p.model.covered for p in result.by_problem) == result.model_used_parts.covered
    assert sum(p.baseline.extra_lines for p in result.by_problem) == result.baseline_used_parts.extra_lines


def test_each_visit_is_judged_with_the_fittings_given_for_that_visit() -> None:
    # One door, one visit: with nothing on record before it, only the fitment could name the
    # spring; the 0.5 prior alone names no part, so the visit is covered only with the fitting.
    door = uuid4()
    only = visit(door, [(SPR_218, 2)], 1)
    asked: list[Visit] = []

    def record_before(v: Visit) -> list[Fitting]:
        asked.append(v)
        return []

    [blind] = backtest([only], record_before, USUAL, [0.5])
    [told] = backtest([only], springs_fit([door]), USUAL, [0.5])
    assert asked == [only]
    assert (blind.model.covered, told.model.covered) == (0, 1)
