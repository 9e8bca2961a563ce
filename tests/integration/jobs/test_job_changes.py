"""The writers of a job's status, owner and plan had drifted apart; each drift, now one write in
dispatch.jobs.changes, through the API that reaches it."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import cast
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.access.accounts import Principal, Role
from dispatch.jobs import job_queries
from dispatch.matching.candidates import MatchSettings
from dispatch.workday import shift_work
from infra.db import Connection, create_pool
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory
from tests.integration.planning.test_plans import DAY, crossed_day, solved

Client = AsyncTestClient[Litestar]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(6)


async def with_detour(conn: Connection, job_id: UUID, territory_id: UUID) -> UUID:
    """The job's technician stops at a depot on the way, as matching plans for missing parts."""
    depot: UUID = await conn.fetchval(
        "INSERT INTO stock_locations (kind, name, territory_id, latitude, longitude)"
        " VALUES ('depot', 'North depot', $1, $2, $3) RETURNING id",
        territory_id,
        *north(3),
    )
    await conn.execute("UPDATE jobs SET pickup_location_id = $2, pickup_s = 600 WHERE id = $1", job_id, depot)
    return depot


async def anns_job(conn: Connection) -> tuple[UUID, UUID, UUID]:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    return (
        metro,
        ann,
        await job(conn, await site(conn, metro, north(2)), (9, 12), technician_id=ann, planned=9),
    )


async def detour(conn: Connection, job_id: UUID) -> tuple[UUID | None, int]:
    row = await conn.fetchrow("SELECT pickup_location_id, pickup_s FROM jobs WHERE id = $1", job_id)
    assert row is not None
    return row["pickup_location_id"], row["pickup_s"]


async def test_a_sick_call_takes_the_depot_detour_back_with_the_job(client: Client, conn: Connection) -> None:
    metro, ann, job_id = await anns_job(conn)
    await with_detour(conn, job_id, metro)
    phone = await login_of(conn, ann)
    sick = await client.post("/technicians/me/sick", json={"reason": "flu"}, headers=phone.headers)
    assert sick.status_code == 201, sick.text
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id) == "new"
    assert await detour(conn, job_id) == (None, 0)


async def test_a_cancelled_job_keeps_no_depot_detour(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, _ann, job_id = await anns_job(conn)
    await with_detour(conn, job_id, metro)
    cancelled = await client.post(
        f"/jobs/{job_id}/cancel", json={"reason": "fixed it"}, headers=dispatcher.headers
    )
    assert cancelled.status_code == 200, cancelled.text
    assert await detour(conn, job_id) == (None, 0)


async def test_a_plan_that_moves_a_job_leaves_the_old_technicians_detour_behind(
    app: Litestar, client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro, _, bob, by_bob, _ = await crossed_day(conn)
    await with_detour(conn, by_bob, metro)
    plan = await solved(
        app, client, dispatcher, "/plans", {"territory_id": str(metro), "date": DAY, "time_limit_s": 0.3}
    )
    applied = await client.post(f"/plans/{plan['id']}/apply", headers=dispatcher.headers)
    assert applied.status_code == 200, applied.text
    assert await conn.fetchval("SELECT technician_id FROM jobs WHERE id = $1", by_bob) == bob
    assert await detour(conn, by_bob) == (None, 0)


async def test_a_move_the_lifecycle_forbids_is_refused_before_anything_is_written(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    _metro, _ann, job_id = await anns_job(conn)
    await conn.execute("UPDATE jobs SET status = 'completed' WHERE id = $1", job_id)
    refused = await client.post(
        f"/jobs/{job_id}/unassign", json={"reason": "x"}, headers={**dispatcher.headers, "If-Match": '"1"'}
    )
    assert refused.status_code == 409
    assert await conn.fetchval("SELECT count(*) FROM job_events WHERE job_id = $1", job_id) == 0


async def test_status_owner_and_plan_columns_refuse_any_other_writer(conn: Connection) -> None:
    metro = await territory(conn)
    job_id = await job(conn, await site(conn, metro, north(2)), (9, 12))
    with pytest.raises(ValueError, match=r"technician_id change only through dispatch\.jobs\.changes"):
        await job_queries.update_job(conn, job_id, {"technician_id": None})


def test_only_the_job_changes_module_writes_a_move() -> None:
    """`move_job` and `retime_jobs` are called from dispatch/jobs/changes.py alone."""
    callers = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("move_job", "retime_jobs"):
                callers.add(path.relative_to(ROOT).as_posix())
    assert callers == {"dispatch/jobs/changes.py"}


async def test_a_sick_call_never_takes_back_a_job_a_dispatcher_moved_meanwhile(
    conn: Connection, dsn: str
) -> None:
    """A dispatcher's change holds Ann's job while her sick call runs: the call waits for it, then
    finds the job no longer Ann's, instead of sending Bob's new job back to dispatch."""
    metro, ann, job_id = await anns_job(conn)
    bob = await technician(conn, metro, "Bob Doors", north(3))
    tech_user = await login_of(conn, ann)
    ann_principal = Principal(user_id=tech_user.user_id, role=Role.TECHNICIAN, technician_id=ann)
    pool = await create_pool(dsn, min_size=1, max_size=1)

    async def sick() -> None:
        async with pool.acquire() as own, own.transaction():
            await shift_work.call_in_sick(
                cast(Connection, own), ann_principal, "flu", MatchSettings(), routing=None, now=at(6)
            )

    try:
        moving = conn.transaction()
        await moving.start()
        await conn.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job_id)
        calling = asyncio.ensure_future(sick())
        waiting = 0
        for _ in range(200):
            await asyncio.sleep(0.025)
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting:
                break
        assert waiting, "the sick call should wait on the job the dispatcher holds"
        # What the dispatcher's reassignment commits while the sick call waits.
        await conn.execute(
            "UPDATE jobs SET technician_id = $2, status = 'scheduled', version = version + 1 WHERE id = $1",
            job_id,
            bob,
        )
        await moving.commit()
        await calling
    finally:
        await pool.close()
    row = await conn.fetchrow("SELECT status, technician_id FROM jobs WHERE id = $1", job_id)
    assert row is not None
    assert (row["status"], row["technician_id"]) == ("scheduled", bob)
    kinds = [r["kind"] for r in await conn.fetch("SELECT kind FROM job_events WHERE job_id = $1", job_id)]
    assert "technician_sick" not in kinds
