"""A day as matching sees it at a given moment: before the shift, under way, on site, late."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime, timedelta

from dispatch.matching.days import build_day
from dispatch.matching.route_queries import ShiftRow, VisitRow

DAY = datetime(2026, 12, 1, tzinfo=UTC)
HOME = (44.9, -93.2)
DOOR = (44.95, -93.25)
TECH = uuid.uuid4()


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


SHIFT = ShiftRow(
    id=uuid.uuid4(),
    technician_id=TECH,
    starts_at=at(8),
    ends_at=at(16),
    start=HOME,
    end=HOME,
    overtime_s=1800,
    breaks=[(at(11), at(14), 1800)],
)


def visit(
    status: str, planned: float, *, window: tuple[float, float] = (8, 12), started: float | None = None
) -> VisitRow:
    return VisitRow(
        job_id=uuid.uuid4(),
        technician_id=TECH,
        status=status,
        point=DOOR,
        window_start_at=at(window[0]),
        window_end_at=at(window[1]),
        duration_s=3600,
        planned_start_at=at(planned),
        pinned_start_at=None,
        started_at=None if started is None else at(started),
        version=1,
    )


def test_before_the_shift_the_day_starts_at_its_start_place_and_time() -> None:
    day = build_day(SHIFT, [visit("scheduled", 9)], now=at(6))
    assert (day.start_point, day.start_at) == (HOME, at(8).timestamp())
    assert day.end_latest == at(16.5).timestamp()
    assert [b.latest for b in day.breaks] == [at(13.5).timestamp()]
    assert len(day.visits) == 1


def test_under_way_the_day_starts_now_where_the_last_job_was_finished() -> None:
    day = build_day(SHIFT, [], now=at(10), last_finished=(DOOR, at(9.5)))
    assert (day.start_point, day.start_at) == (DOOR, at(10).timestamp())
    # A break whose latest start has passed is gone from the day.
    assert build_day(SHIFT, [], now=at(14)).breaks == []


def test_on_site_the_day_goes_on_from_that_door_when_the_job_should_end() -> None:
    day = build_day(SHIFT, [visit("on_site", 10, started=10), visit("scheduled", 12)], now=at(10.25))
    assert (day.start_point, day.start_at) == (DOOR, at(11).timestamp())
    assert len(day.visits) == 1


def test_a_visit_driven_to_is_locked_and_a_late_one_no_longer_binds_the_day() -> None:
    day = build_day(SHIFT, [visit("en_route", 10.5), visit("scheduled", 11, window=(8, 10))], now=at(10.25))
    driving, late = day.visits
    assert driving.locked
    assert math.isinf(driving.latest)
    assert math.isinf(late.latest)
