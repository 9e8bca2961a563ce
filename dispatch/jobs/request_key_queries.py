"""SQL for idempotency keys: a request's key claimed, its answer stored and replayed."""

from __future__ import annotations

from uuid import UUID

from infra.db import Connection


async def claim_key(conn: Connection, user_id: UUID, key: str, fingerprint: bytes) -> bool:
    """True if this request is the first with the key. A concurrent twin waits here until the
    first commits (then finds it) or rolls back (then claims the key itself)."""
    claimed = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES ($1, $2, $3)
        ON CONFLICT (user_id, key) DO NOTHING RETURNING true
        """,
        user_id,
        key,
        fingerprint,
    )
    return bool(claimed)


async def stored_response(
    conn: Connection, user_id: UUID, key: str
) -> tuple[bytes, int | None, bytes | None]:
    row = await conn.fetchrow(
        "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        user_id,
        key,
    )
    assert row is not None
    return row["fingerprint"], row["status_code"], row["response"]


async def store_response(
    conn: Connection, user_id: UUID, key: str, status_code: int, response: bytes
) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE user_id = $1 AND key = $2",
        user_id,
        key,
        status_code,
        response,
    )
