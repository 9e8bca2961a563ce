"""SQL for the working day: notes, parts used, follow-ups, replayable requests."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from dispatch.jobs.job_queries import event_from_row
from dispatch.models import JobEvent, Note
from infra.db import Connection


class PartUsed(msgspec.Struct, frozen=True, kw_only=True):
    part_id: UUID
    sku: str
    quantity: int
    client_at: datetime | None
    created_at: datetime


async def insert_note(
    conn: Connection, job_id: UUID, user_id: UUID, text: str, client_at: datetime | None
) -> Note:
    row = await conn.fetchrow(
        """
        WITH n AS (
            INSERT INTO job_notes (job_id, author_user_id, text, client_at) VALUES ($1, $2, $3, $4)
            RETURNING id, job_id, author_user_id, text, client_at, created_at
        )
        SELECT n.id, n.job_id, coalesce(u.email, 'system') AS author, n.text, n.client_at, n.created_at
        FROM n LEFT JOIN users u ON u.id = n.author_user_id
        """,
        job_id,
        user_id,
        text,
        client_at,
    )
    assert row is not None
    return Note(**dict(row))


async def list_notes(conn: Connection, job_id: UUID, *, limit: int, offset: int) -> list[Note]:
    rows = await conn.fetch(
        """
        SELECT n.id, n.job_id, coalesce(u.email, 'system') AS author, n.text, n.client_at, n.created_at
        FROM job_notes n LEFT JOIN users u ON u.id = n.author_user_id WHERE n.job_id = $1 ORDER BY n.id
        LIMIT $2 OFFSET $3
        """,
        job_id,
        limit,
        offset,
    )
    return [Note(**dict(r)) for r in rows]


async def insert_part_used(
    conn: Connection,
    job_id: UUID,
    part_id: UUID,
    quantity: int,
    technician_id: UUID | None,
    client_at: datetime | None,
) -> None:
    await conn.execute(
        "INSERT INTO job_parts_used (job_id, part_id, quantity, technician_id, client_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        job_id,
        part_id,
        quantity,
        technician_id,
        client_at,
    )


async def parts_used(conn: Connection, job_id: UUID) -> list[PartUsed]:
    rows = await conn.fetch(
        """
        SELECT u.part_id, p.sku, u.quantity, u.client_at, u.created_at
        FROM job_parts_used u JOIN parts p ON p.id = u.part_id WHERE u.job_id = $1 ORDER BY u.id
        """,
        job_id,
    )
    return [PartUsed(**dict(r)) for r in rows]


async def part_skus(conn: Connection, part_ids: list[UUID]) -> dict[UUID, str]:
    rows = await conn.fetch("SELECT id, sku FROM parts WHERE id = ANY($1::uuid[])", part_ids)
    return {r["id"]: r["sku"] for r in rows}


async def note_texts(conn: Connection, job_id: UUID) -> list[str]:
    """Every note of the job, oldest first: what the technician wrote, for the asset's history."""
    rows = await conn.fetch("SELECT text FROM job_notes WHERE job_id = $1 ORDER BY id", job_id)
    return [r["text"] for r in rows]


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


async def overrides(
    conn: Connection,
    *,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    territory_id: UUID | None,
    limit: int,
    offset: int,
) -> list[JobEvent]:
    rows = await conn.fetch(
        """
        SELECT e.id, e.job_id, e.kind, e.from_status, e.to_status, e.actor_user_id, e.actor, e.reason, e.data,
               e.client_at, e.occurred_at
        FROM job_events e JOIN jobs j ON j.id = e.job_id JOIN sites s ON s.id = j.site_id
        WHERE (e.kind LIKE 'override\\_%' OR e.kind = 'cancelled')
          AND ($1::text IS NULL OR lower(e.actor) = lower($1))
          AND ($2::timestamptz IS NULL OR e.occurred_at >= $2)
          AND ($3::timestamptz IS NULL OR e.occurred_at < $3)
          AND ($4::uuid IS NULL OR s.territory_id = $4)
        ORDER BY e.occurred_at DESC, e.id DESC
        LIMIT $5 OFFSET $6
        """,
        actor,
        since,
        until,
        territory_id,
        limit,
        offset,
    )
    return [event_from_row(r) for r in rows]
