"""Learning speeds from trips, by hand, and what it does to ETAs on simulated trips."""

from __future__ import annotations

import uuid

from dispatch.calibration import Trip, fit
from dispatch.eta_calibration import report, simulate

METRO = uuid.uuid4()
MODEL = {"default_kmh": {METRO: 35.0}, "circuity": {METRO: 1.3}, "overhead_s": {METRO: 120.0}}


def test_the_rush_hour_is_learned_and_a_single_trip_only_nudges() -> None:
    # 10 km in a straight line is 13 km of road; at 26 km/h that is 1,800 s, plus 120 s at the door.
    rush = [Trip(METRO, 8, 10_000, 1920) for _ in range(5)]
    noon = [Trip(METRO, 12, 10_000, 13_000 / (40 / 3.6) + 120)]
    broken = [Trip(METRO, 12, 10_000, 100)]  # shorter than the stop itself: a bad clock
    speeds = {(s.hour, s.trips): s.speed_kmh for s in fit(rush + noon + broken, **MODEL)}
    # Five trips against the configured speed's worth of five: halfway, (5 x 26 + 5 x 35) / 10.
    assert speeds[(8, 5)] == 30.5
    # One trip at 40 km/h: (40 + 5 x 35) / 6.
    assert speeds[(12, 1)] == 35.83


def test_calibration_cuts_the_eta_error_on_simulated_roads() -> None:
    homes = [(44.9 + i * 0.01, -93.3) for i in range(10)]
    sites = [(45.0 + i * 0.02, -93.1 - i * 0.01) for i in range(30)]
    trips = simulate({METRO: (homes, sites)}, trips=600, circuity=1.3, overhead_s=120)
    assert len(trips) == 600
    thirty, ten = report(trips, default_kmh=35.0, circuity=1.3, overhead_s=120)
    assert (thirty.horizon_min, ten.horizon_min) == (30, 10)
    assert thirty.after_mae_min < thirty.before_mae_min / 1.5
    assert ten.after_mae_min < ten.before_mae_min
