"""A dispatcher's overrides through the API: version-guarded, reasoned, audited, told."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Role
from infra.db import Connection, connect
from tests.conftest import Auth, make_user
from tests.factories_matching import at, job, north, site, technician, territory
from tests.live_server import serving

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(6)  # early on the day of the visits


async def setup(conn: Connection) -> tuple[UUID, UUID, UUID, UUID]:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    bob = await technician(conn, metro, "Bob Doors", north(2))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=8.5)
    return metro, ann, bob, job_id


async def override(
    client: Client,
    auth: Auth,
    job_id: UUID,
    action: str,
    body: dict[str, Any],
    version: int | None,
    expect: int = 200,
) -> dict[str, Any]:
    headers = dict(auth.headers)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    response = await client.post(f"/jobs/{job_id}/{action}", json=body, headers=headers)
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_reassigning_moves_the_job_tells_both_technicians_and_the_customer(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    _, ann, bob, job_id = await setup(conn)
    moved = await override(
        client, dispatcher, job_id, "reassign", {"technician_id": str(bob), "reason": "Ann is sick"}, 1
    )
    # Today's job goes straight to Bob's phone: the day is under way.
    assert (moved["job"]["technician_id"], moved["job"]["status"]) == (str(bob), "dispatched")
    assert moved["job"]["version"] > 1
    event = await conn.fetchrow("SELECT kind, reason, data FROM job_events WHERE job_id = $1", job_id)
    assert event is not None
    assert (event["kind"], event["reason"], event["data"]["technician_id"]) == (
        "override_reassign",
        "Ann is sick",
        str(bob),
    )
    told = await conn.fetch(
        "SELECT kind, audience, technician_id FROM outbox WHERE job_id = $1 ORDER BY id", job_id
    )
    assert [(t["kind"], t["audience"], t["technician_id"]) for t in told] == [
        ("assigned", "customer", bob),
        ("job_added", "technician", bob),
        ("job_dispatched", "technician", bob),
        ("job_removed", "technician", ann),
    ]


async def test_a_stale_or_missing_version_or_no_reason_changes_nothing(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    _, _, bob, job_id = await setup(conn)
    body = {"technician_id": str(bob), "reason": "balance the day"}
    stale = await override(client, dispatcher, job_id, "reassign", body, 7, expect=412)
    assert "version 1" in stale["detail"]
    assert (await override(client, dispatcher, job_id, "reassign", body, None, expect=428))["extra"][0][
        "key"
    ] == "If-Match"
    empty = await override(client, dispatcher, job_id, "unassign", {"reason": ""}, 1, expect=400)
    assert empty["extra"][0]["key"] == "reason"
    assert await conn.fetchval("SELECT count(*) FROM job_events") == 0
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    assert await conn.fetchval("SELECT version FROM jobs WHERE id = $1", job_id) == 1


async def test_unassign_pin_unpin_and_window_each_leave_their_trace(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    _, ann, _, job_id = await setup(conn)
    pinned = await override(
        client,
        dispatcher,
        job_id,
        "pin",
        {"reason": "customer asked for 10", "start_at": at(10).isoformat()},
        1,
    )
    assert (pinned["pinned"], pinned["pinned_start_at"], pinned["technician_id"]) == (
        True,
        at(10).isoformat().replace("-06:00", "Z").replace("T10", "T16"),
        str(ann),
    )
    told = await conn.fetch("SELECT kind, audience FROM outbox WHERE job_id = $1 ORDER BY id", job_id)
    # Pinned to a time today, a day that is released: it goes to the phone as well.
    assert [(t["kind"], t["audience"]) for t in told] == [
        ("job_pinned", "technician"),
        ("visit_time_set", "customer"),
        ("job_dispatched", "technician"),
    ]
    outside = {"reason": "later", "start_at": at(13).isoformat()}
    assert (await override(client, dispatcher, job_id, "pin", outside, pinned["version"], expect=422))[
        "extra"
    ][0]["key"] == "start_at"
    narrower = {
        "window_start_at": at(11).isoformat(),
        "window_end_at": at(12).isoformat(),
        "reason": "customer busy",
    }
    clash = await override(client, dispatcher, job_id, "window", narrower, pinned["version"], expect=409)
    assert "unpin" in clash["detail"]
    unpinned = await override(
        client, dispatcher, job_id, "unpin", {"reason": "any time is fine"}, pinned["version"]
    )
    assert unpinned["pinned"] is False
    moved = await override(client, dispatcher, job_id, "window", narrower, unpinned["version"])
    assert moved["window_start_at"].startswith("2026-12-01T17:00")
    back = await override(client, dispatcher, job_id, "unassign", {"reason": "rebook"}, moved["version"])
    assert (back["status"], back["technician_id"], back["planned_start_at"]) == ("new", None, None)
    kinds = [
        r["kind"]
        for r in await conn.fetch("SELECT kind FROM job_events WHERE job_id = $1 ORDER BY id", job_id)
    ]
    # The pin released the job to the phone (a status event), then the overrides went on.
    assert kinds == ["override_pin", "status", "override_unpin", "override_window", "override_unassign"]
    audit = await client.get(
        "/audit", params={"actor": await dispatcher_email(conn, dispatcher)}, headers=dispatcher.headers
    )
    overrides = [k for k in kinds if k.startswith("override_")]
    assert [e["kind"] for e in audit.json()["items"]] == list(reversed(overrides))


async def test_a_window_the_day_cannot_keep_is_refused(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, ann, _, job_id = await setup(conn)
    # Ann's 12:00 job is fixed; this one cannot also start at 12:00 with an hour of work.
    await job(
        conn, await site(conn, metro, north(5)), (12, 12.25), technician_id=ann, planned=12, pinned_at=12
    )
    squeezed = {
        "window_start_at": at(11.9).isoformat(),
        "window_end_at": at(12).isoformat(),
        "reason": "late riser",
    }
    refused = await override(client, dispatcher, job_id, "window", squeezed, 1, expect=409)
    assert "fits nowhere in its technician's day" in refused["detail"]
    assert refused["extra"][0]["key"] == "window_end_at"
    row = await conn.fetchrow(
        "SELECT window_start_at, planned_start_at, version FROM jobs WHERE id = $1", job_id
    )
    assert row is not None
    assert (row["window_start_at"], row["planned_start_at"], row["version"]) == (at(8), at(8.5), 1)
    assert await conn.fetchval("SELECT count(*) FROM job_events") == 0
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_window_that_no_longer_fits_its_place_moves_the_job_within_the_same_day(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, ann, _, job_id = await setup(conn)
    # Ann's day: this job at 8:30, then a 9:45 one due by 10:00. Asked for 10:00-12:00 instead,
    # the job cannot stay first (the other would start after 11:00); second, it fits.
    early = await job(conn, await site(conn, metro, north(0.5)), (8, 10), technician_id=ann, planned=9.75)
    later = {"window_start_at": at(10).isoformat(), "window_end_at": at(12).isoformat(), "reason": "asked"}

    moved = await override(client, dispatcher, job_id, "window", later, 1)

    assert moved["technician_id"] == str(ann)
    assert datetime.fromisoformat(moved["window_start_at"]) == at(10)
    placed = await conn.fetchrow("SELECT planned_start_at, eta_at FROM jobs WHERE id = $1", job_id)
    other = await conn.fetchval("SELECT planned_start_at FROM jobs WHERE id = $1", early)
    assert placed is not None
    assert at(10) <= placed["planned_start_at"] <= at(12)
    assert other < at(10) <= placed["planned_start_at"]  # the other job now comes first
    kinds = await conn.fetch("SELECT job_id, kind FROM job_events ORDER BY id")
    assert [(k["job_id"], k["kind"]) for k in kinds] == [(job_id, "override_window"), (early, "replanned")]
    told = await conn.fetchrow(
        "SELECT payload FROM outbox WHERE job_id = $1 AND audience = 'technician'"
        " AND kind = 'window_changed'",
        job_id,
    )
    assert told is not None
    assert told["payload"]["replanned"] == [str(early)]
    assert datetime.fromisoformat(told["payload"]["planned_start_at"]) == placed["planned_start_at"]
    # If-Match still guards it: the version the dispatcher read is gone.
    stale = await override(client, dispatcher, job_id, "window", later, 1, expect=412)
    assert "version" in stale["detail"]


async def test_a_dispatcher_scoped_to_another_territory_cannot_override(
    client: Client, conn: Connection
) -> None:
    _, _, bob, job_id = await setup(conn)
    elsewhere = await make_user(conn, Role.DISPATCHER, territory_id=await territory(conn))
    body = {"technician_id": str(bob), "reason": "x"}
    assert (await override(client, elsewhere, job_id, "reassign", body, 1, expect=404))["status_code"] == 404


async def dispatcher_email(conn: Connection, auth: Auth) -> str:
    email: str = await conn.fetchval("SELECT email FROM users WHERE id = $1", auth.user_id)
    return email


async def test_a_move_waits_for_the_day_before_taking_its_job_so_it_cannot_deadlock_a_replan(
    app: Litestar, conn: Connection, dsn: str, dispatcher: Auth
) -> None:
    # An assignment holds Ann's day and is about to re-time her jobs, this one among them. A move
    # of this job that locked the job first and the day second would deadlock with it.
    _, ann, bob, job_id = await setup(conn)
    body = {"technician_id": str(bob), "reason": "Ann is sick"}
    headers = {**dispatcher.headers, "If-Match": '"1"'}
    replan = await connect(dsn)
    try:
        async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
            async with replan.transaction():
                await replan.execute("SELECT 1 FROM technicians WHERE id = $1 FOR UPDATE", ann)
                move = asyncio.create_task(http.post(f"/jobs/{job_id}/reassign", json=body, headers=headers))
                await asyncio.sleep(0.5)  # the move is waiting by now
                async with asyncio.timeout(3):
                    await replan.execute("UPDATE jobs SET version = version + 1 WHERE id = $1", job_id)
            # The re-plan committed first and moved the version on: the move, which waited, is stale.
            assert (await move).status_code == 412
    finally:
        await replan.close()
