from __future__ import annotations

import random

import numpy as np
import pytest
from geopy.distance import geodesic

from dispatch.travel.sources import (
    GeodesicTravel,
    TravelSettings,
    distances_m,
    distances_to_prepared,
    prepare,
)

MINNEAPOLIS = (44.9778, -93.2650)


def test_the_vectorised_distance_agrees_with_geopy_at_city_scale() -> None:
    rng = random.Random(3)
    points = [
        (MINNEAPOLIS[0] + rng.uniform(-0.45, 0.45), MINNEAPOLIS[1] + rng.uniform(-0.6, 0.6))
        for _ in range(2000)
    ]
    fast = distances_m(MINNEAPOLIS, points)
    exact = np.array([geodesic(MINNEAPOLIS, p).meters for p in points])
    relative = np.abs(fast - exact) / exact
    assert relative.max() < 0.005  # the promise
    assert relative.max() < 0.001  # what it really does within 50 km


def test_it_holds_far_from_the_equator_and_across_the_antimeridian() -> None:
    for origin, other in (((64.84, -147.72), (64.90, -147.50)), ((-16.5, 179.95), (-16.45, -179.9))):
        assert distances_m(origin, [other])[0] == pytest.approx(geodesic(origin, other).meters, rel=0.005)


def test_travel_time_is_road_distance_at_speed_plus_the_stop() -> None:
    # 10 km straight, 1.3 × road = 13 km at 36 km/h (10 m/s) = 1,300 s, plus 120 s to park and walk.
    travel = GeodesicTravel(TravelSettings(circuity_factor=1.3, speed_kmh=36, stop_overhead_s=120))
    assert travel.seconds(np.array([10_000.0, 0.0])).tolist() == pytest.approx([1420.0, 0.0])


async def test_from_one_keeps_the_order_of_the_destinations() -> None:
    travel = GeodesicTravel(TravelSettings())
    near, far = (44.98, -93.27), (45.05, -93.10)
    times = await travel.from_one(MINNEAPOLIS, [far, MINNEAPOLIS, near])
    assert times[1] == 0.0
    assert times[2] < times[0]
    assert (await travel.from_one(MINNEAPOLIS, [])).shape == (0,)


def test_the_network_is_used_only_when_a_routing_service_is_configured() -> None:
    from dispatch.travel.sources import RoutedTravel, travel_source

    assert isinstance(travel_source(TravelSettings(), None), GeodesicTravel)
    routed = travel_source(TravelSettings(), "http://router.internal:5000")
    assert isinstance(routed, RoutedTravel)
    assert isinstance(routed.model, GeodesicTravel)
    assert routed.model.settings == TravelSettings()  # what a failed or impossible route falls back to


def test_the_prepared_fast_path_agrees_with_geopy_at_city_scale() -> None:
    rng = random.Random(9)
    points = [
        (MINNEAPOLIS[0] + rng.uniform(-0.4, 0.4), MINNEAPOLIS[1] + rng.uniform(-0.5, 0.5)) for _ in range(300)
    ]
    fast = distances_to_prepared(MINNEAPOLIS, prepare(points))
    for point, metres in zip(points, fast, strict=True):
        assert metres == pytest.approx(geodesic(MINNEAPOLIS, point).meters, rel=0.001)
