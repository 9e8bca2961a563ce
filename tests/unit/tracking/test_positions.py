"""Judging a batch of pings: the future, impossible jumps, a backlog arriving late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.tracking.positions import Ping, judge

NOW = datetime(2026, 12, 1, 15, tzinfo=UTC)
BASE = (44.97, -93.26)


def ping(minutes_ago: float, north_km: float = 0.0) -> Ping:
    return Ping(NOW - timedelta(minutes=minutes_ago), BASE[0] + north_km * 0.008993, BASE[1])


def test_a_ping_from_the_future_is_rejected_and_a_teleport_is_flagged_but_the_rest_goes_in() -> None:
    pings = [ping(10), ping(9, north_km=1), ping(8, north_km=60), ping(7, north_km=1.5), ping(-30)]
    verdicts = {v.index: v for v in judge(pings, None, NOW)}
    assert verdicts[4].rejected == "recorded_at is in the future; check the phone's clock"
    assert verdicts[2].flagged == "a jump of 59.0 km in 60 s"
    # After the teleport, the next fix is judged against the last believable one, 1 km away.
    assert [verdicts[i].flagged for i in (0, 1, 3)] == [None, None, None]


def test_pings_are_judged_in_time_order_whatever_order_they_came_in() -> None:
    pings = [ping(1, north_km=0.2), ping(3), ping(2, north_km=0.1)]
    assert [v.index for v in judge(pings, None, NOW)] == [1, 2, 0]


def test_a_backlog_older_than_the_latest_fix_is_not_held_against_it() -> None:
    latest = (NOW - timedelta(minutes=1), BASE[0] + 50 * 0.008993, BASE[1])
    (old,) = judge([ping(120)], latest, NOW)
    assert old.flagged is None
    (teleport,) = judge([ping(0.5)], latest, NOW)  # 50 km in 30 s after the latest fix
    assert teleport.flagged is not None
