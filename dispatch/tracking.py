"""Customer tracking links: a random token shown once, stored only as its SHA-256, with an expiry.

Only the hash is looked up, so a leaked database does not leak working links, and a lookup by
hash needs no constant-time comparison.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from dispatch.models import JobId
from infra.db import Connection

TOKEN_BYTES = 32
# The link keeps working a day after the promised window, for the feedback and the receipt.
AFTER_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class TrackingLink:
    token: str
    expires_at: datetime

    @property
    def url_path(self) -> str:
        return f"/t/{self.token}"  # the page the customer opens; its data is at /track/{token}


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def link_expiry(window_end_at: datetime, now: datetime, ttl: timedelta) -> datetime:
    """The TTL counts from now, but a link never dies before the visit it tracks is a day past."""
    return max(now + ttl, window_end_at + AFTER_WINDOW)


async def create_link(
    conn: Connection, job_id: UUID, *, window_end_at: datetime, ttl: timedelta
) -> TrackingLink:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now: datetime = await conn.fetchval("SELECT now()")
    expires_at = link_expiry(window_end_at, now, ttl)
    await conn.execute(
        "INSERT INTO tracking_tokens (job_id, token_hash, expires_at) VALUES ($1, $2, $3)",
        job_id,
        token_hash(token),
        expires_at,
    )
    return TrackingLink(token=token, expires_at=expires_at)


async def revoke_links(conn: Connection, job_id: UUID) -> int:
    status: str = await conn.execute(
        "UPDATE tracking_tokens SET revoked_at = now() WHERE job_id = $1 AND revoked_at IS NULL", job_id
    )
    return int(status.split()[-1])


async def resolve_tracking_token(conn: Connection, token: str) -> JobId | None:
    """The job a link is for, or None when the link is unknown, expired or revoked."""
    if not token or len(token) > 200:
        return None
    job_id: JobId | None = await conn.fetchval(
        """
        SELECT job_id FROM tracking_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
        """,
        token_hash(token),
    )
    return job_id
