"""The hard rules and the cost terms have one definition: matching's array pass over the fleet,
the check of one technician at a time, and the optimizer all give the same answers."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from dispatch.matching import eligibility, match_cost
from dispatch.matching.candidates import JobToPlace, MatchSettings, Ranking
from dispatch.matching.eligibility import Exclusion
from dispatch.matching.fleet_view import FleetView
from dispatch.matching.ranking import Matcher
from dispatch.matching.route_plan import Day
from dispatch.matching.route_queries import TechnicianRow
from dispatch.planning import day_plan, optimizer
from dispatch.planning.day_plan import DayProblem, JobToPlan, TechnicianDay
from dispatch.travel.sources import distances_m
from tests.grid_travel import GridTravel
from tests.oracles.eligibility import JobFacts, TechnicianFacts, WorkWindow, exclusion

HOUR = 3600
NORTH, SOUTH = uuid.uuid4(), uuid.uuid4()
SKILLS = ("garage_door_springs", "openers", "adas_calibration")
REACH_KM = 15.0

levels = st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 5), max_size=3)
mostly = st.sampled_from([True, True, True, False])  # most technicians pass a rule, so later rules count


@dataclass(frozen=True)
class Person:
    active: bool
    north: bool
    skills: dict[str, int]
    home: tuple[int, int]  # hundredths of a degree from the door
    banned: bool
    shift: tuple[int, int] | None  # starting minute of the day, minutes long


@dataclass(frozen=True)
class Wanted:
    skills: dict[str, int]
    territory: uuid.UUID | None
    opens: int  # minute of the day
    window: int  # minutes
    duration_min: int


people_strategy = st.lists(
    st.builds(
        Person,
        active=mostly,
        north=st.booleans(),
        skills=levels,
        # Homes up to 0.3 degrees (about 33 km) from the door, so the reach decides.
        home=st.tuples(st.integers(-30, 30), st.integers(-30, 30)),
        banned=mostly.map(lambda passes: not passes),
        shift=st.none() | st.tuples(st.integers(5 * 60, 14 * 60), st.integers(2 * 60, 10 * 60)),
    ),
    min_size=1,
    max_size=8,
)
wanted_strategy = st.builds(
    Wanted,
    skills=st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 3), max_size=2),
    territory=st.sampled_from([NORTH, SOUTH, None]),
    opens=st.integers(6 * 60, 16 * 60),
    window=st.integers(0, 4 * 60),
    duration_min=st.integers(15, 240),
)


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@settings(max_examples=300, deadline=None)
@given(people_strategy, wanted_strategy)
def test_matching_counts_each_technician_where_the_one_at_a_time_check_puts_them(
    people: list[Person], wanted: Wanted
) -> None:
    rows: list[TechnicianRow] = []
    days: list[Day] = []
    facts: list[TechnicianFacts] = []
    for i, p in enumerate(people):
        home = (p.home[0] / 100, p.home[1] / 100)
        row = TechnicianRow(
            id=uuid.uuid4(),
            name=f"tech {i:02}",
            territory_id=NORTH if p.north else SOUTH,
            active=p.active,
            home=home,
            skills=p.skills,
        )
        rows.append(row)
        shifts = []
        if p.shift is not None:
            start, end = p.shift[0] * 60, (p.shift[0] + p.shift[1]) * 60
            days.append(
                Day(
                    technician_id=row.id,
                    shift_id=uuid.uuid4(),
                    start_point=home,
                    end_point=home,
                    start_at=start,
                    end_latest=end,
                    shift_s=end - start,
                )
            )
            shifts.append(WorkWindow(at(start), at(end)))
        facts.append(
            TechnicianFacts(
                id=row.id, active=row.active, territory_id=row.territory_id, skills=row.skills, shifts=shifts
            )
        )
    banned = frozenset(r.id for r, p in zip(rows, people, strict=True) if p.banned)
    opens, closes = wanted.opens * 60, (wanted.opens + wanted.window) * 60
    duration_s = wanted.duration_min * 60
    place = JobToPlace(
        id=uuid.uuid4(),
        point=(0.0, 0.0),
        earliest=opens,
        latest=closes,
        duration_s=duration_s,
        required_skills=wanted.skills,
        territory_id=wanted.territory,
        excluded=banned,
    )
    job = JobFacts(
        required_skills=wanted.skills,
        window_start_at=at(opens),
        window_end_at=at(closes),
        duration=timedelta(seconds=duration_s),
        territory_id=wanted.territory,
        excluded_technicians=banned,
    )
    homes = np.array([r.home for r in rows], dtype=np.float64)
    kms = (distances_m(place.point, homes) / 1000).tolist()
    one_at_a_time = Counter(
        exclusion(f, job, distance_km=km, reach_km=REACH_KM) for f, km in zip(facts, kms, strict=True)
    )

    ranking = asyncio.run(_rank(place, rows, days))

    expected = {k.value: n for k, n in one_at_a_time.items() if k is not None}
    no_room = ranking.excluded.pop(Exclusion.NO_ROOM.value, 0)
    assert ranking.excluded == expected
    # Matching also says who is on shift but has no room; the check of one technician stops at the shift.
    assert ranking.eligible + no_room == one_at_a_time[None]


async def _rank(place: JobToPlace, rows: list[TechnicianRow], days: list[Day]) -> Ranking:
    fleet = await FleetView.build(rows, days, GridTravel())
    return await Matcher(place, MatchSettings(reach_km=REACH_KM), GridTravel()).rank(fleet, {}, [], limit=100)


finite = st.floats(0, 20_000, allow_nan=False)
share = st.floats(0, 1, allow_nan=False)
weights = st.builds(match_cost.Weights, *(st.floats(0, 3, allow_nan=False) for _ in range(6)))


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(finite, finite, share, st.integers(0, 8), st.booleans(), st.booleans(), finite), min_size=1
    ),
    weights,
    st.floats(1, 14_400, allow_nan=False),
)
def test_each_cost_term_of_a_batch_is_the_term_of_each_candidate_alone(
    candidates: list[tuple[float, float, float, int, bool, bool, float]],
    w: match_cost.Weights,
    horizon_s: float,
) -> None:
    def column(k: int) -> np.ndarray:
        return np.array([c[k] for c in candidates], dtype=np.float64)

    def terms(*values: np.ndarray) -> np.ndarray:
        added, slack, coverage, over, served, preferred, booked = values
        return np.stack(
            [
                match_cost.travel(added, w),
                match_cost.lateness_risk(slack, horizon_s, w),
                match_cost.parts(coverage, w),
                match_cost.overqualification(over, w),
                match_cost.continuity(served, preferred, w),
                match_cost.workload(booked, 1800, np.full(len(added), 8 * HOUR, dtype=np.float64), w),
            ]
        )

    batch = terms(*(column(k) for k in range(7)))
    for i, c in enumerate(candidates):
        alone = terms(*(np.array([v], dtype=np.float64) for v in c))
        assert np.array_equal(batch[:, i], alone[:, 0])
        # The prices as the trade states them, one candidate in plain arithmetic.
        added, slack, coverage, over, served, preferred, booked = c
        assert alone[:, 0].tolist() == pytest.approx(
            [
                w.travel * added / 60,
                w.lateness * 0.5 * max(0.0, horizon_s - slack) / 60,
                w.parts * 60 * (1 - coverage),
                w.overqualification * 5 * over,
                -w.continuity * (20 * served + 30 * preferred),
                w.workload * 30 * min(1.0, (booked + 1800) / (8 * HOUR)),
            ]
        )
    placement = match_cost.placement(column(0), column(1), column(2), horizon_s, w)
    assert np.array_equal(placement, batch[0] + batch[1] + batch[2])


def _level_four_job() -> tuple[list[TechnicianRow], JobToPlace, DayProblem]:
    """A job needing openers at level 4 that only Cy has; Ann has 3, Bob none at all."""
    needs = {"openers": 4}
    rows = [
        TechnicianRow(
            id=uuid.uuid4(), name=name, territory_id=NORTH, active=True, home=(0.0, 0.0), skills=skills
        )
        for name, skills in (
            ("Ann", {"openers": 3}),
            ("Bob", {"garage_door_springs": 5}),
            ("Cy", {"openers": 4}),
        )
    ]
    place = JobToPlace(
        id=uuid.uuid4(),
        point=(0.0, 0.0),
        earliest=8 * HOUR,
        latest=12 * HOUR,
        duration_s=HOUR,
        required_skills=needs,
        territory_id=NORTH,
    )
    problem = DayProblem(
        [TechnicianDay(r.name, 0, 0, 8 * HOUR, 16 * HOUR, skills=r.skills) for r in rows],
        [JobToPlan("door", 0, 8 * HOUR, 12 * HOUR, HOUR, needs)],
        np.zeros((1, 1), dtype=np.int64),
        np.zeros((1, 1), dtype=np.int64),
    )
    return rows, place, problem


async def _matching_and_optimizer(
    rows: list[TechnicianRow], place: JobToPlace, problem: DayProblem
) -> tuple[set[str], set[str], set[object]]:
    days = [
        Day(
            technician_id=r.id,
            shift_id=uuid.uuid4(),
            start_point=r.home,
            end_point=r.home,
            start_at=8 * HOUR,
            end_latest=16 * HOUR,
            shift_s=8 * HOUR,
        )
        for r in rows
    ]
    ranking = await _rank(place, rows, days)
    may_serve = {t.id for t in problem.technicians if day_plan.may_serve(t, problem.jobs[0])}
    plan = optimizer.solve(problem, time_limit_s=5, iterations=50)
    planned = {route.technician_id for route in plan.routes if route.visits}
    return {c.name for c in ranking.candidates}, {str(x) for x in may_serve}, planned


async def test_a_skill_level_only_one_technician_has_gives_matching_and_the_optimizer_the_same_one() -> None:
    rows, place, problem = _level_four_job()
    matched, may_serve, planned = await _matching_and_optimizer(rows, place, problem)
    assert matched == may_serve == planned == {"Cy"}


async def test_matching_and_the_optimizer_read_the_skill_rule_from_one_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Were the rule to stop asking for levels, both would let anyone take the job: neither keeps a copy.
    monkeypatch.setattr(
        eligibility, "lacking_skill", lambda table, required: np.zeros(len(table.levels), dtype=bool)
    )
    rows, place, problem = _level_four_job()
    matched, may_serve, planned = await _matching_and_optimizer(rows, place, problem)
    assert matched == may_serve == {"Ann", "Bob", "Cy"}
    assert len(planned) == 1
