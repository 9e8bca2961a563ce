"""A router's time learned road class by road class, with hand-made legs and numbers."""

from __future__ import annotations

import random
import uuid

import numpy as np
import pytest

from dispatch.travel.road_classes import (
    CLASSES,
    FEATURES,
    JUNCTIONS,
    STORED,
    ClassedTrip,
    ClassFactors,
    RoutedLeg,
    fit_classes,
    from_flat,
    junctions_of,
    legs_of_route,
    routed_leg,
    speed_class,
)

METRO = uuid.uuid4()
RESIDENTIAL, MOTORWAY = speed_class(24.0), speed_class(80.0)


def leg(residential_s: float, motorway_s: float, turn_s: float = 0.0, junctions: int = 0) -> RoutedLeg:
    seconds = [0.0] * CLASSES
    seconds[RESIDENTIAL], seconds[MOTORWAY] = residential_s, motorway_s
    return RoutedLeg(tuple(seconds), turn_s, junctions)


def test_segments_are_classed_by_their_free_flow_speed_and_the_rest_is_turns() -> None:
    # 100 m in 15 s is 24 km/h (a residential street), 1 km in 45 s is 80 km/h (a motorway); the
    # leg's 70 s are 60 s of segments and 10 s of turn penalties.
    classed = routed_leg([15.0, 45.0, 0.0], [100.0, 1_000.0, 0.0], 70.0, 3)
    assert classed == leg(15.0, 45.0, 10.0, 3)
    assert classed.router_s == 70.0
    assert RESIDENTIAL != MOTORWAY


@pytest.mark.parametrize(
    ("durations", "distances", "total"),
    [
        ([10.0], [100.0, 5.0], 10.0),  # lengths differ
        ([None], [100.0], 10.0),  # a null from the router
        ([10.0], [100.0], None),  # no leg duration
        ([float("nan")], [100.0], 10.0),
    ],
)
def test_annotations_that_do_not_describe_the_leg_give_nothing(
    durations: list[object], distances: list[object], total: object
) -> None:
    assert routed_leg(durations, distances, total, 0) is None


def test_junctions_are_where_three_roads_meet_between_departure_and_arrival() -> None:
    steps = [
        {"maneuver": {"type": "depart"}, "intersections": [{"bearings": [0, 90, 180]}]},
        {"maneuver": {"type": "turn"}, "intersections": [{"bearings": [0, 90, 180]}, {"bearings": [0, 180]}]},
        {"maneuver": {"type": "continue"}, "intersections": [{"bearings": [0, 90, 180, 270]}]},
        {"maneuver": {"type": "arrive"}, "intersections": [{"bearings": [0, 90, 180]}]},
    ]
    assert junctions_of(steps) == 2


def test_a_route_leg_without_annotations_is_none_and_the_others_are_read() -> None:
    described = {"duration": 20.0, "annotation": {"duration": [20.0], "distance": [200.0]}, "steps": []}
    assert legs_of_route([described, {"duration": 5.0}, {"annotation": None}, "junk"]) == [
        routed_leg([20.0], [200.0], 20.0, 0),
        None,
        None,
        None,
    ]


def test_the_rush_hour_is_learned_class_by_class_with_a_wait_per_junction() -> None:
    # At 8:00 side streets take 1.1 times the router's time and motorways 2.0, plus 20 s at each
    # junction; at noon both 1.05 and 10 s a junction; turns as the router says. Legs of many
    # mixes, so the fit can tell them apart (within a few per cent: the prior is worth five trips
    # on each coefficient).
    rng = random.Random(3)
    trips = []
    for _ in range(300):
        for hour, side, fast, wait in ((8, 1.1, 2.0, 20.0), (12, 1.05, 1.05, 10.0)):
            classed = leg(
                rng.uniform(300, 900), rng.uniform(0, 1200), rng.uniform(0, 30), rng.randrange(0, 20)
            )
            actual = (
                side * classed.class_s[RESIDENTIAL]
                + fast * classed.class_s[MOTORWAY]
                + wait * classed.junctions
                + classed.turn_s
            )
            trips.append(ClassedTrip(METRO, hour, classed, actual))
    learned = fit_classes(trips)[METRO]
    assert learned.trips == 600
    rush = learned.at_hour(8)
    assert rush[RESIDENTIAL] == pytest.approx(1.1, abs=0.05)
    assert rush[MOTORWAY] == pytest.approx(2.0, abs=0.05)
    assert rush[JUNCTIONS] == pytest.approx(20.0, abs=1.0)
    assert learned.at_hour(12)[MOTORWAY] == pytest.approx(1.05, abs=0.05)
    # A class never driven stays as the router says.
    assert rush[speed_class(40.0)] == pytest.approx(1.0)
    # An hour with no trips is timed by all hours.
    assert list(learned.at_hour(3)) == list(learned.at_hour(None))
    # An hour's values stand for its middle; the router's turn seconds are added as they are.
    assert learned.seconds(leg(100.0, 100.0, 5.0, 2), 8.5) == pytest.approx(110 + 200 + 40 + 5, abs=3)
    assert list(learned.at_clock(8.5)) == list(rush)
    # At 8:00 the 7:00 hour (all hours here: no trips) and the 8:00 one count half each.
    assert learned.at_clock(8.0) == pytest.approx((rush + learned.at_hour(7)) / 2)


def test_a_few_trips_only_nudge_the_router_as_it_is() -> None:
    # Three trips twice as slow as the router: over all hours the prior (worth five) holds them
    # to (3 x 2 + 5) / 8 = 1.375, and their hour is pulled towards that: (3 x 2 + 5 x 1.375) / 8.
    trips = [ClassedTrip(METRO, 9, leg(600.0, 0.0), 1_200.0) for _ in range(3)]
    learned = fit_classes(trips)[METRO]
    assert learned.at_hour(None)[RESIDENTIAL] == pytest.approx(1.375, abs=0.001)
    assert learned.at_hour(9)[RESIDENTIAL] == pytest.approx(1.609, abs=0.001)
    # A trip whose time is ten times the router's is a wrong clock, not slow roads.
    assert fit_classes([ClassedTrip(METRO, 9, leg(60.0, 0.0), 600.0)]) == {}


def test_a_lunch_stop_on_the_way_does_not_move_what_is_learned() -> None:
    rng = random.Random(5)
    trips = [
        ClassedTrip(METRO, 10, leg(s, 0.0), 1.2 * s) for s in (rng.uniform(300, 900) for _ in range(100))
    ]
    trips += [ClassedTrip(METRO, 10, leg(600.0, 0.0), 600.0 * 3.5)]
    assert fit_classes(trips)[METRO].at_hour(10)[RESIDENTIAL] == pytest.approx(1.2, abs=0.01)


def test_a_wait_that_would_come_out_negative_is_held_at_none_and_the_classes_take_up_the_rest() -> None:
    # Trips took 1.5 x the side streets' seconds less 2 s a junction: a wait of -2 s would fit
    # best, but a junction never saves time. Held at 0, the side streets' factor is refitted to
    # take up what it can (least squares of the times on the seconds alone); cut off after the
    # fit instead, it would stay at 1.5 and every estimate be too long.
    rng = random.Random(7)
    legs = [leg(rng.uniform(300, 900), 0.0, 0.0, rng.randrange(0, 40)) for _ in range(400)]
    trips = [ClassedTrip(METRO, 9, g, 1.5 * g.class_s[RESIDENTIAL] - 2 * g.junctions) for g in legs]
    learned = fit_classes(trips)[METRO].at_hour(9)
    seconds = np.asarray([g.class_s[RESIDENTIAL] for g in legs])
    took = np.asarray([t.driving_s for t in trips])
    assert learned[JUNCTIONS] == 0.0
    assert learned[RESIDENTIAL] == pytest.approx(seconds @ took / (seconds @ seconds), abs=0.01)
    assert learned[RESIDENTIAL] < 1.45


def test_what_is_stored_reads_back_and_anything_else_is_nothing_learned() -> None:
    hours = {h: tuple(float(h + k) for k in range(FEATURES)) for h in (7, 8)}
    learned = ClassFactors(tuple([1.5] * FEATURES), hours, 40)
    flat = learned.flat()
    assert len(flat) == STORED
    back = from_flat(flat)
    assert list(back.at_hour(8)) == list(hours[8])
    assert list(back.at_hour(3)) == [1.5] * FEATURES
    assert np.array_equal(back.at_hour(None), learned.at_hour(None))
    assert from_flat(()).empty
    assert from_flat([1.0] * 10).empty
    assert ClassFactors().flat() == ()
