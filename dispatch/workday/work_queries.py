"""SQL for the work on a job: notes, parts used, and what a follow-up repeats of them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from dispatch.models import Note
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
