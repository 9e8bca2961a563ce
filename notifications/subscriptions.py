"""Who receives Web Push messages: a staff member's or technician's browsers, and the browsers a
customer subscribed through a job's tracking link. The endpoint is checked before it is stored."""

from __future__ import annotations

from uuid import UUID

from infra.db import Connection
from notifications import push_queries
from notifications.webpush import check_subscription


async def subscribe(
    conn: Connection,
    *,
    job_id: UUID | None = None,
    user_id: UUID | None = None,
    endpoint: str,
    p256dh: str,
    auth: str,
    allow_insecure: bool,
    keep: int,
) -> UUID:
    """For a job's customer (`job_id`) or for a signed-in user (`user_id`); past `keep` browsers
    of that owner, the oldest go."""
    sub = check_subscription(endpoint, p256dh, auth, allow_insecure=allow_insecure)
    return await push_queries.subscribe(
        conn,
        job_id=job_id,
        user_id=user_id,
        endpoint=sub.endpoint,
        p256dh=sub.p256dh,
        auth=sub.auth,
        keep=keep,
    )


async def unsubscribe_user(conn: Connection, subscription_id: UUID, user_id: UUID) -> bool:
    """False when the user has no subscription with this id (someone else's looks the same)."""
    return await push_queries.unsubscribe(conn, subscription_id, user_id)
