"""A dispatcher bound to a territory gives work to its technicians only. Matching may send a
technician across the border (within reach) when an admin or an unbound dispatcher asks, so the
neighbour one kilometre away is the best candidate for them, and no candidate at all for a
dispatcher of the job's territory; the windows offered and the booking follow the same rule."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection
from tests.conftest import Auth, make_user
from tests.factories_assets import insert_asset
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(12) - timedelta(days=2)  # noon, 29 November


async def border(conn: Connection) -> tuple[UUID, UUID, UUID, UUID]:
    """West's door; East's technician 1 km from it, West's own 6 km away."""
    west, east = await territory(conn), await territory(conn)
    neighbour = await technician(conn, east, "Ned Neighbour", north(1))
    own = await technician(conn, west, "Owen Own", north(6))
    door = await site(conn, west, north(0), line="12 Oak Street")
    await insert_asset(conn, door)
    return west, door, neighbour, own


async def names(client: Client, auth: Auth, job_id: UUID) -> list[str]:
    response = await client.get(f"/jobs/{job_id}/candidates", headers=auth.headers)
    assert response.status_code == 200, response.text
    return [c["name"] for c in response.json()["candidates"]]


async def test_a_bound_dispatcher_is_offered_and_auto_assigns_their_own_technicians_only(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    west, door, _, own = await border(conn)
    job_id = await job(conn, door, (8, 12))
    bound = await make_user(conn, Role.DISPATCHER, territory_id=west)

    assert await names(client, dispatcher, job_id) == ["Ned Neighbour", "Owen Own"]
    assert await names(client, bound, job_id) == ["Owen Own"]

    assigned = await client.post(f"/jobs/{job_id}/assignment", json={"auto": True}, headers=bound.headers)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["job"]["technician_id"] == str(own)


async def test_a_bound_dispatcher_cannot_name_another_territorys_technician(
    client: Client, conn: Connection
) -> None:
    west, door, neighbour, _ = await border(conn)
    job_id = await job(conn, door, (8, 12))
    bound = await make_user(conn, Role.DISPATCHER, territory_id=west)

    refused = await client.post(
        f"/jobs/{job_id}/assignment", json={"technician_id": str(neighbour)}, headers=bound.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["extra"][0]["key"] == "technician_id"
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id) == "new"


async def test_windows_and_bookings_of_a_bound_dispatcher_count_their_technicians_only(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    west, door, _, own = await border(conn)
    bound = await make_user(conn, Role.DISPATCHER, territory_id=west)
    query: dict[str, Any] = {"site_id": str(door), "problem_code": "broken_spring", "days": 3}

    def first_morning(body: dict[str, Any]) -> int:
        return int(
            next(
                s["technicians"]
                for s in body["slots"]
                if datetime.fromisoformat(s["window_start_at"]) == at(8)
            )
        )

    unbound = await client.get("/slots", params=query, headers=dispatcher.headers)
    mine = await client.get("/slots", params=query, headers=bound.headers)
    assert unbound.status_code == mine.status_code == 200, (unbound.text, mine.text)
    assert (first_morning(unbound.json()), first_morning(mine.json())) == (2, 1)

    booked = await client.post(
        "/slots/book",
        json={
            "site_id": str(door),
            "problem_code": "broken_spring",
            "window_start_at": at(8).isoformat(),
            "window_end_at": at(10).isoformat(),
        },
        headers=bound.headers,
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["assignment"]["job"]["technician_id"] == str(own)
