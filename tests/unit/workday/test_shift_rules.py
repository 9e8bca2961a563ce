from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.fleet.shifts import BreakPlan, ShiftPlan, check_shift
from infra.errors import InvalidError

START = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def plan(hours: float = 8.5, *breaks: BreakPlan) -> ShiftPlan:
    return ShiftPlan(START, START + timedelta(hours=hours), 44.9, -93.3, 44.9, -93.3, 0, breaks)


def lunch(start_h: float, end_h: float, minutes: int = 30) -> BreakPlan:
    return BreakPlan(START + timedelta(hours=start_h), START + timedelta(hours=end_h), minutes * 60)


def test_a_plain_day_with_a_lunch_break_holds() -> None:
    check_shift(plan(8.5, lunch(3.5, 6.5)))


def test_a_break_that_fits_its_window_exactly_holds() -> None:
    check_shift(plan(8.5, lunch(4, 4.5)))


@pytest.mark.parametrize(
    ("shift", "field"),
    [
        (plan(0), "ends_at"),
        (plan(24.5), "ends_at"),
        (plan(8, lunch(-0.5, 1)), "breaks[0].earliest_start_at"),
        (plan(8, lunch(7, 8.5)), "breaks[0].latest_end_at"),
        (plan(8, lunch(4, 4.25)), "breaks[0].latest_end_at"),
        (plan(1, lunch(0, 1, 40), lunch(0, 1, 20)), "breaks"),
    ],
)
def test_each_broken_rule_names_its_field(shift: ShiftPlan, field: str) -> None:
    with pytest.raises(InvalidError) as caught:
        check_shift(shift)
    assert caught.value.field == field
