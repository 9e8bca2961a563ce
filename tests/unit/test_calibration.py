"""What learning from trips does to ETAs on simulated trips."""

from __future__ import annotations

import uuid

from dispatch.eta_calibration import report, simulate

METRO = uuid.uuid4()


def test_calibration_cuts_the_eta_error_on_simulated_roads() -> None:
    homes = [(44.9 + i * 0.01, -93.3) for i in range(10)]
    sites = [(45.0 + i * 0.02, -93.1 - i * 0.01) for i in range(30)]
    trips = simulate({METRO: (homes, sites)}, trips=600, circuity=1.3, overhead_s=120)
    assert len(trips) == 600
    thirty, ten = report(trips, default_kmh=35.0, circuity=1.3, overhead_s=120)
    assert (thirty.horizon_min, ten.horizon_min) == (30, 10)
    assert thirty.after_mae_min < thirty.before_mae_min / 1.5
    assert ten.after_mae_min < ten.before_mae_min
