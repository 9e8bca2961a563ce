"""The demo company as a template database, for tests that need every kind of record at once
(schema fuzzing, the authorization matrix). Seeded once per session; each user clones it.

On top of the demo data: two technicians, A and B, each with a job assigned through the API and
a tracking link, and a push subscription of B's, so "their own" and "someone else's" both exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.access.accounts import Role
from dispatch.demo import seed_demo
from infra.db import Connection, connect
from infra.settings import Settings

DEMO_TEMPLATE = "truckroll_demo_template"


@dataclass(frozen=True)
class DemoWorld:
    """Ids and tokens in the template (the same in every clone)."""

    dispatcher: UUID
    admin: UUID
    technicians: dict[str, UUID]  # "A", "B" -> technician id
    technician_users: dict[str, UUID]
    jobs: dict[str, UUID]  # each technician's assigned job
    links: dict[str, str]  # tracking token of each job
    known: dict[str, str]  # a value for each path parameter, B's where records have owners


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def build_demo_template(dsn_of: Callable[[str], str], data_dir: Path) -> DemoWorld:
    """`dsn_of` gives a database's DSN from its name."""
    from tests.conftest import JWT_SECRET, TEMPLATE, mint_token
    from tests.integration.notifications.test_push import Browser

    admin_conn = await connect(dsn_of("postgres"))
    try:
        await admin_conn.execute(f"CREATE DATABASE {DEMO_TEMPLATE} TEMPLATE {TEMPLATE}")
    finally:
        await admin_conn.close()
    dsn = dsn_of(DEMO_TEMPLATE)
    conn = await connect(dsn)
    try:
        await seed_demo(conn, seed=5)
        staff = {
            r["role"]: r["id"]
            for r in await conn.fetch("SELECT id, role FROM users WHERE role <> 'technician'")
        }
        settings = Settings(database_url=None, data_dir=data_dir, jwt_secret=JWT_SECRET, risk_scan_s=0)
        headers = bearer(mint_token(staff["dispatcher"], Role.DISPATCHER))
        async with AsyncTestClient(create_app(settings, dsn=dsn)) as client:
            technicians: dict[str, UUID] = {}
            jobs: dict[str, UUID] = {}
            links: dict[str, str] = {}
            for job_id in await conn.fetch(
                "SELECT id FROM jobs WHERE status = 'new' ORDER BY window_start_at"
            ):
                ranked = (await client.get(f"/jobs/{job_id['id']}/candidates", headers=headers)).json()
                fresh = [
                    c
                    for c in ranked.get("candidates", [])
                    if UUID(c["technician_id"]) not in technicians.values()
                ]
                if not fresh:
                    continue
                who = "AB"[len(technicians)]
                technicians[who] = UUID(fresh[0]["technician_id"])
                jobs[who] = job_id["id"]
                assigned = await client.post(
                    f"/jobs/{job_id['id']}/assignment",
                    json={"technician_id": fresh[0]["technician_id"]},
                    headers=headers,
                )
                assert assigned.status_code == 200, assigned.text
                link = await client.post(f"/jobs/{job_id['id']}/tracking-links", headers=headers)
                assert link.status_code == 201, link.text
                links[who] = link.json()["token"]
                if len(technicians) == 2:
                    break
            users = {
                who: await conn.fetchval("SELECT id FROM users WHERE technician_id = $1", tech)
                for who, tech in technicians.items()
            }
            keys = Browser().keys()
            subscribed = await client.post(
                "/push/subscriptions",
                json={"endpoint": f"https://push.example.com/{uuid4().hex}", "keys": keys},
                headers=bearer(mint_token(users["B"], Role.TECHNICIAN, technician_id=technicians["B"])),
            )
            assert subscribed.status_code == 201, subscribed.text
        known = await _known(conn, technicians["B"], jobs["B"], links["B"])
        known["subscription_id"] = subscribed.json()["id"]
    finally:
        await conn.close()
    return DemoWorld(
        dispatcher=staff["dispatcher"],
        admin=staff["admin"],
        technicians=technicians,
        technician_users=users,
        jobs=jobs,
        links=links,
        known=known,
    )


async def _known(conn: Connection, technician: UUID, job: UUID, token: str) -> dict[str, str]:
    one = "SELECT id::text FROM {} LIMIT 1"
    known = {
        "job_id": str(job),
        "technician_id": str(technician),
        "token": token,
        "customer_id": await conn.fetchval("SELECT customer_id::text FROM jobs WHERE id = $1", job),
        "site_id": await conn.fetchval("SELECT site_id::text FROM jobs WHERE id = $1", job),
        "asset_id": await conn.fetchval(one.format("assets")),
        "part_id": await conn.fetchval(one.format("parts")),
        "fitment_id": await conn.fetchval(one.format("fitments")),
        "territory_id": await conn.fetchval(
            "SELECT territory_id::text FROM technicians WHERE id = $1", technician
        ),
        "shift_id": await conn.fetchval(
            "SELECT id::text FROM shifts WHERE technician_id = $1 LIMIT 1", technician
        ),
        "location_id": await conn.fetchval(
            "SELECT id::text FROM stock_locations WHERE technician_id = $1", technician
        ),
        "depot_id": await conn.fetchval("SELECT id::text FROM stock_locations WHERE kind = 'depot' LIMIT 1"),
        "code": await conn.fetchval("SELECT code FROM problems LIMIT 1"),
        "plan_id": str(uuid4()),
    }
    return {k: v for k, v in known.items() if v is not None}
