"""SQL for Web Push: subscriptions, turning outbox messages into deliveries, claiming and
recording them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid4

from asyncpg import Record

from infra.db import Connection


async def subscribe(
    conn: Connection,
    *,
    job_id: UUID | None,
    user_id: UUID | None,
    endpoint: str,
    p256dh: str,
    auth: str,
    keep: int,
) -> UUID:
    """Store the subscription, or refresh the keys of the same browser's; past `keep` of the
    job's (or user's), the oldest go, so one link or login never fans a message out wider."""
    target = "job_id" if job_id is not None else "user_id"
    owner = job_id if job_id is not None else user_id
    # Two subscribes at once for one owner would each count the other out: one at a time.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"push:{target}:{owner}")
    if user_id is not None:
        # A browser is one signed-in user's at a time: whoever signed in on it before hears no more.
        await conn.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id <> $2", endpoint, user_id
        )
    subscription_id: UUID = await conn.fetchval(
        f"""
        INSERT INTO push_subscriptions (job_id, user_id, endpoint, p256dh, auth, token_version)
        VALUES ($1, $2, $3, $4, $5, coalesce((SELECT token_version FROM users WHERE id = $2), 0))
        ON CONFLICT ({target}, endpoint) WHERE {target} IS NOT NULL
        DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, token_version = EXCLUDED.token_version
        RETURNING id
        """,
        job_id,
        user_id,
        endpoint,
        p256dh,
        auth,
    )
    await conn.execute(
        f"""
        DELETE FROM push_subscriptions WHERE id IN (
            SELECT id FROM push_subscriptions WHERE {target} = $1
            ORDER BY id = $3 DESC, created_at DESC, id DESC OFFSET $2
        )
        """,
        owner,
        keep,
        subscription_id,
    )
    return subscription_id


async def unsubscribe(conn: Connection, subscription_id: UUID, user_id: UUID) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2 RETURNING true",
        subscription_id,
        user_id,
    )
    return bool(deleted)


async def expand_outbox(conn: Connection, *, limit: int = 200) -> int:
    """Messages not yet handed to delivery become one delivery per subscription of their
    audience, in one statement for the lot; returns how many messages were handed over."""
    handed: int = await conn.fetchval(
        """
        WITH taken AS (
            SELECT id, audience, job_id, technician_id, territory_id FROM outbox
            WHERE sent_at IS NULL AND failed_at IS NULL AND available_at <= now()
            ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
        ), delivered AS (
            INSERT INTO push_deliveries (outbox_id, subscription_id, endpoint, recipient_id)
            SELECT m.id, s.id, s.endpoint, s.job_id FROM taken m
            JOIN push_subscriptions s ON m.audience = 'customer' AND s.job_id = m.job_id
            UNION ALL
            SELECT m.id, s.id, s.endpoint, u.id FROM taken m
            JOIN users u ON m.audience = 'technician' AND u.technician_id = m.technician_id AND u.active
            JOIN push_subscriptions s ON s.user_id = u.id AND s.token_version = u.token_version
            UNION ALL
            SELECT m.id, s.id, s.endpoint, u.id FROM taken m
            JOIN users u ON m.audience = 'dispatcher' AND u.role = 'dispatcher' AND u.active
             AND (u.territory_id IS NULL OR u.territory_id = m.territory_id)
            -- a subscription made under a sign-in since ended (signed out, password reset) hears nothing
            JOIN push_subscriptions s ON s.user_id = u.id AND s.token_version = u.token_version
            ON CONFLICT (outbox_id, subscription_id) DO NOTHING
        ), marked AS (
            UPDATE outbox SET sent_at = now() WHERE id IN (SELECT id FROM taken)
        )
        SELECT count(*) FROM taken
        """,
        limit,
    )
    return handed


# Arbitrary but fixed: workers take turns to claim (see claim_deliveries).
CLAIM_LOCK_KEY = 0x7472_7563_6B70  # "truckp"


async def claim_deliveries(conn: Connection, *, limit: int, lease_s: float) -> list[Record]:
    """Due deliveries, leased to this worker; a dead worker's lease runs out and another takes them.

    Each recipient (a job's customer, a technician, a dispatcher) gets a fair share of the batch:
    up to `limit` recipients with deliveries pending, taken in the order of their ids from a
    random one onwards (so each is as likely to be among them), offer their oldest due deliveries
    and the batch takes everyone's first, then everyone's second, and so on; what that leaves of
    the batch goes to the oldest due deliveries of anyone. A job with thousands of deliveries
    queued gets a share of each batch, not all of it, and a technician's message written behind
    them goes out in the next batch. Recipients are found through an index, one step each, so a
    claim reads about `limit` recipients and rows, not the whole backlog.
    """
    # Claims take turns (they take a millisecond or two): each then sees the others' leases,
    # where two at once would pick the same rows and the second would skip them all. And JIT is
    # off: the planner cannot tell how few rows the recursive scans yield, and would compile the
    # statement (~15 ms) for each claim.
    await conn.execute("SELECT pg_advisory_xact_lock($1), set_config('jit', 'off', true)", CLAIM_LOCK_KEY)
    picked: list[int] = [
        r["id"]
        for r in await conn.fetch(
            """
            WITH RECURSIVE onward AS (
                (SELECT recipient_id, 1 AS n FROM push_deliveries
                 WHERE status = 'pending' AND recipient_id >= $2 ORDER BY recipient_id LIMIT 1)
                UNION ALL
                SELECT (SELECT d.recipient_id FROM push_deliveries d
                        WHERE d.status = 'pending' AND d.recipient_id > o.recipient_id
                        ORDER BY d.recipient_id LIMIT 1), o.n + 1
                FROM onward o WHERE o.recipient_id IS NOT NULL AND o.n < $1
            ), wrapped AS (
                (SELECT recipient_id, 1 AS n FROM push_deliveries
                 WHERE status = 'pending' AND recipient_id < $2 ORDER BY recipient_id LIMIT 1)
                UNION ALL
                SELECT (SELECT d.recipient_id FROM push_deliveries d
                        WHERE d.status = 'pending' AND d.recipient_id > w.recipient_id AND d.recipient_id < $2
                        ORDER BY d.recipient_id LIMIT 1), w.n + 1
                FROM wrapped w WHERE w.recipient_id IS NOT NULL AND w.n < $1
            ), recipients AS (
                SELECT recipient_id FROM (
                    SELECT recipient_id, n FROM onward UNION ALL SELECT recipient_id, $1 + n FROM wrapped
                ) r
                WHERE recipient_id IS NOT NULL ORDER BY n LIMIT $1
            ), share AS (
                SELECT ceil($1::float8 / greatest(count(*), 1))::int AS n FROM recipients
            ), shares AS (
                SELECT c.id, c.next_attempt_at,
                       row_number() OVER (PARTITION BY r.recipient_id ORDER BY c.next_attempt_at) AS turn
                FROM recipients r, share, LATERAL (
                    SELECT d.id, d.next_attempt_at FROM push_deliveries d
                    WHERE d.recipient_id = r.recipient_id AND d.status = 'pending'
                      AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
                    ORDER BY d.next_attempt_at LIMIT share.n
                ) c
            ), rest AS (
                SELECT id, next_attempt_at, $1 + 1 AS turn FROM push_deliveries
                WHERE status = 'pending' AND next_attempt_at <= now()
                  AND (leased_until IS NULL OR leased_until < now())
                ORDER BY next_attempt_at LIMIT $1
            )
            SELECT id FROM (SELECT * FROM shares UNION ALL SELECT * FROM rest) c
            GROUP BY id ORDER BY min(turn), min(next_attempt_at) LIMIT $1
            """,
            limit,
            uuid4(),
        )
    ]
    rows: list[Record] = await conn.fetch(
        """
        UPDATE push_deliveries d SET
            leased_until = now() + make_interval(secs => $2),
            -- A subscription deleted since the message was handed over: nothing to send to.
            status = CASE WHEN d.subscription_id IS NULL THEN 'gone' ELSE d.status END
        FROM (
            SELECT id FROM push_deliveries
            WHERE id = ANY($1::bigint[]) AND status = 'pending'
              AND (leased_until IS NULL OR leased_until < now())
            FOR UPDATE SKIP LOCKED
        ) due, outbox o LEFT JOIN territories t ON t.id = o.territory_id
        -- The array again, so the planner reaches the rows by their key, not a scan of them all.
        WHERE d.id = due.id AND d.id = ANY($1::bigint[]) AND o.id = d.outbox_id
        RETURNING d.id, d.attempts, d.endpoint, o.kind, o.audience, o.job_id, o.payload,
                  o.topic, o.urgency, o.ttl_s, coalesce(t.timezone, 'UTC') AS timezone,
                  (SELECT s.p256dh FROM push_subscriptions s WHERE s.id = d.subscription_id) AS p256dh,
                  (SELECT s.auth FROM push_subscriptions s WHERE s.id = d.subscription_id) AS auth
        """,
        picked,
        lease_s,
    )
    return [row for row in rows if row["p256dh"] is not None]


async def record_attempts(
    conn: Connection,
    outcomes: Sequence[tuple[int, str, int | None, str | None, datetime | None]],
) -> None:
    """Each (delivery, status, HTTP status, error, next attempt at): the attempt recorded and the
    delivery moved on, for a whole batch in two statements."""
    if not outcomes:
        return
    ids, statuses, codes, errors, nexts = (list(c) for c in zip(*outcomes, strict=True))
    await conn.execute(
        """
        INSERT INTO push_attempts (delivery_id, status_code, error)
        SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[])
        """,
        ids,
        codes,
        errors,
    )
    await conn.execute(
        """
        UPDATE push_deliveries d SET
            status = o.status, attempts = d.attempts + 1, last_status = o.code, last_error = o.error,
            leased_until = NULL, next_attempt_at = coalesce(o.next_at, d.next_attempt_at),
            sent_at = CASE WHEN o.status = 'sent' THEN now() ELSE d.sent_at END
        FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamptz[])
             AS o(id, status, code, error, next_at)
        WHERE d.id = o.id
        """,
        ids,
        statuses,
        codes,
        errors,
        nexts,
    )


async def forget_subscriptions(conn: Connection, endpoints: Sequence[str]) -> None:
    if endpoints:
        await conn.execute("DELETE FROM push_subscriptions WHERE endpoint = ANY($1::text[])", list(endpoints))
