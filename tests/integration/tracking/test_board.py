"""The board and its live stream, on real PostgreSQL and, for the stream, real HTTP servers."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import Auth
from tests.factories_matching import at, job, north, site, technician, territory
from tests.live_server import serving

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(10)


async def test_the_board_puts_jobs_at_risk_first_with_why(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    bob = await technician(conn, metro, "Bob Doors", north(2))
    fine = await job(conn, await site(conn, metro, north(0)), (10, 14), technician_id=bob, planned=11)
    late = await job(conn, await site(conn, metro, north(3)), (9, 11), technician_id=ann, planned=10.5)
    await conn.execute("UPDATE jobs SET eta_at = $2 WHERE id = $1", late, at(11.25))
    closing = await job(conn, await site(conn, metro, north(4)), (8, 12.5))
    await job(conn, await site(conn, metro, north(5)), (15, 18))
    response = await client.get(
        "/board", params={"territory_id": str(metro), "date": "2026-12-01"}, headers=dispatcher.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # Most urgent first: by priority, then the window that closes soonest.
    assert [(j["job_id"], j["risks"]) for j in body["at_risk"]] == [
        (str(late), ["eta_past_window"]),
        (str(closing), ["unassigned_window_closing"]),
    ]
    assert [t["name"] for t in body["technicians"]] == ["Ann Springs", "Bob Doors"]
    assert [j["job_id"] for j in body["technicians"][1]["route"]] == [str(fine)]
    assert len(body["unassigned"]) == 2
    assert body["timezone"] == "America/Chicago"


async def read_events(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line.startswith("id:"):
            current["id"] = int(line[3:].strip())
        elif line.startswith("data:"):
            current["data"] = msgspec.json.decode(line[5:].strip())
        elif line == "" and current:
            events.append(current)
            current = {}
            if len(events) == count:
                return events
    return events


async def test_a_change_made_through_one_process_reaches_a_listener_on_another_and_resumes(
    app: Litestar, settings: Settings, dsn: str, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=9)
    other = create_app(settings, dsn=dsn)
    other.state.clock = app.state.clock
    headers = dispatcher.headers
    async with (
        serving(app) as writer_url,
        serving(other) as reader_url,
        httpx.AsyncClient(base_url=reader_url, headers=headers, timeout=10) as reader,
        httpx.AsyncClient(base_url=writer_url, headers=headers) as writer,
    ):
        async with reader.stream("GET", "/board/stream", params={"territory_id": str(metro)}) as live:
            assert live.status_code == 200
            await asyncio.sleep(0.3)  # let the stream subscribe before the change
            change = await writer.post(f"/jobs/{job_id}/status", json={"status": "dispatched"})
            assert change.status_code == 200, change.text
            note = await writer.post(f"/jobs/{job_id}/notes", json={"text": "gate code 4412"})
            assert note.status_code == 201
            first, second = await asyncio.wait_for(read_events(live, 2), 10)
        assert (first["data"]["kind"], first["data"]["to_status"]) == ("status", "dispatched")
        assert second["data"]["kind"] == "note"
        # Reconnecting with the first id replays exactly what came after it.
        async with reader.stream(
            "GET", "/board/stream", headers={"Last-Event-ID": str(first["id"])}
        ) as again:
            (replayed,) = await asyncio.wait_for(read_events(again, 1), 10)
        assert replayed["id"] == second["id"]
    assert isinstance(UUID(first["data"]["job_id"]), UUID)
