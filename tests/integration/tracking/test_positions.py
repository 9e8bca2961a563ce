"""Pings through the API, the daily partitions, and the alert for a technician gone quiet."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.matching.candidates import MatchSettings
from dispatch.tracking import risk_watch
from dispatch.tracking.position_intake import PositionIntake
from dispatch.tracking.positions import Batch, Ping, maintain_partitions
from infra.db import Connection, create_pool
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(10)


def body(*pings: tuple[float, float]) -> dict[str, object]:
    return {
        "pings": [
            {
                "recorded_at": at(hour).isoformat(),
                "latitude": north(km)[0],
                "longitude": north(km)[1],
                "accuracy_m": 8,
            }
            for hour, km in pings
        ]
    }


async def test_a_backlog_goes_in_once_and_the_latest_fix_moves_only_forward(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await login_of(conn, await technician(conn, metro, "Ann Springs", north(0)))
    batch = body((9.0, 0), (9.1, 1), (9.2, 80), (9.3, 2), (11.0, 3))
    response = await client.post("/technicians/me/positions", json=batch, headers=ann.headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["duplicates"]) == (3, 0)
    assert [f["index"] for f in result["flagged"]] == [2]
    assert [r["index"] for r in result["rejected"]] == [4]
    assert result["latest_at"] == at(9.3).isoformat().replace("-06:00", "Z").replace("T09", "T15")
    again = (await client.post("/technicians/me/positions", json=batch, headers=ann.headers)).json()
    assert (again["accepted"], again["duplicates"]) == (0, 4)
    older = (await client.post("/technicians/me/positions", json=body((8.5, 5)), headers=ann.headers)).json()
    assert older["accepted"] == 1
    assert await conn.fetchval("SELECT recorded_at FROM technician_latest_positions") == at(9.3)
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 5
    refused = await client.post("/technicians/me/positions", json=body((9.0, 0)), headers=dispatcher.headers)
    assert refused.status_code == 403
    bad = await client.post(
        "/technicians/me/positions",
        json={"pings": [{"recorded_at": at(9).isoformat(), "latitude": 91, "longitude": 0}]},
        headers=ann.headers,
    )
    assert bad.status_code == 400
    assert "latitude" in bad.text


async def test_daily_partitions_are_made_ahead_take_over_their_rows_and_go_after_the_retention(
    conn: Connection,
) -> None:
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Springs", north(0))
    await conn.execute(
        "INSERT INTO technician_positions (technician_id, recorded_at, latitude, longitude) VALUES"
        " ($1, '2026-12-01T15:00:00Z', 45, -93), ($1, '2026-10-01T15:00:00Z', 45, -93)",
        tech,
    )
    async with conn.transaction():
        created, dropped = await maintain_partitions(conn, today=date(2026, 12, 1), retention_days=30)
    assert (created, dropped) == (9, 0)
    assert await conn.fetchval("SELECT count(*) FROM technician_positions_20261201") == 1
    # The October fix was past the retention and left with the default partition's old rows.
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 1
    async with conn.transaction():
        created, dropped = await maintain_partitions(
            conn, today=date(2026, 12, 1) + timedelta(days=31), retention_days=30
        )
    assert dropped == 2  # 30 November and 1 December: before 2 December, 30 days back
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 0


async def test_a_technician_on_shift_who_goes_quiet_is_checked_on(conn: Connection) -> None:
    metro = await territory(conn)
    quiet = await technician(conn, metro, "Quiet Quinn", north(0))
    await technician(conn, metro, "Bob Doors", north(1))
    next_job = await job(conn, await site(conn, metro, north(2)), (10, 14), technician_id=quiet, planned=11)
    await conn.execute(
        "INSERT INTO technician_latest_positions (technician_id, recorded_at, latitude, longitude)"
        " VALUES ($1, $2, 44.97, -93.26)",
        quiet,
        at(9.5),
    )
    async with conn.transaction():
        raised = await risk_watch.scan(conn, MatchSettings(), routing=None, now=at(10))
    assert raised == 1
    alert = await conn.fetchrow("SELECT job_id, payload FROM outbox WHERE kind = 'technician_silent'")
    assert alert is not None
    assert alert["job_id"] == next_job
    assert [c["name"] for c in alert["payload"]["candidates"]] == ["Bob Doors"]


async def on_the_road(
    app: Litestar, client: Client, conn: Connection
) -> tuple[UUID, Callable[[float, float], Awaitable[None]]]:
    """Ann, 20 km out at 8:30, has set off to a job due 8-10 that was planned for 9:00; `ping(hour,
    km)` is her phone at that hour, that many km from the customer (and the clock then)."""
    clock = {"now": at(8.5)}
    app.state.clock = lambda: clock["now"]
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Springs", north(20))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 10), technician_id=tech, planned=9)
    await conn.execute("UPDATE jobs SET status = 'dispatched', eta_at = $2 WHERE id = $1", job_id, at(9))
    ann = await login_of(conn, tech)
    await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers)

    async def ping(hour: float, km: float) -> None:
        clock["now"] = at(hour)
        response = await client.post("/technicians/me/positions", json=body((hour, km)), headers=ann.headers)
        assert response.status_code == 200, response.text

    return job_id, ping


async def test_pings_on_the_road_move_the_eta_and_tell_the_customer_only_what_is_news(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, ping = await on_the_road(app, client, conn)

    # 20 km out at 8:30: 20 x 1.3 at 35 km/h + 2 min = 46.6 min, so 9:16.6. Told 9:00: news.
    await ping(8.5, 20)
    eta = await conn.fetchval("SELECT eta_at FROM jobs WHERE id = $1", job_id)
    assert abs((eta - at(8.5)).total_seconds() - (20 * 1.3 / 35 * 3600 + 120)) < 5
    # 1 km out at 9:06: raw 9:10.2, smoothed halfway from 9:16.6 to 9:13.4 (3.2 min: not news);
    # 7.4 minutes away: "nearby", once.
    await ping(9.1, 1)
    await ping(9.12, 0.8)
    kinds = [
        r["kind"] for r in await conn.fetch("SELECT kind FROM outbox WHERE job_id = $1 ORDER BY id", job_id)
    ]
    assert kinds == ["on_the_way", "eta_changed", "nearby"]
    told = await conn.fetchval(
        "SELECT payload FROM outbox WHERE job_id = $1 AND kind = 'eta_changed'", job_id
    )
    assert told["technician"] == "Ann"


async def test_a_technician_on_the_way_who_stops_moving_is_checked_on(conn: Connection) -> None:
    metro = await territory(conn)
    stuck = await technician(conn, metro, "Stuck Sam", north(0))
    await technician(conn, metro, "Bob Doors", north(1))
    target = await job(conn, await site(conn, metro, north(2)), (10, 14), technician_id=stuck, planned=10.5)
    await conn.execute("UPDATE jobs SET status = 'en_route' WHERE id = $1", target)
    # Pinging every five minutes from 9:30 to 10:00, all from the same corner.
    for minutes in range(0, 35, 5):
        await conn.execute(
            "INSERT INTO technician_positions (technician_id, recorded_at, latitude, longitude)"
            " VALUES ($1, $2, $3, $4)",
            stuck,
            at(9.5) + timedelta(minutes=minutes),
            *north(0.5),
        )
    await conn.execute(
        "INSERT INTO technician_latest_positions (technician_id, recorded_at, latitude, longitude)"
        " SELECT id, $1, 44.97, -93.26 FROM technicians",
        at(10),
    )
    async with conn.transaction():
        raised = await risk_watch.scan(conn, MatchSettings(), routing=None, now=at(10))
    assert raised == 1
    alert = await conn.fetchrow("SELECT job_id, payload FROM outbox WHERE kind = 'technician_stuck'")
    assert alert is not None
    assert alert["job_id"] == target
    assert [c["name"] for c in alert["payload"]["candidates"]] == ["Bob Doors"]
    # Moving again: no new alert (and this one is never raised twice).
    await conn.execute(
        "INSERT INTO technician_positions (technician_id, recorded_at, latitude, longitude)"
        " VALUES ($1, $2, $3, $4)",
        stuck,
        at(10.1),
        *north(1.5),
    )
    async with conn.transaction():
        assert await risk_watch.scan(conn, MatchSettings(), routing=None, now=at(10.2)) == 0


async def test_requests_arriving_together_are_written_together_each_judged_and_answered_for_itself(
    conn: Connection, dsn: str
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(0))
    bob = await technician(conn, metro, "Bob Doors", north(5))
    pool = await create_pool(dsn, min_size=1, max_size=2)
    intake = PositionIntake(pool)
    now = at(10)

    def batch(tech: UUID, *pings: tuple[float, float]) -> Batch:
        return Batch(tech, [Ping(at(hour), *north(km)) for hour, km in pings], now)

    try:
        results = await asyncio.gather(
            intake.record(batch(ann, (9.0, 0))),
            intake.record(batch(ann, (9.01, 80))),  # 80 km in 36 s after the fix just before it
            intake.record(batch(bob, (9.0, 5), (12.0, 5))),  # the second from the future
            intake.record(batch(ann, (9.0, 0), (9.02, 0.5))),  # a repeat, then a fix nearby
        )
        assert intake.flushes == 1  # one read and one write for all four requests
        first, jump, bobs, repeat = results
        assert (first.accepted, first.duplicates, first.flagged) == (1, 0, [])
        assert [f.reason for f in jump.flagged] == ["a jump of 80.0 km in 36 s"]
        assert (bobs.accepted, [r.index for r in bobs.rejected]) == (1, [1])
        assert (repeat.accepted, repeat.duplicates, repeat.latest_at) == (1, 1, at(9.02))
        rows = await conn.fetch("SELECT technician_id, recorded_at FROM technician_latest_positions")
        latest = {r["technician_id"]: r["recorded_at"] for r in rows}
        assert latest == {ann: at(9.02), bob: at(9.0)}
        assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 4
        # A write that fails fails every request it carried, each with the reason.
        await pool.close()
        failures = await asyncio.gather(
            intake.record(batch(ann, (9.1, 1))), intake.record(batch(bob, (9.1, 5))), return_exceptions=True
        )
        assert all(isinstance(f, Exception) for f in failures)
    finally:
        await pool.close()


async def test_a_started_api_keeps_what_it_loaded_out_of_the_collectors_full_passes(
    client: AsyncTestClient[Litestar],
) -> None:
    # Full collections walking every module and route mid-request were the pings' p99.
    assert (await client.get("/health")).status_code == 200
    assert gc.get_freeze_count() > 10_000


async def test_the_customer_page_hears_of_an_eta_moved_by_a_minute_not_of_every_ping(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, ping = await on_the_road(app, client, conn)

    async def eta_after(hour: float) -> datetime:
        await ping(hour, 20)
        eta: datetime = await conn.fetchval("SELECT eta_at FROM jobs WHERE id = $1", job_id)
        return eta

    # Standing 20 km out, the raw ETA is always 46.6 min away; each step is smoothed halfway.
    first = await eta_after(8.5)  # 9:16.6, the first ETA on the way: the page hears of it
    second = await eta_after(8.525)  # raw 9:18.1, smoothed 9:17.35: 45 s moved, written, not news
    third = await eta_after(8.55)  # raw 9:19.6, smoothed 9:18.5: 1.9 min from what the page heard
    assert (second - first).total_seconds() == pytest.approx(45, abs=1)
    assert (third - first).total_seconds() == pytest.approx(112.5, abs=1)
    said = await conn.fetch(
        "SELECT (data ->> 'eta_at')::timestamptz AS eta_at FROM job_events"
        " WHERE job_id = $1 AND kind = 'eta' ORDER BY id",
        job_id,
    )
    assert [r["eta_at"] for r in said] == [first, third]


async def test_the_customer_page_hears_of_the_technician_coming_closer_every_200_m_not_every_ping(
    app: Litestar, client: Client, conn: Connection
) -> None:
    job_id, ping = await on_the_road(app, client, conn)
    # A steady drive at about 50 km/h (a ping every 8.6 s), so the raw ETA hardly moves.
    for i, km in enumerate((20, 19.9, 19.7, 19.6, 19.45)):
        await ping(8.5 + i * 0.0024, km)
    said = await conn.fetch(
        "SELECT (data ->> 'distance_m')::float8 AS m FROM job_events"
        " WHERE job_id = $1 AND kind = 'position' ORDER BY id",
        job_id,
    )
    # 20 km (the first on the way), then 300 m and 250 m closer; not the 100 m steps between.
    assert [round(r["m"] / 1000, 2) for r in said] == [20.0, 19.7, 19.45]
