"""Insertion with forward time slack, checked by hand and against recomputing the whole day."""

from __future__ import annotations

import random

import pytest

from tests.oracles.insertion import Route, Stop, best_insertion, forward_slack, schedule

HOUR = 3600.0


def line_route(
    stops: list[Stop], legs: list[float], *, start: float = 8 * HOUR, end: float = 17 * HOUR
) -> Route:
    return Route(start_at=start, stops=stops, end_latest=end, legs=legs)


def test_slack_is_the_tightest_window_ahead_less_the_waits_that_absorb_it() -> None:
    # 8:00 start, 30 min -> A (starts 8:00-9:00, 1 h) -> 30 min -> B (starts 10:30-11:00, 1 h) -> 30 min
    # -> end.
    route = line_route(
        [Stop(8 * HOUR, 9 * HOUR, HOUR), Stop(10.5 * HOUR, 11 * HOUR, HOUR)],
        [0.5 * HOUR, 0.5 * HOUR, 0.5 * HOUR],
    )
    timings = schedule(route)
    assert timings is not None
    assert [(t.arrive / HOUR, t.start / HOUR) for t in timings] == [(8.5, 8.5), (10.0, 10.5), (12.0, 12.0)]
    # A can start 30 min later by its own window; B absorbs 30 min of waiting plus its own 30 min.
    assert [s / HOUR for s in forward_slack(route, timings)] == [0.5, 0.5, 5.0]


def test_the_cheapest_feasible_position_wins_and_says_when_the_job_starts() -> None:
    route = line_route(
        [Stop(8 * HOUR, 9 * HOUR, HOUR), Stop(10.5 * HOUR, 11 * HOUR, HOUR)],
        [0.5 * HOUR, 0.5 * HOUR, 0.5 * HOUR],
    )
    job = Stop(8 * HOUR, 16 * HOUR, 0.5 * HOUR)
    # Between A and B the detour is 10 + 10 - 30 = -10 min: it lies on the way.
    found = best_insertion(route, job, [HOUR, 600, 600], [HOUR, 600, 600])
    assert found is not None
    assert (found.position, found.added_travel_s) == (1, -600)
    assert (found.arrive / HOUR, found.start / HOUR) == pytest.approx((9.5 + 1 / 6, 9.5 + 1 / 6))
    # The job ends 10:10; B arrives 10:20 and still waits for 10:30, so nothing is pushed. The job
    # could start 40 min later: 10 min of B's wait, then B's own 30 min.
    assert found.slack_s == pytest.approx(2400)


def test_a_job_that_would_make_a_later_stop_late_goes_elsewhere_or_nowhere() -> None:
    # A fixed 9:00 visit, done by 10:00 at the end place; the shift ends at 11:00.
    route = line_route([Stop(9 * HOUR, 9 * HOUR, HOUR)], [HOUR, 0], end=11 * HOUR)
    job = Stop(8 * HOUR, 17 * HOUR, HOUR)
    # Before it, the visit would start 10:00; after it, the day would end 11:45.
    assert best_insertion(route, job, [0.5 * HOUR, 0], [0.5 * HOUR, 0.75 * HOUR]) is None
    # With the end place 30 min away instead, it fits after the visit, ending 11:00 sharp.
    found = best_insertion(route, job, [0.5 * HOUR, 0], [0.5 * HOUR, 0])
    assert found is not None
    assert (found.position, found.start / HOUR, found.slack_s) == (1, 10.0, 0.0)


@pytest.mark.parametrize("seed", range(200))
def test_it_agrees_with_recomputing_the_day_for_every_position(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(0, 7)
    stops = []
    for _ in range(n):
        earliest = rng.uniform(8, 15) * HOUR
        stops.append(
            Stop(earliest, earliest + rng.choice((0.5, 1, 2, 4)) * HOUR, rng.uniform(0.25, 1.5) * HOUR)
        )
    stops.sort(key=lambda s: s.earliest)
    legs = [rng.uniform(0, 0.6) * HOUR for _ in range(n + 1)]
    route = line_route(stops, legs, start=7.5 * HOUR, end=rng.uniform(15, 19) * HOUR)
    job = Stop(rng.uniform(8, 16) * HOUR, 0, rng.uniform(0.25, 1.5) * HOUR)
    job = Stop(job.earliest, job.earliest + rng.choice((0.5, 2, 6)) * HOUR, job.duration)
    to_job = [rng.uniform(0, 0.6) * HOUR for _ in range(n + 1)]
    from_job = [rng.uniform(0, 0.6) * HOUR for _ in range(n + 1)]

    found = best_insertion(route, job, to_job, from_job)

    feasible = []
    if schedule(route) is not None:
        for p in range(n + 1):
            new_legs = [*legs[:p], to_job[p], from_job[p], *legs[p + 1 :]]
            trial = line_route(
                [*stops[:p], job, *stops[p:]], new_legs, start=route.start_at, end=route.end_latest
            )
            timings = schedule(trial)
            if timings is not None:
                feasible.append((to_job[p] + from_job[p] - legs[p], p, timings[p].start))
    if not feasible:
        assert found is None
    else:
        cost, position, _ = min(feasible)
        assert found is not None
        assert found.added_travel_s == pytest.approx(cost)
        assert found.start == pytest.approx(next(s for c, p, s in feasible if p == found.position))
        assert position == found.position or abs(cost - found.added_travel_s) < 1e-6
        # Starting the job as late as its slack says keeps the whole day inside its windows.
        p = found.position
        late = Stop(found.start + found.slack_s - 1e-6, job.latest, job.duration)  # float rounding
        new_legs = [*legs[:p], to_job[p], from_job[p], *legs[p + 1 :]]
        trial = line_route(
            [*stops[:p], late, *stops[p:]], new_legs, start=route.start_at, end=route.end_latest
        )
        assert schedule(trial) is not None
