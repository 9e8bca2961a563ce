"""Candidates and assignment through the API, on a real database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, cast
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Principal, Role
from dispatch.matching import assignment
from dispatch.matching.candidates import MatchSettings
from infra.db import Connection, create_pool
from infra.errors import ConflictError
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(12) - timedelta(days=2)  # noon, 29 November


async def candidates(client: Client, auth: Auth, job_id: UUID, **params: Any) -> dict[str, Any]:
    response = await client.get(f"/jobs/{job_id}/candidates", params=params, headers=auth.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_candidates_come_best_first_with_reasons_and_the_exclusions_counted(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    near = await technician(conn, metro, "Ann Near", north(1))
    await technician(conn, metro, "Bob Far", north(9))
    await technician(conn, metro, "Cid Glass", north(1), skills={"auto_glass_repair": 3})
    await technician(conn, metro, "Dee Evening", north(1), shift=(17, 23))
    await technician(conn, metro, "Eve Off", north(1), shift=None)
    door = await site(conn, metro, north(0))
    job_id = await job(conn, door, (8, 12))

    body = await candidates(client, dispatcher, job_id)
    assert body["considered"] == 5
    assert body["eligible"] == 2
    assert body["excluded"] == {"skill": 1, "off_shift": 2}
    first, second = body["candidates"]
    assert (first["name"], second["name"]) == ("Ann Near", "Bob Far")
    assert first["technician_id"] == str(near)
    # 1 km x 1.3 circuity at 35 km/h plus 2 min at the door: 4 min; the shift starts 8:00.
    assert first["drive_min"] == 4.2
    assert first["reason"] == "4 min away, arrives 8:00–8:30"
    assert datetime.fromisoformat(first["arrival_window_start_at"]) == at(8)
    assert set(first["breakdown"]) == {
        "travel",
        "lateness_risk",
        "parts",
        "overqualification",
        "continuity",
        "workload",
    }
    assert first["score"] < second["score"]

    limited = await candidates(client, dispatcher, job_id, limit=1)
    assert [c["name"] for c in limited["candidates"]] == ["Ann Near"]


async def test_only_staff_see_candidates_and_a_missing_job_is_404(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Near", north(1))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12))
    own = await login_of(conn, tech)
    assert (await client.get(f"/jobs/{job_id}/candidates", headers=own.headers)).status_code == 403
    assert (await client.get(f"/jobs/{job_id}/candidates")).status_code == 401
    missing = "00000000-0000-0000-0000-000000000001"
    assert (await client.get(f"/jobs/{missing}/candidates", headers=dispatcher.headers)).status_code == 404
    response = await client.get(f"/jobs/{job_id}/candidates?limit=0", headers=dispatcher.headers)
    assert response.status_code == 400
    assert "limit" in response.text


async def test_a_dispatched_job_has_candidates_until_its_technician_sets_off(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    """A dispatcher may still reassign a job on the phone already: the console asks for its
    candidates. Once the technician is on the road, matching is over."""
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Near", north(1))
    await technician(conn, metro, "Bob Far", north(4))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=9)
    await conn.execute("UPDATE jobs SET status = 'dispatched' WHERE id = $1", job_id)
    ranked = await candidates(client, dispatcher, job_id)
    assert {c["name"] for c in ranked["candidates"]} >= {"Bob Far"}
    await conn.execute("UPDATE jobs SET status = 'en_route' WHERE id = $1", job_id)
    late = await client.get(f"/jobs/{job_id}/candidates", headers=dispatcher.headers)
    assert late.status_code == 409
    assert "set off" in late.json()["detail"]


async def test_assigning_puts_the_job_in_the_day_and_moves_what_comes_after(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Near", north(0))
    later_site = await site(conn, metro, north(10))
    later = await job(conn, later_site, (8, 15), technician_id=ann, planned=8.1)
    await conn.execute("UPDATE jobs SET eta_at = planned_start_at WHERE id = $1", later)
    new = await job(conn, await site(conn, metro, north(1)), (8, 9))

    response = await client.post(
        f"/jobs/{new}/assignment", json={"technician_id": str(ann)}, headers=dispatcher.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["job"]["status"] == "scheduled"
    assert body["job"]["technician_id"] == str(ann)
    assert response.headers["etag"] == f'"{body["job"]["version"]}"'
    assert body["candidate"]["position"] == 0
    assert body["replanned"] == [str(later)]
    planned = await conn.fetchrow("SELECT planned_start_at, version FROM jobs WHERE id = $1", later)
    assert planned is not None
    # Ann now drives 1 km, works an hour, then 9 km on: the later job starts after 9:00.
    assert planned["planned_start_at"] > at(9)
    assert planned["version"] == 2
    events = await conn.fetch("SELECT job_id, kind, data FROM job_events ORDER BY id")
    assert [(e["job_id"], e["kind"]) for e in events] == [(new, "assigned"), (later, "replanned")]
    assert events[0]["data"]["technician_id"] == str(ann)
    assert events[0]["data"]["auto"] is False

    again = await client.post(f"/jobs/{new}/assignment", json={"auto": True}, headers=dispatcher.headers)
    assert again.status_code == 409
    assert "already scheduled" in again.json()["detail"]


async def test_auto_takes_the_best_candidate_and_a_pinned_visit_does_not_move(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    await technician(conn, metro, "Bob Far", north(12))
    ann = await technician(conn, metro, "Ann Near", north(0))
    pinned = await job(
        conn, await site(conn, metro, north(2)), (8, 16), technician_id=ann, planned=11, pinned_at=11
    )
    new = await job(conn, await site(conn, metro, north(1)), (8, 16))
    response = await client.post(f"/jobs/{new}/assignment", json={"auto": True}, headers=dispatcher.headers)
    assert response.status_code == 200, response.text
    assert response.json()["job"]["technician_id"] == str(ann)
    assert await conn.fetchval("SELECT planned_start_at FROM jobs WHERE id = $1", pinned) == at(11)
    assert await conn.fetchval("SELECT version FROM jobs WHERE id = $1", pinned) == 1


async def test_a_technician_who_may_not_take_the_job_is_refused_with_the_rule(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    glass = await technician(conn, metro, "Cid Glass", north(1), skills={"auto_glass_repair": 3})
    new = await job(conn, await site(conn, metro, north(0)), (8, 12))
    before = await conn.fetchval("SELECT version FROM jobs WHERE id = $1", new)
    response = await client.post(
        f"/jobs/{new}/assignment", json={"technician_id": str(glass)}, headers=dispatcher.headers
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "the technician lacks a required skill level"
    assert await conn.fetchval("SELECT version FROM jobs WHERE id = $1", new) == before
    assert await conn.fetchval("SELECT count(*) FROM job_events") == 0

    for body, field in (({}, "technician_id"), ({"technician_id": str(glass), "auto": True}, "auto")):
        response = await client.post(f"/jobs/{new}/assignment", json=body, headers=dispatcher.headers)
        assert response.status_code == 422, body
        assert field in response.text
    unknown = {"technician_id": "00000000-0000-0000-0000-000000000002"}
    response = await client.post(f"/jobs/{new}/assignment", json=unknown, headers=dispatcher.headers)
    assert response.status_code == 422
    assert "technician_id" in response.text
    stale = await client.post(
        f"/jobs/{new}/assignment", json={"auto": True}, headers={**dispatcher.headers, "If-Match": '"9"'}
    )
    assert stale.status_code == 412


async def race(
    conn: Connection, dsn: str, hold: tuple[str, UUID], calls: list[tuple[UUID, UUID]], who: Auth
) -> list[str]:
    """Run assignments (job, technician) concurrently on their own connections, all released at
    once from behind a row lock the test holds, so they really are in flight together."""
    principal = Principal(user_id=who.user_id, role=Role.DISPATCHER)
    pool = await create_pool(dsn, min_size=len(calls), max_size=len(calls))

    async def assign(job_id: UUID, technician_id: UUID) -> str:
        async with pool.acquire() as own, own.transaction():
            try:
                await assignment.assign(
                    cast(Connection, own),
                    principal,
                    job_id,
                    MatchSettings(),
                    technician_id=technician_id,
                    routing=None,
                    now=at(0),
                )
            except ConflictError as refused:
                return refused.message
            return "assigned"

    try:
        holder = conn.transaction()
        await holder.start()
        await conn.execute(f"SELECT 1 FROM {hold[0]} WHERE id = $1 FOR UPDATE", hold[1])
        tasks = [asyncio.ensure_future(assign(*call)) for call in calls]
        waiting = 0
        for _ in range(200):
            await asyncio.sleep(0.025)
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting == len(calls):
                break
        await holder.rollback()
        outcomes = await asyncio.gather(*tasks)
    finally:
        await pool.close()
    assert waiting == len(calls), "every assignment should have been waiting on the held row"
    return sorted(outcomes)


async def test_two_assignments_of_one_job_at_once_one_wins_the_other_gets_409(
    client: Client, conn: Connection, dsn: str, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Near", north(0))
    bob = await technician(conn, metro, "Bob Near", north(0.5))
    new = await job(conn, await site(conn, metro, north(1)), (8, 12))
    outcomes = await race(conn, dsn, ("jobs", new), [(new, ann), (new, bob)], dispatcher)
    assert outcomes[0] == "assigned"
    # Assigned at midnight for that day, the job went straight to the winner's phone.
    assert outcomes[1].startswith("the job is already dispatched to technician")
    assert await conn.fetchval("SELECT count(*) FROM job_events WHERE kind = 'assigned'") == 1
    # Through the API, the loser is told with a 409.
    response = await client.post(
        f"/jobs/{new}/assignment", json={"technician_id": str(bob)}, headers=dispatcher.headers
    )
    assert response.status_code == 409


async def test_two_jobs_for_one_technician_at_once_never_break_the_day(
    conn: Connection, dsn: str, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Near", north(0), shift=(8, 10.5))
    # Two 2-hour jobs that both must start by 8:30: the day holds only one of them.
    first = await job(conn, await site(conn, metro, north(1)), (8, 8.5), duration_s=7200)
    second = await job(conn, await site(conn, metro, north(1.5)), (8, 8.5), duration_s=7200)
    outcomes = await race(conn, dsn, ("technicians", ann), [(first, ann), (second, ann)], dispatcher)
    assert outcomes == ["assigned", "the technician has no room in that day without breaking another promise"]
    assert await conn.fetchval("SELECT count(*) FROM jobs WHERE technician_id = $1", ann) == 1


async def test_the_fleet_kept_in_memory_follows_every_change_in_the_database(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Near", north(1))
    await technician(conn, metro, "Bob Far", north(9))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12))
    cache = app.state.fleet_cache
    for _ in range(100):  # the listener connects in the background
        if cache.live:
            break
        await asyncio.sleep(0.02)
    assert cache.live

    first = await candidates(client, dispatcher, job_id)
    again = await candidates(client, dispatcher, job_id)
    assert again == first
    assert (cache.misses, cache.hits) == (1, 1)

    # Another process (here: a direct connection) gives Ann the whole morning.
    generation = cache.generation
    await job(
        conn, await site(conn, metro, north(30)), (8, 8.5), duration_s=4 * 3600, technician_id=ann, planned=8
    )
    for _ in range(100):
        if cache.generation != generation:
            break
        await asyncio.sleep(0.02)
    assert cache.generation != generation, "the change should have been heard"
    after = await candidates(client, dispatcher, job_id)
    assert [c["name"] for c in after["candidates"]] == ["Bob Far"]
    assert after["excluded"] == {"no_room": 1}
