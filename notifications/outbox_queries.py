"""SQL for the outbox."""

from __future__ import annotations

from uuid import UUID

import msgspec

from infra.db import Connection
from notifications.messages import Message


async def insert(conn: Connection, message: Message) -> int:
    m = message
    outbox_id: int = await conn.fetchval(
        """
        INSERT INTO outbox (kind, audience, job_id, technician_id, territory_id, payload, topic, urgency,
                            ttl_s)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id
        """,
        m.kind,
        m.audience.value,
        m.job_id,
        m.technician_id,
        m.territory_id,
        m.notice,  # the whole Struct, its kind included, as the jsonb codec encodes it
        m.topic,
        m.urgency,
        m.ttl_s,
    )
    return outbox_id


async def pending(conn: Connection, *, job_id: UUID | None = None) -> list[dict[str, object]]:
    """Undelivered messages, oldest first (for a job, or all)."""
    rows = await conn.fetch(
        """
        SELECT id, kind, audience, job_id, technician_id, territory_id, payload, topic, urgency, ttl_s,
               created_at
        FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND ($1::uuid IS NULL OR job_id = $1)
        ORDER BY id
        """,
        job_id,
    )
    return [dict(r) for r in rows]


class OutboxHealth(msgspec.Struct, frozen=True, kw_only=True):
    pending: int  # messages not yet handed over, and deliveries not yet sent
    failed: int  # given up on
    oldest_pending_s: float
    failed_attempts_recent: int  # sends that did not get a 2xx in the last five minutes


async def health(conn: Connection) -> OutboxHealth:
    row = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL)
               + (SELECT count(*) FROM push_deliveries WHERE status = 'pending') AS pending,
               (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL)
               + (SELECT count(*) FROM push_deliveries WHERE status = 'failed') AS failed,
               coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM outbox
                         WHERE sent_at IS NULL AND failed_at IS NULL), 0)::float8 AS oldest_pending_s,
               (SELECT count(*) FROM push_attempts
                 WHERE attempted_at > now() - interval '5 minutes'
                   AND (status_code IS NULL OR status_code NOT BETWEEN 200 AND 299)) AS failed_attempts_recent
        """
    )
    assert row is not None
    return OutboxHealth(**dict(row))
