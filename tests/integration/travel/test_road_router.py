"""The road router the tests start: a real `osrm-routed` on the bundled Helsinki extract."""

from __future__ import annotations

import numpy as np

from dispatch.travel.sources import OsrmTravel
from tests.road_router import RoadRouter

ETELARANTA = (60.1675, 24.9526)
HALLITUSKATU = (60.1695, 24.9522)
BULEVARDI = (60.1650, 24.9380)


async def test_the_router_answers_road_times_in_the_city(road_router: RoadRouter) -> None:
    travel = OsrmTravel(road_router.url, stop_overhead_s=0)
    try:
        seconds = await travel.from_one(ETELARANTA, [HALLITUSKATU, BULEVARDI])
    finally:
        await travel.close()
    assert np.all(np.isfinite(seconds))
    # A few hundred metres by car in a city centre: more than half a minute, less than ten.
    assert np.all((seconds > 30) & (seconds < 600)), seconds
