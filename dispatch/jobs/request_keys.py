"""Idempotency keys: a change sent twice with one key is made once, and the retry gets the first
answer. The key is claimed in the request's own transaction, so a twin arriving at the same moment
waits for the first to commit (then reads its answer) or roll back (then goes ahead itself)."""

from __future__ import annotations

from uuid import UUID

from dispatch.jobs import request_key_queries
from infra.db import Connection
from infra.errors import InvalidError


async def earlier_answer(
    conn: Connection, user_id: UUID, key: str, fingerprint: bytes
) -> tuple[int, bytes] | None:
    """The status and body first answered with this key, or None when this request is the first
    (and the key is now its). A key reused for a different request is refused."""
    if await request_key_queries.claim_key(conn, user_id, key, fingerprint):
        return None
    stored_print, status, body = await request_key_queries.stored_response(conn, user_id, key)
    if stored_print != fingerprint:
        raise InvalidError(
            "Idempotency-Key: this key was already used for a different request; use a new key",
            field="Idempotency-Key",
        )
    # A key is answered in the transaction that claimed it, so a visible key always has its answer.
    assert status is not None
    assert body is not None
    return status, body


async def keep_answer(conn: Connection, user_id: UUID, key: str, status: int, body: bytes) -> None:
    await request_key_queries.store_response(conn, user_id, key, status, body)
