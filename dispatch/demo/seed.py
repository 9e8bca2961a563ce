"""`truckroll demo`: a field-service company in Minneapolis-Saint Paul to try the API on.

Deterministic for a given seed and day: the same seed gives the same technicians, sites, assets,
history and logins; the open jobs fall in today's remaining windows and tomorrow's.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import msgspec
from argon2.exceptions import InvalidHashError, VerificationError

from dispatch.access.accounts import PASSWORD_HASHER, Role, hash_password
from dispatch.demo import queries
from dispatch.demo.state import TABLES, TZ, DemoWorld
from dispatch.demo.world import build_world
from dispatch.intake import calls as intake
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
    if not await queries.is_empty(conn):
        raise ConflictError("the database already holds data; demo data only goes into an empty one")
    # Slow by design (argon2), so hash on every core before the transaction starts.
    hashes = await asyncio.gather(*(asyncio.to_thread(hash_password, u.password) for u in world.users))
    async with conn.transaction():
        if not await queries.is_empty(conn):
            raise ConflictError("the database already holds data; demo data only goes into an empty one")
        await queries.insert_rows(conn, world.rows)
        await queries.insert_users(
            conn,
            [(u.email, h, u.role, u.technician_id) for u, h in zip(world.users, hashes, strict=True)],
        )
        # Today's jobs arrive as intake would leave them: parts predicted, durations learned.
        await intake.predict_new_jobs(conn)
        counts = await queries.count_rows(conn, (*TABLES, "users"))
    return DemoSummary(counts=counts, logins=_logins(world))


def _logins(world: DemoWorld) -> list[DemoLogin]:
    return [
        DemoLogin(email=u.email, password=u.password, role=Role(u.role), technician_name=u.technician_name)
        for u in world.users
    ]


def demo_logins(seed: int) -> list[DemoLogin]:
    """The logins `seed_demo` gives with this seed, on any day: they come from the seed alone."""
    now = datetime.now(UTC)
    return _logins(build_world(seed, now.astimezone(TZ).date(), now))


async def still_valid(conn: Connection, logins: list[DemoLogin]) -> list[bool]:
    """Whether each login still signs in with its demo password: not when the database was
    seeded with another seed, or the user changed their password or was removed."""
    hashes = await queries.password_hashes(conn, [login.email for login in logins])

    def check(login: DemoLogin) -> bool:
        stored = hashes.get(login.email.lower())
        try:
            return stored is not None and PASSWORD_HASHER.verify(stored, login.password)
        except (VerificationError, InvalidHashError):
            return False

    return list(await asyncio.gather(*(asyncio.to_thread(check, login) for login in logins)))
