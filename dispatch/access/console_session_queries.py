"""The SQL of the console's sessions (table console_sessions)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from infra.db import Connection


class SessionHolder(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UUID
    email: str
    role: str
    technician_id: UUID | None
    territory_id: UUID | None
    expires_at: datetime


async def insert_session(
    conn: Connection, token_hash: bytes, user_id: UUID, token_version: int, ttl_s: int
) -> datetime:
    expires_at: datetime = await conn.fetchval(
        """
        INSERT INTO console_sessions (token_hash, user_id, token_version, expires_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))
        RETURNING expires_at
        """,
        token_hash,
        user_id,
        token_version,
        float(ttl_s),
    )
    return expires_at


async def get_session_holder(conn: Connection, token_hash: bytes) -> SessionHolder | None:
    """The session's user, only while the session is unexpired and the user is active and still
    at the token version the session was opened at."""
    row = await conn.fetchrow(
        """
        SELECT u.id AS user_id, u.email, u.role, u.technician_id, u.territory_id, s.expires_at
        FROM console_sessions s JOIN users u ON u.id = s.user_id
        WHERE s.token_hash = $1 AND s.expires_at > now()
          AND u.active AND u.token_version = s.token_version
        """,
        token_hash,
    )
    return None if row is None else SessionHolder(**dict(row))


async def delete_session(conn: Connection, token_hash: bytes) -> None:
    await conn.execute("DELETE FROM console_sessions WHERE token_hash = $1", token_hash)


async def delete_expired_sessions(conn: Connection, *, limit: int = 100) -> None:
    await conn.execute(
        """
        DELETE FROM console_sessions WHERE token_hash IN (
            SELECT token_hash FROM console_sessions WHERE expires_at <= now() LIMIT $1
        )
        """,
        limit,
    )
