"""A real `osrm-routed` failing the ways routers fail, and no ping lost to it: a place the road graph
cannot reach, a kept-alive connection the router closes, a reset half-way through an answer, a
router that is down. Each estimate the router cannot give is the territory's straight-line
model's, counted in /metrics by reason."""

from __future__ import annotations

import itertools
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
import numpy as np
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.travel.sources import (
    FallbackReason,
    GeodesicTravel,
    OsrmTravel,
    TravelServiceError,
    TravelSettings,
)
from infra.db import Connection
from infra.osrm import free_port
from infra.settings import Settings
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, site, technician, territory
from tests.road_router import RoadRouter
from tests.unreliable_router import Fault, unreliable

Client = AsyncTestClient[Litestar]

# Central Helsinki. The railway station's square snaps to a road piece nothing connects to: the
# router answers null for every trip to or from it.
STATION = (60.1710, 24.9414)
ETELARANTA = (60.1675, 24.9526)
BULEVARDI = (60.1650, 24.9380)
MODEL = GeodesicTravel(TravelSettings())  # a new territory's: 1.3 circuity, 35 km/h, 120 s a stop
NOW = at(8.5)


def counted() -> tuple[list[FallbackReason], Callable[[FallbackReason], None]]:
    reasons: list[FallbackReason] = []
    return reasons, reasons.append


async def test_a_place_the_road_graph_cannot_reach_gets_the_straight_line_estimate_not_infinity(
    road_router: RoadRouter,
) -> None:
    reasons, count = counted()
    router = OsrmTravel(road_router.url, on_fallback=count)
    try:
        raw = await router.from_one(STATION, [ETELARANTA, BULEVARDI])
        travel = router.with_fallback(MODEL)
        out = await travel.from_one(STATION, [ETELARANTA, BULEVARDI])
        legs = await travel.between(np.array([STATION, ETELARANTA]), np.array([ETELARANTA, BULEVARDI]))
    finally:
        await router.close()
    assert np.isinf(raw).all()  # what the router says: no route at all
    assert out.tolist() == (await MODEL.from_one(STATION, [ETELARANTA, BULEVARDI])).tolist()
    # Only the pair from the station falls back; Eteläranta to Bulevardi is a real road time.
    assert legs[0] == (await MODEL.between(np.array([STATION]), np.array([ETELARANTA])))[0]
    assert 120 + 30 < legs[1] < 120 + 600
    assert legs[1] != (await MODEL.between(np.array([ETELARANTA]), np.array([BULEVARDI])))[0]
    assert reasons == [FallbackReason.NO_ROUTE, FallbackReason.NO_ROUTE]


async def test_a_router_that_closes_kept_alive_connections_still_answers_every_request(
    road_router: RoadRouter,
) -> None:
    direct = OsrmTravel(road_router.url)
    expected = await direct.from_one(ETELARANTA, [BULEVARDI])
    await direct.close()
    # OSRM closes a connection after 512 requests; here after 2, so 30 requests meet it often.
    with unreliable(road_router.url, requests_per_connection=2) as proxy:
        router = OsrmTravel(proxy.url)
        try:
            answers = [await router.from_one(ETELARANTA, [BULEVARDI]) for _ in range(30)]
        finally:
            await router.close()
    assert all(a.tolist() == expected.tolist() for a in answers)
    assert proxy.faults.count(Fault.DROP) >= 10


async def test_an_answer_cut_off_by_a_reset_is_asked_for_again(road_router: RoadRouter) -> None:
    with unreliable(road_router.url, fault=lambda n: Fault.RESET if n == 1 else Fault.PASS) as proxy:
        router = OsrmTravel(proxy.url)
        try:
            seconds = await router.from_one(ETELARANTA, [BULEVARDI])
        finally:
            await router.close()
    assert proxy.faults == [Fault.RESET, Fault.PASS]
    assert np.isfinite(seconds).all()


async def test_a_router_failing_twice_gives_the_model_and_says_so_once_a_minute(
    road_router: RoadRouter, caplog: pytest.LogCaptureFixture
) -> None:
    reasons, count = counted()
    with unreliable(road_router.url, fault=lambda _: Fault.RESET) as proxy:
        router = OsrmTravel(proxy.url, on_fallback=count)
        try:
            with pytest.raises(TravelServiceError):
                await router.from_one(ETELARANTA, [BULEVARDI])
            travel = router.with_fallback(MODEL)
            with caplog.at_level(logging.WARNING, logger="truckroll.travel"):
                answers = [await travel.from_one(ETELARANTA, [BULEVARDI]) for _ in range(5)]
        finally:
            await router.close()
    # The first estimate asked twice; then the router rests and the model answers alone.
    assert proxy.requests == 2
    modelled = (await MODEL.from_one(ETELARANTA, [BULEVARDI])).tolist()
    assert all(a.tolist() == modelled for a in answers)
    assert reasons == [FallbackReason.RESTING] * 5
    assert len([r for r in caplog.records if "straight-line model" in r.getMessage()]) == 1


async def test_a_refusal_is_not_asked_again(road_router: RoadRouter) -> None:
    with unreliable(road_router.url) as proxy:
        router = OsrmTravel(proxy.url)
        try:
            with pytest.raises(TravelServiceError, match="InvalidOptions") as refused:
                await router.from_one(ETELARANTA, [(60.0, 200.0)])  # a 400: the same question fails again
        finally:
            await router.close()
    assert refused.value.reason is FallbackReason.REFUSED
    assert proxy.requests == 1


# Through the API, as the technician's phone and the customer's tracking page see it.


@asynccontextmanager
async def api_routed_by(settings: Settings, dsn: str, url: str) -> AsyncIterator[Client]:
    app = create_app(msgspec.structs.replace(settings, routing_url=url), dsn=dsn)
    app.state.clock = lambda: clock["now"]
    async with AsyncTestClient(app=app) as client:
        yield client


clock: dict[str, datetime] = {"now": NOW}


async def on_the_way(client: Client, conn: Connection, dispatcher: Auth) -> tuple[UUID, Auth, str]:
    """Ann has set off to a job at Eteläranta, due 8-10; the customer has a tracking link."""
    clock["now"] = NOW
    area = await territory(conn)
    tech = await technician(conn, area, "Ann Springs", BULEVARDI)
    job_id = await job(conn, await site(conn, area, ETELARANTA), (8, 10), technician_id=tech, planned=9)
    await conn.execute("UPDATE jobs SET status = 'dispatched' WHERE id = $1", job_id)
    ann = await login_of(conn, tech)
    response = await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers)
    assert response.status_code == 200, response.text
    link = await client.post(f"/jobs/{job_id}/tracking-links", headers=dispatcher.headers)
    assert link.status_code == 201, link.text
    return job_id, ann, link.json()["token"]


async def ping(client: Client, ann: Auth, point: tuple[float, float], seconds_later: float) -> None:
    clock["now"] = NOW + timedelta(seconds=seconds_later)
    fix = {
        "recorded_at": clock["now"].isoformat(),
        "latitude": point[0],
        "longitude": point[1],
        "accuracy_m": 8,
    }
    response = await client.post("/technicians/me/positions", json={"pings": [fix]}, headers=ann.headers)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 1


async def eta_s(client: Client, conn: Connection, job_id: UUID, token: str) -> float:
    """Seconds from now to the ETA the customer sees; the stored one is cleared after, so the next
    ping's estimate is written as it is, not smoothed against this one."""
    shown: dict[str, Any] = (await client.get(f"/track/{token}")).json()
    await conn.execute("UPDATE jobs SET eta_at = NULL WHERE id = $1", job_id)
    return (datetime.fromisoformat(shown["eta_at"]) - clock["now"]).total_seconds()


async def fallbacks(client: Client) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        m[1]: float(m[2])
        for m in re.finditer(r'truckroll_routing_fallbacks_total\{reason="(\w+)"\} (\S+)', text)
    }


def more(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


async def modelled_s(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float((await MODEL.between(np.array([a]), np.array([b])))[0])


async def test_a_ping_where_the_road_graph_cannot_reach_is_taken_with_the_straight_line_eta(
    road_router: RoadRouter, settings: Settings, dsn: str, conn: Connection, dispatcher: Auth
) -> None:
    async with api_routed_by(settings, dsn, road_router.url) as client:
        job_id, ann, token = await on_the_way(client, conn, dispatcher)
        before = await fallbacks(client)
        await ping(client, ann, STATION, 30)
        assert await eta_s(client, conn, job_id, token) == pytest.approx(
            await modelled_s(STATION, ETELARANTA), abs=1
        )
        assert more(await fallbacks(client), before) == {"no_route": 1}
        # Back on the road network, the router's time again, and nothing more counted.
        await ping(client, ann, BULEVARDI, 150)
        routed = await eta_s(client, conn, job_id, token)
        assert routed != pytest.approx(await modelled_s(BULEVARDI, ETELARANTA), abs=1)
        assert 120 + 30 < routed < 120 + 600
        assert more(await fallbacks(client), before) == {"no_route": 1}


async def test_pings_through_a_router_that_drops_kept_alive_connections_all_get_road_etas(
    road_router: RoadRouter, settings: Settings, dsn: str, conn: Connection, dispatcher: Auth
) -> None:
    direct = OsrmTravel(road_router.url)
    road_s = float((await direct.from_one(BULEVARDI, [ETELARANTA]))[0])
    await direct.close()
    with unreliable(road_router.url, requests_per_connection=1) as proxy:
        async with api_routed_by(settings, dsn, proxy.url) as client:
            job_id, ann, token = await on_the_way(client, conn, dispatcher)
            before = await fallbacks(client)
            etas = []
            for i in range(6):
                await ping(client, ann, BULEVARDI, 30 + 60 * i)
                etas.append(await eta_s(client, conn, job_id, token))
            assert more(await fallbacks(client), before) == {}
    assert etas == pytest.approx([road_s] * 6, abs=1)
    assert proxy.faults.count(Fault.DROP) >= 5


async def test_with_the_router_down_pings_are_taken_with_straight_line_etas_and_counted(
    settings: Settings, dsn: str, conn: Connection, dispatcher: Auth
) -> None:
    async with api_routed_by(settings, dsn, f"http://127.0.0.1:{free_port()}") as client:
        job_id, ann, token = await on_the_way(client, conn, dispatcher)
        before = await fallbacks(client)
        for i in range(3):
            await ping(client, ann, BULEVARDI, 30 + 60 * i)
            eta = await eta_s(client, conn, job_id, token)
            assert eta == pytest.approx(await modelled_s(BULEVARDI, ETELARANTA), abs=1)
        # The first ping finds the router gone; the next ones do not wait on it while it rests.
        assert more(await fallbacks(client), before) == {"connection": 1, "resting": 2}


async def test_a_hung_router_costs_one_request_two_timeouts_then_rests() -> None:
    # Accepts connections (the kernel's backlog does) and never answers: a hung router.
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(64)
    reasons, count = counted()
    router = OsrmTravel(f"http://127.0.0.1:{hung.getsockname()[1]}", timeout_s=0.2, on_fallback=count)
    travel = router.with_fallback(GeodesicTravel(TravelSettings()))
    try:
        began = time.monotonic()
        for _ in range(5):  # five technicians' ETAs in one flush
            seconds = await travel.from_one(BULEVARDI, [ETELARANTA])
            assert np.isfinite(seconds).all()
        took = time.monotonic() - began
    finally:
        await router.close()
        hung.close()
    assert reasons == [FallbackReason.TIMEOUT] + [FallbackReason.RESTING] * 4
    assert took < 1.0, took  # two timeouts of 0.2 s, not ten


async def test_a_chain_of_jobs_is_timed_leg_by_leg_as_the_table_times_each_pair(
    road_router: RoadRouter,
) -> None:
    chain = np.array([BULEVARDI, ETELARANTA, (60.1695, 24.9522), (60.1640, 24.9460), BULEVARDI])
    router = OsrmTravel(road_router.url)
    try:
        legs = await router.between(chain[:-1], chain[1:])
        pairs = [(await router.from_one(tuple(a), [tuple(b)]))[0] for a, b in itertools.pairwise(chain)]
    finally:
        await router.close()
    # The route service, with U-turns allowed at each stop, drives each leg as a trip of its own.
    assert legs == pytest.approx(pairs, rel=0.01)
