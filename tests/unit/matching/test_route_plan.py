"""Trying a job in many days at once agrees with the scalar insertion, and keeps breaks."""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Sequence

import numpy as np
import pytest

from dispatch.matching.route_plan import BreakSlot, Day, Insertions, RoutePlans, Visit, build, sequence
from dispatch.travel.sources import Point
from tests.grid_travel import GridTravel
from tests.oracles.insertion import Route, Stop, best_insertion

HOUR = 3600.0


def day(visits: list[Visit], breaks: Sequence[BreakSlot] = (), *, end: float = 17 * HOUR) -> Day:
    return Day(
        technician_id=uuid.uuid4(),
        shift_id=uuid.uuid4(),
        start_point=(0.0, 0.0),
        end_point=(0.0, 0.0),
        start_at=8 * HOUR,
        end_latest=end,
        shift_s=end - 8 * HOUR,
        visits=visits,
        breaks=list(breaks),
    )


def visit(
    point: Point, earliest: float, latest: float, duration: float, planned: float | None = None
) -> Visit:
    return Visit(uuid.uuid4(), point, earliest, latest, duration, planned_start=planned)


async def try_job(
    plans: RoutePlans, point: Point, earliest: float, latest: float, duration: float
) -> Insertions:
    travel = GridTravel()
    before_lat, before_lon = plans.places_before()
    after_lat, after_lon = plans.places_after()
    rows, width = plans.size
    to_job = travel.seconds(np.stack([before_lat, before_lon], axis=-1), np.asarray(point))
    from_job = travel.seconds(np.stack([after_lat, after_lon], axis=-1), np.asarray(point))
    assert to_job.shape == (rows, width)
    return plans.insert(
        earliest=earliest, latest=latest, duration_s=duration, to_job=to_job, from_job=from_job
    )


async def test_random_days_give_the_same_best_position_as_the_scalar_insertion() -> None:
    rng = random.Random(11)
    days = []
    for _ in range(300):
        visits = []
        clock = 8 * HOUR
        for _ in range(rng.randint(0, 8)):
            clock += rng.uniform(0.1, 1.5) * HOUR
            width = rng.choice([0.0, 0.5, 2.0, 6.0]) * HOUR
            point = (rng.uniform(-1, 1), rng.uniform(-1, 1))
            visits.append(visit(point, clock - width / 2, clock + width / 2, rng.uniform(0.25, 1.5) * HOUR))
        days.append(day(visits, end=rng.uniform(14, 20) * HOUR))
    plans = await build(days, GridTravel())
    for _ in range(20):
        point = (rng.uniform(-1, 1), rng.uniform(-1, 1))
        earliest = rng.uniform(8, 15) * HOUR
        latest = earliest + rng.choice([0.0, 1.0, 4.0]) * HOUR
        duration = rng.uniform(0.25, 2) * HOUR
        found = await try_job(plans, point, earliest, latest, duration)
        position, ok = found.best()
        for r, one in enumerate(days):
            places = [one.start_point, *(v.point for v in one.visits), one.end_point]
            route = Route(
                start_at=one.start_at,
                stops=[Stop(v.earliest, v.latest, v.duration_s) for v in one.visits],
                end_latest=one.end_latest,
                legs=[1000 * (abs(a[0] - b[0]) + abs(a[1] - b[1])) for a, b in itertools.pairwise(places)],
            )
            to_job = [1000 * (abs(p[0] - point[0]) + abs(p[1] - point[1])) for p in places[:-1]]
            from_job = [1000 * (abs(p[0] - point[0]) + abs(p[1] - point[1])) for p in places[1:]]
            scalar = best_insertion(route, Stop(earliest, latest, duration), to_job, from_job)
            assert ok[r] == (scalar is not None)
            if scalar is not None:
                p = position[r]
                assert found.added[r, p] == pytest.approx(scalar.added_travel_s, abs=1e-6)
                # Equally cheap positions are common on a grid; compare times at the scalar's choice.
                q = scalar.position
                assert found.ok[r, q]
                assert found.start[r, q] == pytest.approx(scalar.start)
                assert found.slack[r, q] == pytest.approx(scalar.slack_s, abs=1e-6)


def test_a_break_goes_before_the_first_visit_that_would_end_after_its_latest_start() -> None:
    # Break 30 min, to start between 11:30 and 13:00. Visits planned 9:00 (1 h), 11:00 (1 h), 13:00.
    one = day(
        [
            visit((0.1, 0), 8 * HOUR, 10 * HOUR, HOUR, planned=9 * HOUR),
            visit((0.2, 0), 8 * HOUR, 12 * HOUR, HOUR, planned=11 * HOUR),
            visit((0.3, 0), 8 * HOUR, 16 * HOUR, HOUR, planned=13 * HOUR),
        ],
        [BreakSlot(11.5 * HOUR, 13 * HOUR, 1800)],
    )
    kinds = [("break" if s.visit is None else "visit", s.point) for s in sequence(one)]
    assert kinds == [("visit", (0.1, 0)), ("visit", (0.2, 0)), ("break", (0.2, 0)), ("visit", (0.3, 0))]


async def test_a_job_may_go_before_a_break_which_then_is_taken_where_the_job_was() -> None:
    # 8:00 at (0,0); a break that must start 9:00-9:30 for 30 min; then a visit at (0.5,0) fixed 12:00.
    one = day(
        [visit((0.5, 0), 12 * HOUR, 12 * HOUR, HOUR, planned=12 * HOUR)],
        [BreakSlot(9 * HOUR, 9.5 * HOUR, 1800)],
    )
    plans = await build([one], GridTravel())
    assert plans.n[0] == 2
    assert plans.is_break[0, 0]
    # A 1 h job at (0.1,0) that must start by 8:30: only before the break. It starts 8:06:40, ends
    # 9:06:40, the break follows there until 9:36:40, then 400 s to the visit: no push at 12:00.
    found = await try_job(plans, (0.1, 0), 8 * HOUR, 8.5 * HOUR, HOUR)
    position, ok = found.best()
    assert ok[0]
    assert position[0] == 0
    assert found.start[0, 0] == pytest.approx(8 * HOUR + 100)
    # The same job lasting 1.5 h would start the break at 9:36:40, past its 9:30 latest start.
    found = await try_job(plans, (0.1, 0), 8 * HOUR, 8.5 * HOUR, 1.5 * HOUR)
    assert not found.best()[1][0]


async def test_nothing_goes_before_a_visit_the_technician_is_already_on() -> None:
    on_site = Visit(uuid.uuid4(), (0.5, 0), 8 * HOUR, 9 * HOUR, HOUR, locked=True)
    plans = await build([day([on_site])], GridTravel())
    found = await try_job(plans, (0.0, 0), 8 * HOUR, 16 * HOUR, 0.5 * HOUR)
    position, ok = found.best()
    assert ok[0]
    assert position[0] == 1
