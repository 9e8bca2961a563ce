"""A real `osrm-routed` describes a route road class by road class, a chain of jobs is timed by
what was learned of each class, and a leg the route service cannot describe or route gets the
table's learned time or the straight-line model's, never a failed ping."""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import httpx
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.travel.calibration import Drive, by_road_class
from dispatch.travel.learning import FittedFactors, TravelFactors
from dispatch.travel.road_class_travel import ClassedTravel
from dispatch.travel.road_classes import CLASSES, FEATURES, JUNCTIONS, ClassFactors, from_flat, legs_of_route
from dispatch.travel.sources import GeodesicTravel, OsrmTravel, RoutedTravel, TravelSettings
from infra.db import Connection
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, site, technician, territory
from tests.road_router import RoadRouter

Client = AsyncTestClient[Litestar]

STATION = (60.1710, 24.9414)  # snaps to a road piece nothing connects to: no route at all
ETELARANTA = (60.1675, 24.9526)
BULEVARDI = (60.1650, 24.9380)
KAIVOPUISTO = (60.1640, 24.9460)
MODEL = GeodesicTravel(TravelSettings())
AS_IT_IS = (1.0,) * CLASSES + (0.0,)  # every class as the router says, no wait at junctions


def learned(values: tuple[float, ...], hour_values: tuple[float, ...] | None = None) -> TravelFactors:
    hours = {8: hour_values} if hour_values is not None else {}
    return TravelFactors(factor=1.25, class_factors=ClassFactors(values, hours).flat())


class Rewriting(httpx.AsyncBaseTransport):
    """The real router's answers, each route's legs passed through `rewrite` on the way."""

    def __init__(self, rewrite: Callable[[dict[str, object]], None]) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = json.loads(await response.aread())
        await response.aclose()
        if "/route/" in request.url.path and body.get("code") == "Ok":
            for leg in body["routes"][0]["legs"]:
                self.rewrite(leg)
        return httpx.Response(response.status_code, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
async def router(road_router: RoadRouter) -> AsyncIterator[OsrmTravel]:
    travel = OsrmTravel(road_router.url)
    yield travel
    await travel.close()


async def test_a_route_is_read_as_seconds_by_road_class_turns_and_junctions(router: OsrmTravel) -> None:
    chain = np.array([BULEVARDI, ETELARANTA, KAIVOPUISTO])
    legs = await router.routed_legs(chain)
    assert legs is not None
    classed = legs_of_route(legs)
    whole = await router.between(chain[:-1], chain[1:])  # the same route service, with the stop
    for leg, seconds in zip(classed, whole, strict=True):
        assert leg is not None
        assert leg.router_s == pytest.approx(seconds - router.stop_overhead_s, abs=0.5)
        assert sum(s > 0 for s in leg.class_s) >= 2  # city streets of more than one kind
        assert leg.junctions >= 3  # across central Helsinki, junction after junction


async def test_a_chain_of_jobs_is_timed_by_what_each_road_class_took(router: OsrmTravel) -> None:
    chain = np.array([BULEVARDI, ETELARANTA, KAIVOPUISTO])
    plain = await router.between(chain[:-1], chain[1:])
    as_it_is = await ClassedTravel(router, learned(AS_IT_IS), 8.5).between(chain[:-1], chain[1:])
    assert as_it_is == pytest.approx(plain, abs=0.5)
    # In the 8:00 hour every class is twice as slow and each junction waits 10 s; the router's
    # turn seconds stay as they are.
    rush = (2.0,) * CLASSES + (10.0,)
    answer = await router.routed_legs(chain)
    assert answer is not None
    classed = [leg for leg in legs_of_route(answer) if leg is not None]
    travel = ClassedTravel(router, learned(AS_IT_IS, rush), 8.5)
    at_rush = await travel.between(chain[:-1], chain[1:])
    expected = [2 * sum(leg.class_s) + 10 * leg.junctions + leg.turn_s + 120 for leg in classed]
    assert at_rush == pytest.approx(expected, abs=1)
    # Matching's one-to-many times stay the table's, with the territory's factor.
    table = await router.from_one(BULEVARDI, [ETELARANTA])
    assert (await travel.from_one(BULEVARDI, [ETELARANTA])) == pytest.approx(1.25 * table)


async def test_a_leg_without_annotations_gets_the_tables_learned_time(road_router: RoadRouter) -> None:
    def drop_first(leg: dict[str, object]) -> None:
        if not drop_first.__dict__.get("done"):
            leg["annotation"] = None  # what a router without annotations says for the first leg
            drop_first.__dict__["done"] = True

    router = OsrmTravel(road_router.url, client=httpx.AsyncClient(transport=Rewriting(drop_first)))
    try:
        chain = np.array([BULEVARDI, ETELARANTA, KAIVOPUISTO])
        doubled = (2.0,) * CLASSES + (0.0,)
        seconds = await ClassedTravel(router, learned(doubled), 8.5).between(chain[:-1], chain[1:])
        table = await router.between(chain[:1], chain[1:2])
        answer = await router.routed_legs(chain)
    finally:
        await router.close()
    assert answer is not None
    second = legs_of_route(answer)[1]
    assert second is not None
    assert seconds[0] == pytest.approx(1.25 * table[0])  # the table, with the factor learned of it
    assert seconds[1] == pytest.approx(2 * sum(second.class_s) + second.turn_s + 120, abs=1)  # by class


async def test_no_route_at_all_gets_the_straight_line_model(router: OsrmTravel) -> None:
    travel = RoutedTravel(router, MODEL, via=ClassedTravel(router, learned(AS_IT_IS), 8.5))
    chain = np.array([STATION, ETELARANTA, KAIVOPUISTO])
    seconds = await travel.between(chain[:-1], chain[1:])
    assert seconds[0] == (await MODEL.between(chain[:1], chain[1:2]))[0]
    assert np.isfinite(seconds).all()


# Through the API: what was learned by road class (stored as `truckroll calibrate` stores it)
# times the customer's ETA after Ann's ping at 8:30.


async def eta_after_ping(
    client: Client, conn: Connection, rush: tuple[float, ...], point: tuple[float, float] = BULEVARDI
) -> float:
    area = await territory(conn)
    await conn.execute(
        "INSERT INTO travel_factors"
        " (territory_id, source, factor, hour_factors, band_factors, class_factors, trips)"
        " VALUES ($1, 'road_router', 1.25, $2, '{}', $3, 40)",
        area,
        [1.25] * 24,
        list(ClassFactors(AS_IT_IS, {8: rush}).flat()),
    )
    ann_id = await technician(conn, area, "Ann Springs", BULEVARDI)
    job_id = await job(conn, await site(conn, area, ETELARANTA), (8, 10), technician_id=ann_id, planned=9)
    await conn.execute("UPDATE jobs SET status = 'en_route' WHERE id = $1", job_id)
    ann = await login_of(conn, ann_id)
    ping = {
        "recorded_at": at(8.5).isoformat(),
        "latitude": point[0],
        "longitude": point[1],
        "accuracy_m": 8,
    }
    response = await client.post("/technicians/me/positions", json={"pings": [ping]}, headers=ann.headers)
    assert response.status_code == 200, response.text
    eta = await conn.fetchval("SELECT eta_at FROM jobs WHERE id = $1", job_id)
    assert isinstance(eta, type(at(8.5)))
    return (eta - at(8.5)) / timedelta(seconds=1)


async def test_a_ping_s_eta_is_timed_by_the_learned_road_classes(
    routed_client: Client, conn: Connection, router: OsrmTravel
) -> None:
    rush = (1.5,) * CLASSES + (20.0,)
    seconds = await eta_after_ping(routed_client, conn, rush)
    legs = await router.routed_legs(np.array([BULEVARDI, ETELARANTA]))
    assert legs is not None
    (leg,) = legs_of_route(legs)
    assert leg is not None
    assert len(rush) == FEATURES
    assert rush[JUNCTIONS] == 20.0
    # The ping at 8:30 is the middle of the 8:00 hour: its values alone.
    assert seconds == pytest.approx(1.5 * sum(leg.class_s) + leg.turn_s + 20 * leg.junctions + 120, abs=1)


async def test_a_ping_where_no_route_starts_is_taken_with_the_straight_line_eta(
    routed_client: Client, conn: Connection
) -> None:
    seconds = await eta_after_ping(routed_client, conn, (1.5,) * CLASSES + (20.0,), STATION)
    modelled = await MODEL.between(np.array([STATION]), np.array([ETELARANTA]))
    assert seconds == pytest.approx(float(modelled[0]), abs=1)


async def test_each_technician_s_pace_is_learned_against_the_road_class_times(router: OsrmTravel) -> None:
    # Ann and Bob drove the same 20 legs five times each at 9:00; on the road every leg took Ann
    # 1.4 x the router's time and Bob 1.2 x as long as Ann, then two minutes at the door. The
    # territory learns its road classes from both (their middle); each one's pace is their ratio
    # of whole trips to that, pulled towards 1.0 by the prior of 50 stretches.
    places = [BULEVARDI, ETELARANTA, KAIVOPUISTO, (60.1660, 24.9600), (60.1720, 24.9560)]
    area, ann, bob = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    drives = []
    for leg_index, (a, b) in enumerate((a, b) for a in places for b in places if a != b):
        answer = await router.routed_legs(np.array([a, b]))
        assert answer is not None
        (leg,) = legs_of_route(answer)
        assert leg is not None
        for week, (driver, slower) in itertools.product(range(5), ((ann, 1.0), (bob, 1.2))):
            left = at(9) + timedelta(days=7 * week + leg_index % 7, minutes=leg_index)
            took = timedelta(seconds=1.4 * slower * leg.router_s + router.stop_overhead_s)
            drives.append(Drive(area, "UTC", b, left, left + took, ((left, *a),), driver))
    fitted = [FittedFactors(area, TravelFactors())]
    learned, paces = await by_road_class(drives, router, fitted, [])
    assert not from_flat(learned[0].factors.class_factors).empty
    pace = {p.technician_id: p.factor for p in paces}
    assert pace[ann] < 1.0 < pace[bob]
    # On these short legs the minutes at the door, the same for both, thin out the 1.2.
    assert 1.05 < pace[bob] / pace[ann] < 1.2
