"""Random sequences of every operation that moves a job, driven through the API, with the
invariants of a job's status, owner and plan checked after each step:

- a job in a technician's hands (scheduled, dispatched, en route, on site) has a technician;
- a new job has no technician, no plan, no depot detour and no pin;
- a depot detour belongs to a job a technician has in hand and still plans (never to a new,
  cancelled or finished job, so never to a technician who no longer has it);
- a pinned time implies a pin;
- versions never go back, and every change of a job comes with an event;
- a refused request (4xx) changes nothing, and no request fails with 5xx.

Each sequence is seeded; a failure names its seed and the steps that led to it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_part
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory
from tests.integration.planning.test_plans import finished

Client = AsyncTestClient[Litestar]
SEEDS = range(12)
STEPS = 14
IN_HAND = ("scheduled", "dispatched", "en_route", "on_site")


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(6)  # early on the day: assigned jobs are dispatched at once


@dataclass
class World:
    metro: UUID
    techs: list[UUID]
    jobs: list[UUID]
    tokens: dict[UUID, str] = field(default_factory=dict)
    phones: dict[UUID, Auth] = field(default_factory=dict)


async def world(conn: Connection, client: Client, admin: Auth, n: int) -> World:
    metro = await territory(conn)
    spring = await insert_part(conn, sku=f"SPR-{n}", name="Torsion spring")
    depot = await conn.fetchval(
        """
        INSERT INTO stock_locations (kind, name, territory_id, latitude, longitude)
        VALUES ('depot', $1, $2, $3, $4) RETURNING id
        """,
        f"North depot {n}",
        metro,
        *north(3),
    )
    await conn.execute("INSERT INTO stock_levels VALUES ($1, $2, 50)", depot, spring)
    techs = [
        await technician(conn, metro, "Ann Springs", north(1)),
        await technician(conn, metro, "Bob Doors", north(4), van={spring: 1}),
        await technician(conn, metro, "Cy Openers", north(8)),
    ]
    jobs = []
    for i, window in enumerate([(8, 12), (9, 13), (10, 16), (12, 16)]):
        job_id = await job(conn, await site(conn, metro, north(i * 2)), window, duration_s=2700)
        if i % 2 == 0:
            # Needs a spring: only Bob's van has one; anyone else fetches it from the depot.
            await conn.execute(
                "INSERT INTO job_parts (job_id, part_id, quantity, probability, source, reasons, carry)"
                " VALUES ($1, $2, 1, 1.0, 'manual', '{}', true)",
                job_id,
                spring,
            )
        jobs.append(job_id)
    w = World(metro, techs, jobs)
    for job_id in jobs:
        link = await client.post(f"/jobs/{job_id}/tracking-links", headers=admin.headers)
        w.tokens[job_id] = link.json()["token"]
    return w


async def snapshot(conn: Connection, jobs: list[UUID]) -> dict[UUID, dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT j.*, (SELECT max(id) FROM job_events e WHERE e.job_id = j.id) AS last_event,
               (SELECT count(*) FROM outbox o WHERE o.job_id = j.id) AS told
        FROM jobs j WHERE j.id = ANY($1::uuid[])
        """,
        jobs,
    )
    return {r["id"]: dict(r) for r in rows}


def check(before: dict[UUID, dict[str, Any]], after: dict[UUID, dict[str, Any]], refused: bool) -> None:
    for job_id, now in after.items():
        was = before[job_id]
        status = now["status"]
        if status in IN_HAND:
            assert now["technician_id"] is not None, f"{job_id} is {status} without a technician"
        if status == "new":
            assert (now["technician_id"], now["planned_start_at"], now["pinned"]) == (None, None, False), (
                f"{job_id} is new but keeps {now['technician_id']}, {now['planned_start_at']}, pin"
            )
        if now["pickup_location_id"] is not None:
            assert status in IN_HAND, f"{job_id} keeps a depot detour while {status}"
            assert now["planned_start_at"] is not None, f"{job_id} keeps a depot detour unplanned"
        if now["pinned_start_at"] is not None:
            assert now["pinned"], f"{job_id} has a pinned time but no pin"
        assert now["version"] >= was["version"], f"{job_id} went back to version {now['version']}"
        changed = any(now[k] != was[k] for k in now if k not in ("updated_at", "last_event", "told"))
        if changed:
            assert now["version"] > was["version"], f"{job_id} changed without a new version"
        if now["version"] > was["version"]:
            assert (now["last_event"] or 0) > (was["last_event"] or 0), f"{job_id} changed with no event"
        if refused:
            assert (now["version"], now["last_event"], now["told"]) == (
                was["version"],
                was["last_event"],
                was["told"],
            ), f"a refused request changed {job_id}"


def window(rng: random.Random) -> tuple[str, str]:
    start = at(rng.choice([8, 9, 10, 11, 12, 13]))
    return start.isoformat(), (start + timedelta(hours=rng.choice([2, 3, 4]))).isoformat()


async def operate(
    rng: random.Random, client: Client, conn: Connection, admin: Auth, w: World
) -> tuple[str, int]:
    """One random operation; returns what it was and the HTTP status it got."""
    job_id = rng.choice(w.jobs)
    tech = rng.choice(w.techs)
    version = await conn.fetchval("SELECT version FROM jobs WHERE id = $1", job_id)
    guarded = {**admin.headers, "If-Match": f'"{version}"'}
    reason = {"reason": "property test"}
    op = rng.choice(
        [
            "assign",
            "assign_auto",
            "reassign",
            "unassign",
            "pin",
            "unpin",
            "window",
            "cancel",
            "status",
            "sick",
            "late",
            "plan",
            "rebook",
            "publish",
        ]
    )
    path = f"/jobs/{job_id}"
    if op == "assign":
        r = await client.post(f"{path}/assignment", json={"technician_id": str(tech)}, headers=admin.headers)
    elif op == "assign_auto":
        r = await client.post(f"{path}/assignment", json={"auto": True}, headers=admin.headers)
    elif op == "reassign":
        r = await client.post(
            f"{path}/reassign", json={"technician_id": str(tech), **reason}, headers=guarded
        )
    elif op in ("unassign", "unpin", "cancel"):
        r = await client.post(f"{path}/{op}", json=reason, headers=guarded)
    elif op == "pin":
        body: dict[str, Any] = {**reason, "technician_id": str(tech)}
        if rng.random() < 0.5:
            body["start_at"] = at(rng.choice([9, 10, 11, 12, 13])).isoformat()
        r = await client.post(f"{path}/pin", json=body, headers=guarded)
    elif op == "window":
        start, end = window(rng)
        r = await client.post(
            f"{path}/window", json={"window_start_at": start, "window_end_at": end, **reason}, headers=guarded
        )
    elif op == "status":
        wanted = rng.choice(["dispatched", "en_route", "on_site", "completed", "incomplete"])
        r = await client.post(f"{path}/status", json={"status": wanted, **reason}, headers=admin.headers)
        op = f"status {wanted}"
    elif op in ("sick", "late"):
        if tech not in w.phones:
            w.phones[tech] = await login_of(conn, tech)
        phone = w.phones[tech]
        if op == "sick":
            r = await client.post("/technicians/me/sick", json=reason, headers=phone.headers)
        else:
            r = await client.post(
                "/technicians/me/running-late", json={"minutes": 20, **reason}, headers=phone.headers
            )
    elif op == "plan":
        body = {"territory_id": str(w.metro), "date": "2026-12-01", "time_limit_s": 0.2, "seed": 1}
        r = await client.post("/plans", json=body, headers=admin.headers)
        if r.status_code == 202:
            plan = await finished(client, admin, r.json()["id"])
            r = await client.post(f"/plans/{plan['id']}/apply", headers=admin.headers)
    elif op == "rebook":
        start, end = window(rng)
        r = await client.post(
            f"/track/{w.tokens[job_id]}/reschedule", json={"window_start_at": start, "window_end_at": end}
        )
    else:
        r = await client.post(f"/technicians/{tech}/days/2026-12-02/publish", headers=admin.headers)
    return f"{op} {job_id}", r.status_code


@pytest.mark.parametrize("seed", SEEDS)
async def test_every_sequence_of_changes_keeps_a_job_whole(
    client: Client, conn: Connection, admin: Auth, seed: int
) -> None:
    rng = random.Random(seed)
    w = await world(conn, client, admin, seed)
    trace: list[str] = []
    before = await snapshot(conn, w.jobs)
    for _ in range(STEPS):
        what, code = await operate(rng, client, conn, admin, w)
        trace.append(f"{what} -> {code}")
        assert code < 500, f"seed {seed}: " + " | ".join(trace)
        after = await snapshot(conn, w.jobs)
        try:
            check(before, after, refused=code >= 400)
        except AssertionError as broken:
            raise AssertionError(f"seed {seed}: {broken}\n  " + "\n  ".join(trace)) from None
        before = after
