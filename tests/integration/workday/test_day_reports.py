"""A technician's reports on their own day, and at-risk alerts with re-match candidates."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.matching.candidates import MatchSettings
from dispatch.tracking import risk_watch
from infra.db import Connection
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(9)


async def day_of_two(conn: Connection) -> tuple[UUID, UUID, UUID, UUID, UUID]:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    bob = await technician(conn, metro, "Bob Doors", north(2))
    first = await job(conn, await site(conn, metro, north(0)), (9, 11), technician_id=ann, planned=9.5)
    second = await job(conn, await site(conn, metro, north(3)), (11, 12), technician_id=ann, planned=11.5)
    await conn.execute("UPDATE jobs SET eta_at = planned_start_at")
    return metro, ann, bob, first, second


async def test_running_late_moves_the_etas_and_apologises_only_where_a_window_breaks(
    client: Client, conn: Connection
) -> None:
    _, ann, _, first, second = await day_of_two(conn)
    me = await login_of(conn, ann)
    response = await client.post(
        "/technicians/me/running-late", json={"minutes": 45, "reason": "traffic"}, headers=me.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["affected_jobs"] == [str(first), str(second)]
    etas = {r["id"]: r["eta_at"] for r in await conn.fetch("SELECT id, eta_at FROM jobs")}
    assert (etas[first], etas[second]) == (at(10.25), at(12.25))
    told = await conn.fetch("SELECT kind, audience, job_id FROM outbox ORDER BY id")
    # 10:15 is inside 9-11; 12:15 is past 11-12: only the second customer hears, with an apology.
    assert [(t["kind"], t["audience"], t["job_id"]) for t in told] == [
        ("delayed", "customer", second),
        ("technician_running_late", "dispatcher", None),
    ]


async def test_calling_in_sick_gives_the_day_back_with_candidates_for_each_job(
    client: Client, conn: Connection
) -> None:
    _, ann, bob, first, second = await day_of_two(conn)
    me = await login_of(conn, ann)
    response = await client.post("/technicians/me/sick", json={"reason": "flu"}, headers=me.headers)
    assert response.status_code == 201, response.text
    statuses = {
        r["id"]: (r["status"], r["technician_id"])
        for r in await conn.fetch("SELECT id, status, technician_id FROM jobs")
    }
    assert statuses == {first: ("new", None), second: ("new", None)}
    assert await conn.fetchval("SELECT ends_at FROM shifts WHERE technician_id = $1", ann) == at(9)
    alert = await conn.fetchrow("SELECT payload FROM outbox WHERE kind = 'technician_sick'")
    assert alert is not None
    offered = {o["job_id"]: [c["name"] for c in o["candidates"]] for o in alert["payload"]["jobs"]}
    assert offered == {str(first): ["Bob Doors"], str(second): ["Bob Doors"]}
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE kind = 'assignment_changed'") == 2
    kinds = await conn.fetch("SELECT DISTINCT kind FROM job_events")
    assert [k["kind"] for k in kinds] == ["technician_sick"]
    del bob


async def test_shift_reports_need_a_shift(client: Client, conn: Connection) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    off = await technician(conn, metro, "Off Duty", north(1), shift=None)
    started = await client.post(
        "/technicians/me/shift-reports",
        json={"kind": "shift_start"},
        headers=(await login_of(conn, ann)).headers,
    )
    assert started.status_code == 201, started.text
    refused = await client.post(
        "/technicians/me/shift-reports",
        json={"kind": "break_start"},
        headers=(await login_of(conn, off)).headers,
    )
    assert refused.status_code == 409
    assert await conn.fetchval("SELECT count(*) FROM shift_reports") == 1


async def test_a_job_newly_at_risk_raises_one_alert_with_who_could_take_it_over(conn: Connection) -> None:
    _, _, _, first, _ = await day_of_two(conn)
    await conn.execute("UPDATE jobs SET eta_at = $2 WHERE id = $1", first, at(11.5))
    # Both technicians have sent a position lately: only the job's risk is news.
    await conn.execute(
        "INSERT INTO technician_latest_positions (technician_id, recorded_at, latitude, longitude)"
        " SELECT id, $1, 44.97, -93.26 FROM technicians",
        at(8.9),
    )
    now: datetime = at(9)
    async with conn.transaction():
        raised = await risk_watch.scan(conn, MatchSettings(), routing=None, now=now)
    async with conn.transaction():
        again = await risk_watch.scan(conn, MatchSettings(), routing=None, now=now)
    assert (raised, again) == (1, 0)
    alert = await conn.fetchrow("SELECT job_id, payload FROM outbox WHERE kind = 'job_at_risk'")
    assert alert is not None
    assert alert["job_id"] == first
    assert alert["payload"]["risk"] == "eta_past_window"
    assert [c["name"] for c in alert["payload"]["candidates"]] == ["Bob Doors"]
    # The watcher acts as the system, and the audit trail says so (no user, no fake admin).
    event = await conn.fetchrow("SELECT actor, actor_user_id FROM job_events WHERE kind = 'at_risk'")
    assert event is not None
    assert (event["actor"], event["actor_user_id"]) == ("system", None)
