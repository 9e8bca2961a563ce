"""Bookable arrival windows and booking one, through the API on a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_asset
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(12, day=29) - timedelta(days=30)  # noon, 29 November


async def offered(client: Client, auth: Auth, **params: Any) -> list[tuple[datetime, datetime]]:
    response = await client.get("/slots", params=params, headers=auth.headers)
    assert response.status_code == 200, response.text
    return [
        (datetime.fromisoformat(s["window_start_at"]), datetime.fromisoformat(s["window_end_at"]))
        for s in response.json()["slots"]
    ]


async def garage(conn: Connection) -> tuple[UUID, UUID, UUID]:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1), shift=(8, 12), day=1)
    await technician(conn, metro, "Ann Springs tomorrow", north(1), shift=(8, 16.5), day=2)
    door_site = await site(conn, metro, north(0), line="12 Oak Street")
    await insert_asset(conn, door_site)
    return metro, ann, door_site


async def test_windows_are_cut_from_shifts_and_a_full_day_offers_none(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, ann, door_site = await garage(conn)
    windows = await offered(client, dispatcher, site_id=str(door_site), problem_code="broken_spring", days=7)
    # A 75-minute spring job: 1 Dec 8-10 and 10-12 (it ends by noon), 2 Dec 8-10 ... 14-16.
    assert sorted(windows) == [
        (at(8), at(10)),
        (at(10), at(12)),
        (at(8, 2), at(10, 2)),
        (at(10, 2), at(12, 2)),
        (at(12, 2), at(14, 2)),
        (at(14, 2), at(16, 2)),
    ]
    # A pinned three-and-a-half-hour job fills the first of December.
    other = await site(conn, metro, north(0.5))
    await job(conn, other, (8, 8.25), duration_s=12600, technician_id=ann, planned=8, pinned_at=8)
    windows = await offered(client, dispatcher, site_id=str(door_site), problem_code="broken_spring", days=7)
    assert all(start.date() == at(0, 2).date() for start, _ in windows)
    assert len(windows) == 4
    hourly = await offered(
        client,
        dispatcher,
        site_id=str(door_site),
        problem_code="broken_spring",
        days=7,
        length_s=3600,
        limit=3,
    )
    assert len(hourly) == 3
    assert all(end - start == timedelta(hours=1) for start, end in hourly)


async def test_only_qualified_technicians_make_windows(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    await technician(conn, metro, "Gil Glass", north(1), skills={"auto_glass_repair": 3}, day=1)
    door_site = await site(conn, metro, north(0))
    await insert_asset(conn, door_site)
    assert await offered(client, dispatcher, site_id=str(door_site), problem_code="broken_spring") == []
    response = await client.get(
        "/slots", params={"site_id": str(door_site), "problem_code": "no_such"}, headers=dispatcher.headers
    )
    assert response.status_code == 422
    assert "problem_code" in response.text
    response = await client.get(
        "/slots", params={"problem_code": "broken_spring"}, headers=dispatcher.headers
    )
    assert response.status_code == 400
    assert "site_id" in response.text


async def test_booking_a_window_creates_and_assigns_the_job_and_a_taken_window_keeps_nothing(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    _, ann, door_site = await garage(conn)
    body = {
        "site_id": str(door_site),
        "problem_code": "broken_spring",
        "window_start_at": at(10).isoformat(),
        "window_end_at": at(12).isoformat(),
    }
    response = await client.post("/slots/book", json=body, headers=dispatcher.headers)
    assert response.status_code == 201, response.text
    booked = response.json()["assignment"]["job"]
    assert booked["status"] == "scheduled"
    assert booked["technician_id"] == str(ann)
    assert at(10) <= datetime.fromisoformat(booked["planned_start_at"]) <= at(12)
    # The same window again: a second 75-minute job would have to start 10-12 and, like the first,
    # end by noon when Ann's shift ends. It is refused, and no second job is left behind.
    again = await client.post("/slots/book", json=body, headers=dispatcher.headers)
    assert again.status_code == 409
    assert "no longer available" in again.json()["detail"]
    assert await conn.fetchval("SELECT count(*) FROM jobs") == 1
    windows = await offered(client, dispatcher, site_id=str(door_site), problem_code="broken_spring", days=7)
    assert (at(10), at(12)) not in windows
