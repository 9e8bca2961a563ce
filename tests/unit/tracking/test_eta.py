"""ETAs by hand: chained through the day, smoothed against noise, judged against the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.tracking.eta import Leg, Punctuality, chain, punctuality, smooth

T0 = datetime(2026, 12, 1, 15, tzinfo=UTC)
MIN = timedelta(minutes=1)


def test_arrivals_chain_through_the_job_in_hand_and_the_windows_ahead() -> None:
    legs = [
        # On site since 14:30 with an hour's job: done 15:30.
        Leg("a", 0, 3600, T0 - 60 * MIN, T0, on_site_since=T0 - 30 * MIN),
        # 20 min on, a 45-minute job: arrive 15:50.
        Leg("b", 1200, 2700, T0, T0 + 120 * MIN),
        # 10 min on, but its window opens 17:00: arrive 16:45, start 17:00.
        Leg("c", 600, 1800, T0 + 120 * MIN, T0 + 180 * MIN),
        Leg("d", 300, 600, T0, T0 + 300 * MIN),
    ]
    assert chain(T0, legs) == [T0 - 30 * MIN, T0 + 50 * MIN, T0 + 105 * MIN, T0 + 155 * MIN]


def test_an_overrunning_job_is_expected_to_end_soon_not_at_once() -> None:
    legs = [Leg("a", 0, 3600, T0, T0, on_site_since=T0 - 90 * MIN), Leg("b", 600, 600, T0, T0 + 60 * MIN)]
    # 6 more minutes (a tenth of the hour), then 10 minutes' drive.
    assert chain(T0, legs)[1] == T0 + 16 * MIN


def test_noise_is_smoothed_and_a_real_change_comes_through_at_once() -> None:
    assert smooth(None, T0) == T0
    assert smooth(T0, T0 + 4 * MIN) == T0 + 2 * MIN
    assert smooth(T0, T0 + 25 * MIN) == T0 + 25 * MIN


def test_punctuality_against_the_promised_window() -> None:
    end = T0 + 60 * MIN
    assert punctuality(T0 + 30 * MIN, end) is Punctuality.ON_TIME
    assert punctuality(T0 + 55 * MIN, end) is Punctuality.AT_RISK
    assert punctuality(T0 + 61 * MIN, end) is Punctuality.LATE
