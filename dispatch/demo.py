"""`truckroll demo`: a field-service company in Minneapolis-Saint Paul to try the API on.

Deterministic for a given seed and day: the same seed gives the same technicians, sites, assets,
history and logins; the open jobs fall in today's remaining windows and tomorrow's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import msgspec

from dispatch import demo_queries, intake
from dispatch.accounts import Role, hash_password
from dispatch.demo_state import TABLES, TZ
from dispatch.demo_world import build_world
from infra.db import Connection
from infra.errors import ConflictError


class DemoLogin(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    password: str
    role: Role
    technician_name: str | None = None


class DemoSummary(msgspec.Struct, frozen=True, kw_only=True):
    counts: dict[str, int]
    logins: list[DemoLogin]


async def seed_demo(
    conn: Connection, *, seed: int = 7, today: date | None = None, now: datetime | None = None
) -> DemoSummary:
    now = now or datetime.now(UTC)
    today = today or now.astimezone(TZ).date()
    world = build_world(seed, today, now)
    if not await demo_queries.is_empty(conn):
        raise ConflictError("the database already holds data; demo data only goes into an empty one")
    # Slow by design (argon2), so hash on every core before the transaction starts.
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_password, u.password) for u in world.users))
    async with conn.transaction():
        if not await demo_queries.is_empty(conn):
            raise ConflictError("the database already holds data; demo data only goes into an empty one")
        await demo_queries.insert_rows(conn, world.rows)
        await demo_queries.insert_users(
            conn,
            [(u.email, h, u.role, u.technician_id) for u, h in zip(world.users, hashes, strict=True)],
        )
        # Today's jobs arrive as intake would leave them: parts predicted, durations learned.
        await intake.predict_new_jobs(conn)
        counts = await demo_queries.count_rows(conn, (*TABLES, "users"))
    logins = [
        DemoLogin(email=u.email, password=u.password, role=Role(u.role), technician_name=u.technician_name)
        for u in world.users
    ]
    return DemoSummary(counts=counts, logins=logins)
