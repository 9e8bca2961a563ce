"""Learning travel factors from trips, by hand, and scaling any source with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from dispatch.travel.calibration import Drive, stretches
from dispatch.travel.learning import (
    LearnedTravel,
    TimedTrip,
    TravelFactors,
    fit,
    fit_paces,
    speed_band_of,
)
from dispatch.travel.sources import GeodesicTravel, TravelSettings

METRO = uuid.uuid4()


def test_the_rush_hour_is_learned_and_a_single_trip_only_nudges() -> None:
    # Five trips at 8:00 took 1.5 times the source's time, one at noon took exactly it, one at
    # noon took a tenth (a clock that was wrong: thrown out). All of 5 km, one distance band.
    rush = [TimedTrip(METRO, 8, 5_000, 1_500, 1_000) for _ in range(5)]
    noon = [TimedTrip(METRO, 12, 5_000, 1_000, 1_000), TimedTrip(METRO, 12, 5_000, 100, 1_000)]
    (fitted,) = fit(rush + noon)
    f = fitted.factors
    assert f.trips == 6
    assert (fitted.hour_trips[8], fitted.hour_trips[12]) == (5, 1)
    # All hours: six trips averaging 1.417 against the prior 1.0 worth five: about 1.23.
    assert 1.2 < f.factor < 1.26
    # The rush hour is pulled halfway from 1.5 toward that; noon stays near it; an hour with no
    # trips is the all-hours factor.
    assert 1.3 < f.hour_factors[8] < 1.4
    assert f.hour_factors[12] < f.factor
    assert f.hour_factors[3] == f.factor
    # One band saw every trip: it differs from the hours' level by nothing worth keeping.
    assert f.band_factors[3] == pytest.approx(1.0, abs=0.02)


def test_short_trips_that_wind_more_get_a_band_factor_of_their_own() -> None:
    # 40 trips of 3 km took 1.4 times the source's time, 40 of 14 km took 1.2 times.
    trips = [TimedTrip(METRO, 10, 3_000, 1_400, 1_000) for _ in range(40)]
    trips += [TimedTrip(METRO, 10, 14_000, 3_600, 3_000) for _ in range(40)]
    (fitted,) = fit(trips)
    f = fitted.factors
    short = f.hour_factors[10] * f.band_factors[2]
    long = f.hour_factors[10] * f.band_factors[5]
    assert short == pytest.approx(1.4, abs=0.03)
    assert long == pytest.approx(1.2, abs=0.03)


def test_legs_the_source_times_fast_get_a_speed_factor_of_their_own() -> None:
    # All 5 km in a straight line, one distance band. 40 the source timed at 10 minutes (30 km/h:
    # main roads) took 1.8 times that; 40 it timed at 20 minutes (15 km/h: side streets) took 1.2.
    fast = [TimedTrip(METRO, 8, 5_000, 1.8 * 600, 600) for _ in range(40)]
    slow = [TimedTrip(METRO, 8, 5_000, 1.2 * 1_200, 1_200) for _ in range(40)]
    (fitted,) = fit(fast + slow, by_speed=True)
    f = fitted.factors
    assert speed_band_of(np.array([5_000.0, 5_000.0]), np.array([600.0, 1_200.0])).tolist() == [6, 2]
    # Each within 3% of its own ratio (one factor for the band would be 1.5 for both, 17-25% off),
    # a little short of it where the prior of "no different" still pulls.
    assert f.hour_factors[8] * f.band_factors[3] * f.speed_factors[6] == pytest.approx(1.8, rel=0.03)
    assert f.hour_factors[8] * f.band_factors[3] * f.speed_factors[2] == pytest.approx(1.2, rel=0.03)


async def test_the_speed_factor_applies_by_the_speed_the_source_itself_implies() -> None:
    source = GeodesicTravel(TravelSettings(circuity_factor=1.0, speed_kmh=30.0, stop_overhead_s=0))
    # The source drives 30 km/h in a straight line (band 6) everywhere: that band's factor, and
    # none of the others, applies at every distance; staying put still costs nothing.
    factors = TravelFactors(factor=1.0, speed_factors=(3.0,) + (1.0,) * 5 + (2.0,) + (1.0,) * 3)
    here, km_3 = (45.0, -93.0), (45.0 + 3 / 111.2, -93.0)
    raw = await source.from_one(here, [here, km_3])
    assert await LearnedTravel(source, factors, 8).from_one(here, [here, km_3]) == pytest.approx(
        raw * 2.0, rel=1e-9
    )


def test_a_technician_s_pace_is_learned_against_the_fleet_and_a_few_trips_only_nudge_it() -> None:
    # The fleet's trips took 1.2 times the source; Ann's 100 stretches 1.32 (10% slower than the
    # fleet), Bob's 100 exactly the fleet's, Cy's 5 stretches 1.5 (a bad week, or a slow van).
    ann, bob, cy = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    trips = [TimedTrip(METRO, 10, 5_000, 1_320, 1_000, ann) for _ in range(100)]
    trips += [TimedTrip(METRO, 10, 5_000, 1_200, 1_000, bob) for _ in range(100)]
    trips += [TimedTrip(METRO, 10, 5_000, 1_500, 1_000, cy) for _ in range(5)]
    trips += [TimedTrip(METRO, 10, 5_000, 1_200, 1_000) for _ in range(400)]  # nobody known
    fitted = fit(trips)
    paces = {p.technician_id: p for p in fit_paces(trips, fitted)}
    fleet = fitted[0].factors.hour_factors[10]
    assert fleet == pytest.approx(1.2, abs=0.02)
    # Against 50 stretches of "as the fleet drives": Ann 1 + 0.1 x 100/150, Bob 1.0, Cy a nudge.
    assert paces[ann].factor == pytest.approx(1 + (1.32 / fleet - 1) * 100 / 150, abs=0.005)
    assert paces[bob].factor == pytest.approx(1.2 / fleet, abs=0.005)
    assert 1.0 < paces[cy].factor < 1.03
    assert (paces[ann].trips, paces[cy].trips) == (100, 5)


async def test_a_technician_s_pace_scales_every_leg_they_drive() -> None:
    source = GeodesicTravel(TravelSettings(circuity_factor=1.3, speed_kmh=36.0, stop_overhead_s=0))
    here, km_3 = (45.0, -93.0), (45.0 + 3 / 111.2, -93.0)
    raw = await source.from_one(here, [km_3])
    slower = TravelFactors(factor=1.2, pace=1.1)
    assert await LearnedTravel(source, slower, None).from_one(here, [km_3]) == pytest.approx(raw * 1.32)
    assert not TravelFactors(pace=1.1).neutral  # a pace alone still scales


async def test_a_learned_factor_scales_any_source_by_hour_and_band_and_leaves_no_travel_free() -> None:
    source = GeodesicTravel(TravelSettings(circuity_factor=1.3, speed_kmh=36.0, stop_overhead_s=0))
    factors = TravelFactors(
        factor=1.1, hour_factors=(1.1,) * 8 + (1.5,) + (1.1,) * 15, band_factors=(1.0, 1.0, 2.0, 1.0)
    )
    here, km_1_5, km_3 = (45.0, -93.0), (45.0 + 1.5 / 111.2, -93.0), (45.0 + 3 / 111.2, -93.0)
    raw = await source.from_one(here, [here, km_1_5, km_3])
    at_eight = await LearnedTravel(source, factors, 8).from_one(here, [here, km_1_5, km_3])
    # 1.5 km is band 1 (x1.0), 3 km band 2 (x2.0); 8:00 is x1.5; staying put costs nothing.
    assert at_eight == pytest.approx(raw * np.array([0, 1.5, 3.0]), rel=1e-9)
    any_hour = await LearnedTravel(source, factors, None).between(np.array([here]), np.array([km_3]))
    assert any_hour == pytest.approx(raw[2:] * 2.2, rel=1e-9)


def test_a_drive_is_cut_into_stretches_every_five_minutes_but_not_while_parking() -> None:
    left = datetime(2026, 12, 1, 8, tzinfo=UTC)
    fixes = tuple((left + timedelta(seconds=s), 45.0, -93.0) for s in range(10, 23 * 60, 60))
    drive = Drive(METRO, "UTC", (45.1, -93.0), left, left + timedelta(minutes=23), fixes)
    # Fixes at 0:10, 1:10, ... 22:10; the first of each five minutes, none from 20:00 (parking).
    assert [(f[0] - left).total_seconds() for f in stretches(drive)] == [10, 310, 610, 910]
    # No fix in the first five minutes: where it set off from is not known.
    late = Drive(METRO, "UTC", (45.1, -93.0), left, left + timedelta(minutes=23), fixes[5:])
    assert stretches(late) == []


async def test_a_router_that_fails_is_stood_in_for_by_the_model_with_the_model_s_own_factors() -> None:
    from dispatch.matching.context import travel_for
    from dispatch.matching.route_queries import JobPlace
    from dispatch.travel.sources import OsrmTravel

    # Nothing listens on port 9: every request fails, and the model answers.
    router = OsrmTravel("http://127.0.0.1:9", stop_overhead_s=120, timeout_s=0.2)
    place = JobPlace(
        point=(45.0, -93.0),
        territory_id=uuid.uuid4(),
        timezone="UTC",
        circuity_factor=1.3,
        speed_kmh=35.0,
        stop_overhead_s=120,
        straight_line=TravelFactors(factor=1.0, trips=50),
        road_router=TravelFactors(factor=1.6, trips=50),  # a free-flow router runs slow in life
    )
    try:
        travel = travel_for(place, router)
        seconds = await travel.from_one((45.0, -93.0), [(45.05, -93.0)])
    finally:
        await router.close()
    model = GeodesicTravel(TravelSettings(circuity_factor=1.3, speed_kmh=35.0, stop_overhead_s=120))
    expected = await model.from_one((45.0, -93.0), [(45.05, -93.0)])
    assert seconds == pytest.approx(expected)  # not 1.6 × the model's
