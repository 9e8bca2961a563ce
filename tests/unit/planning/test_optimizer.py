"""The day optimizer on small days worked out by hand, one rule per test.

The solver is a parameter: these tests are the contract any engine behind dispatch.planning.optimizer
must keep, and every plan also passes the independent check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from dispatch.planning import optimizer
from dispatch.planning.day_plan import (
    Break,
    DayProblem,
    InHand,
    JobToPlan,
    Plan,
    Route,
    TechnicianDay,
    Visit,
    faults,
    resequence,
    schedule,
)
from dispatch.planning.plan_check import check

Solver = Callable[..., Plan]
SOLVERS = [pytest.param(optimizer.solve, id="pyvrp")]
H = 3600
SHIFT = (0, 8 * H)  # 8:00 to 16:00


def line(*km: float) -> tuple[np.ndarray, np.ndarray]:
    """Places along a road at these kilometres; driven at 36 km/h (100 s a kilometre)."""
    at = np.asarray(km)
    metres = np.abs(at[:, None] - at[None, :]) * 1000
    return (metres / 10).astype(np.int64), metres.astype(np.int64)


def tech(name: str, place: int, **changes: Any) -> TechnicianDay:
    base = TechnicianDay(name, place, place, *SHIFT, skills={"garage_door": 3})
    return replace(base, **changes)


def job(name: str, place: int, window: tuple[float, float] = (0, 8), **changes: Any) -> JobToPlan:
    base = JobToPlan(name, place, int(window[0] * H), int(window[1] * H), 3600, {"garage_door": 1})
    return replace(base, **changes)


def day(places: tuple[float, ...], techs: list[TechnicianDay], jobs: list[JobToPlan]) -> DayProblem:
    travel, distance = line(*places)
    return DayProblem(techs, jobs, travel, distance)


def planned(solve: Solver, problem: DayProblem, seed: int = 1) -> Plan:
    plan = solve(problem, time_limit_s=0.2, seed=seed)
    assert check(problem, plan) == []
    return plan


def owner(plan: Plan, job_id: str) -> object:
    return next(r.technician_id for r in plan.routes if any(v.job_id == job_id for v in r.visits))


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_skill_level_too_low_keeps_the_nearer_technician_off_the_job(solve: Solver) -> None:
    # Ann lives 1 km from the door but has level 2; Bob, 20 km away, has the level 3 it needs.
    problem = day(
        (0, 20, 1),
        [tech("ann", 0, skills={"garage_door": 2}), tech("bob", 1)],
        [job("door", 2, required_skills={"garage_door": 3})],
    )
    assert owner(planned(solve, problem), "door") == "bob"


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_pin_holds_against_a_cheaper_technician(solve: Solver) -> None:
    problem = day((0, 20, 1), [tech("ann", 0), tech("bob", 1)], [job("door", 2, pinned_to="bob")])
    assert owner(planned(solve, problem), "door") == "bob"


@pytest.mark.parametrize("solve", SOLVERS)
def test_parts_steer_a_job_to_the_van_that_carries_them(solve: Solver) -> None:
    # The spring is 90% likely: only Bob's van has one. The opener's 30% is not loaded, so the
    # opener, on Ann's side of the road, is hers.
    problem = day(
        (0, 20, 1, -2),
        [tech("ann", 0), tech("bob", 1, van={"spring": 1})],
        [job("door", 2, parts={"spring": 0.9}), job("opener", 3, parts={"remote": 0.3})],
    )
    plan = planned(solve, problem)
    assert (owner(plan, "door"), owner(plan, "opener")) == ("bob", "ann")


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_van_with_one_spring_serves_one_spring_job(solve: Solver) -> None:
    problem = day(
        (0, 1, 2),
        [tech("ann", 0, van={"spring": 1}), tech("bob", 0, van={"spring": 1})],
        [job("door", 1, parts={"spring": 0.9}), job("gate", 2, parts={"spring": 0.8})],
    )
    plan = planned(solve, problem)
    assert {owner(plan, "door"), owner(plan, "gate")} == {"ann", "bob"}


@pytest.mark.parametrize("solve", SOLVERS)
def test_every_published_day_holds_its_break_inside_the_break_window(solve: Solver) -> None:
    # Jobs at 8, 9:30 and 13:00 (windows of half an hour); lunch of 30 min between 11:30 and 13:00.
    lunch = Break(int(3.5 * H), 5 * H, 1800)
    problem = day(
        (0, 1, 2, 3),
        [tech("ann", 0, breaks=(lunch,))],
        [job("a", 1, (0, 0.5)), job("b", 2, (1.5, 2)), job("c", 3, (5, 5.5))],
    )
    (route,) = planned(solve, problem).routes
    (taken,) = route.breaks
    assert lunch.earliest_s <= taken.start_s <= lunch.latest_s
    assert taken.end_s - taken.start_s == 1800
    # After b (ends 10:30 at the earliest), before the drive to c.
    assert taken.after == 2


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_started_job_stays_first_with_its_technician_and_the_day_goes_on_from_it(solve: Solver) -> None:
    # Ann is on site 5 km out until 9:00; Bob is at the depot. The new job is next door to Ann's.
    problem = day(
        (0, 5, 5.5),
        [tech("ann", 0, in_hand=InHand("started", 1, 0, H)), tech("bob", 0)],
        [job("next door", 2)],
    )
    plan = planned(solve, problem)
    ann = plan.route_of("ann")
    assert ann is not None
    assert ann.visits[0] == Visit("started", 0, 0, H)
    assert owner(plan, "next door") == "ann"
    assert ann.visits[1].arrive_s == H + 50  # 0.5 km after the job in hand ends


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_job_pinned_to_a_time_starts_then(solve: Solver) -> None:
    problem = day((0, 1), [tech("ann", 0)], [job("door", 1, pinned_start_s=2 * H)])
    (route,) = planned(solve, problem).routes
    assert route.visits[0].start_s == 2 * H


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_job_that_cannot_be_planned_says_why(solve: Solver) -> None:
    problem = day(
        (0, 1, 300),
        [tech("ann", 0)],
        [
            job("furnace", 1, required_skills={"hvac": 1}, mandatory=False),
            job("far", 2, (0, 0.5), mandatory=False),  # 300 km: 8 h 20 min of driving
            job("spring", 1, parts={"spring": 1.0}, mandatory=False),
            job("door", 1),
        ],
    )
    plan = planned(solve, problem)
    assert plan.unplanned == {
        "furnace": optimizer.NO_ONE,
        "far": optimizer.TOO_TIGHT,
        "spring": optimizer.NO_PARTS,
    }
    assert owner(plan, "door") == "ann"


@pytest.mark.parametrize("solve", SOLVERS)
def test_a_plan_that_drops_a_promised_job_fails_the_check(solve: Solver) -> None:
    problem = day((0, 1), [tech("ann", 0)], [job("furnace", 1, required_skills={"hvac": 1})])
    plan = solve(problem, time_limit_s=0.2, seed=1)
    assert [(v.rule, v.job_id, v.detail) for v in check(problem, plan)] == [
        ("mandatory", "furnace", optimizer.NO_ONE)
    ]


@pytest.mark.parametrize("solve", SOLVERS)
def test_an_optional_job_waits_when_the_day_is_full_and_a_promised_one_never_does(solve: Solver) -> None:
    # Room for six one-hour jobs in an eight-hour day at the depot's door: seven are asked for.
    jobs = [job(f"promised {i}", 1) for i in range(6)] + [job("whenever", 1, mandatory=False, priority=0)]
    problem = day((0, 0.1), [tech("ann", 0, end_s=6 * H + 20)], jobs)
    plan = planned(solve, problem)
    assert plan.unplanned == {"whenever": optimizer.NO_ROOM}


@pytest.mark.parametrize("solve", SOLVERS)
def test_the_same_seed_and_iterations_give_the_same_plan(solve: Solver) -> None:
    rng = np.random.default_rng(3)
    places = tuple(float(x) for x in rng.uniform(0, 30, 24))
    techs = [tech(f"t{i}", i, breaks=(Break(3 * H, 5 * H, 1800),)) for i in range(4)]
    jobs = [job(f"j{i}", 4 + i, (float(rng.uniform(0, 5)), 8), duration_s=1800) for i in range(20)]
    problem = day(places, techs, jobs)
    # Cut by iterations, not by the clock, which runs differently on a busy machine.
    first, again = (solve(problem, time_limit_s=30, seed=7, iterations=300) for _ in range(2))
    assert first == again
    assert check(problem, first) == []


def test_the_check_names_the_rule_the_job_and_the_technician() -> None:
    problem = day(
        (0, 1),
        [tech("ann", 0, skills={"garage_door": 1}, breaks=(Break(H, 2 * H, 1800),))],
        [job("door", 1, (0, 1), required_skills={"garage_door": 3})],
    )
    # Ann at the door at 3:00, past its window, without the level, and with no lunch.
    visit = Visit("door", 3 * H, 3 * H, 4 * H)
    bad = Plan(routes=(Route("ann", (visit,), (), 0, 4 * H + 100, 200, 2000),), unplanned={})
    found = {(v.rule, v.job_id) for v in check(problem, bad)}
    assert found == {("window", "door"), ("skill", "door"), ("break", None)}


def test_a_day_made_late_by_its_order_and_its_break_is_put_in_an_order_that_keeps_every_window() -> None:
    # All at one door. Half an hour of lunch starting 10:00-10:15; a by 8:30, b by 10:00, c 10:30-11:00.
    problem = day(
        (0, 0.01),
        [tech("ann", 0, breaks=(Break(2 * H, int(2.25 * H), 1800),))],
        [job("a", 1, (0, 0.5)), job("b", 1, (1, 2)), job("c", 1, (2.5, 3))],
    )
    (ann,) = problem.technicians
    assert faults(problem, ann, schedule(problem, ann, ["b", "a", "c"])) > 0
    route = resequence(problem, ann, ["b", "a", "c"])
    assert [v.job_id for v in route.visits] == ["a", "b", "c"]
    assert faults(problem, ann, route) == 0
    assert check(problem, Plan(routes=(route,), unplanned={})) == []


def test_an_optional_job_leaves_a_day_it_would_make_late_and_a_promised_one_stays() -> None:
    # Ann's day has room for the promised job at 9:00 or the optional one, not both before 10.
    problem = day(
        (0, 0.01),
        [tech("ann", 0)],
        [job("promised", 1, (1, 1.1)), job("whenever", 1, (0, 1), mandatory=False, duration_s=2 * H)],
    )
    (ann,) = problem.technicians
    crowded = schedule(problem, ann, ["whenever", "promised"])
    assert faults(problem, ann, crowded) == 1
    kept = optimizer._shed(problem, ann, crowded, {"whenever"})
    assert [v.job_id for v in kept.visits] == ["promised"]
    assert faults(problem, ann, kept) == 0
