"""The SQL of sign-in: users' credentials and token versions, and the sign-in throttle's counters."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from dispatch.access.login_throttle import Counter
from infra.db import Connection


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    email: str
    role: str
    technician_id: UUID | None
    territory_id: UUID | None
    active: bool
    password_hash: str
    token_version: int


class TokenState(msgspec.Struct, frozen=True, kw_only=True):
    active: bool
    token_version: int


_CREDENTIALS = """
    SELECT id, email, role, technician_id, territory_id, active, password_hash, token_version
    FROM users
"""


async def get_credentials_by_email(conn: Connection, email: str) -> Credentials | None:
    row = await conn.fetchrow(_CREDENTIALS + " WHERE lower(email) = lower($1)", email.strip())
    return None if row is None else Credentials(**dict(row))


async def get_credentials(conn: Connection, user_id: UUID) -> Credentials | None:
    row = await conn.fetchrow(_CREDENTIALS + " WHERE id = $1", user_id)
    return None if row is None else Credentials(**dict(row))


async def get_token_state(conn: Connection, user_id: UUID) -> TokenState | None:
    row = await conn.fetchrow("SELECT active, token_version FROM users WHERE id = $1", user_id)
    return None if row is None else TokenState(active=row["active"], token_version=row["token_version"])


async def update_password_hash(conn: Connection, user_id: UUID, password_hash: str) -> None:
    """A new password: the users_revoke_tokens trigger moves the token version with it."""
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def rehash_password(conn: Connection, user_id: UUID, password_hash: str) -> None:
    """The same password under newer argon2 parameters: the user's sessions stay valid."""
    async with conn.transaction():
        await conn.execute("SELECT set_config('truckroll.rehash', 'on', true)")
        await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, password_hash)


async def bump_token_version(conn: Connection, user_id: UUID) -> int | None:
    version: int | None = await conn.fetchval(
        "UPDATE users SET token_version = token_version + 1 WHERE id = $1 RETURNING token_version",
        user_id,
    )
    return version


async def lock_counters(conn: Connection, keys: list[str]) -> list[Counter]:
    """The counters of these keys, created if new, locked until the transaction ends. Keys are
    created and locked in sorted order, so two attempts sharing a key never deadlock."""
    ordered = sorted(set(keys))
    await conn.execute(
        "INSERT INTO login_throttle (key) SELECT unnest($1::text[]) ON CONFLICT (key) DO NOTHING",
        ordered,
    )
    rows = await conn.fetch(
        """
        SELECT key, failures, last_attempt_at, blocked_until FROM login_throttle
        WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE
        """,
        ordered,
    )
    return [Counter(**dict(row)) for row in rows]


async def save_counters(conn: Connection, counters: list[Counter]) -> None:
    await conn.execute(
        """
        UPDATE login_throttle t
        SET failures = c.failures, last_attempt_at = c.last_attempt_at, blocked_until = c.blocked_until
        FROM unnest($1::text[], $2::integer[], $3::timestamptz[], $4::timestamptz[])
            AS c (key, failures, last_attempt_at, blocked_until)
        WHERE t.key = c.key
        """,
        [c.key for c in counters],
        [c.failures for c in counters],
        [c.last_attempt_at for c in counters],
        [c.blocked_until for c in counters],
    )


async def restart_waits(conn: Connection, waits: dict[str, float]) -> None:
    """A counted attempt failed: its wait (seconds, by key) runs from now, when the answer goes
    out, not from when the attempt was counted, so a slow check does not eat the wait. Never
    shortens a longer wait another attempt set, and never adds up concurrent ones."""
    keys = sorted(waits)
    await conn.execute(
        """
        UPDATE login_throttle t
        SET blocked_until = greatest(t.blocked_until, clock_timestamp() + make_interval(secs => w.wait_s))
        FROM unnest($1::text[], $2::float8[]) AS w (key, wait_s)
        WHERE t.key = w.key
        """,
        keys,
        [waits[k] for k in keys],
    )


async def delete_counter(conn: Connection, key: str) -> None:
    await conn.execute("DELETE FROM login_throttle WHERE key = $1", key)


async def delete_idle_counters(conn: Connection, idle_since: datetime, *, limit: int = 100) -> None:
    """A few idle counters at a time, so a flood of made-up emails does not pile up rows."""
    await conn.execute(
        """
        DELETE FROM login_throttle WHERE key IN (
            SELECT key FROM login_throttle WHERE last_attempt_at < $1 AND blocked_until < now()
            LIMIT $2 FOR UPDATE SKIP LOCKED
        )
        """,
        idle_since,
        limit,
    )


async def database_now(conn: Connection) -> datetime:
    """The database's clock, so every API process judges the shared counters by the same one.
    The clock as of now, not the transaction's start: read after the counters are locked, it is
    never earlier than a time the previous holder of the lock wrote."""
    now: datetime = await conn.fetchval("SELECT clock_timestamp()")
    return now
