"""Customer tracking links: a random token shown once, stored only as its SHA-256, with an expiry.

Only the hash is looked up, so a leaked database does not leak working links, and a lookup by
hash needs no constant-time comparison.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from dispatch.models import JobId
from dispatch.tracking import tracking_queries
from infra.db import Connection, Pool, acquire
from infra.errors import DatabaseUnavailableError

log = logging.getLogger("truckroll.tracking")

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


async def live_links(conn: Connection, hashes: list[bytes]) -> set[bytes]:
    """Which of these links still work (neither revoked nor expired)."""
    rows = await conn.fetch(
        """
        SELECT token_hash FROM tracking_tokens
        WHERE token_hash = ANY($1::bytea[]) AND revoked_at IS NULL AND expires_at > now()
        """,
        hashes,
    )
    return {bytes(r["token_hash"]) for r in rows}


class LinkWatch:
    """Tells the live streams of a process when their link stops working (revoked, or expired),
    within `every_s`: one query for all the links the process has streams open on, not one per
    stream. Revoking a link writes no job event, so no stream would otherwise hear of it."""

    def __init__(self, pool: Pool, *, every_s: float) -> None:
        self._pool = pool
        self._every_s = every_s
        self._watched: dict[bytes, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def watching(self, token: str) -> AsyncIterator[asyncio.Event]:
        """An event set once the link no longer works."""
        key, gone = token_hash(token), asyncio.Event()
        self._watched.setdefault(key, set()).add(gone)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        try:
            yield gone
        finally:
            streams = self._watched.get(key, set())
            streams.discard(gone)
            if not streams:
                self._watched.pop(key, None)
            if not self._watched and self._task is not None:
                self._task.cancel()  # nothing left to watch; the next stream starts it again
                self._task = None

    async def _run(self) -> None:
        while self._watched:
            await asyncio.sleep(self._every_s)
            try:
                async with acquire(self._pool) as conn:
                    live = await live_links(conn, list(self._watched))
            except (
                DatabaseUnavailableError,
                OSError,
                asyncpg.PostgresError,
                asyncpg.InterfaceError,
            ) as error:
                log.warning("cannot check the open tracking links (%s); trying again", error)
                continue
            for key, streams in list(self._watched.items()):
                if key not in live:
                    for gone in streams:
                        gone.set()


async def take_change(
    conn: Connection, job_id: UUID, kind: str, *, now: datetime, limit: int, window: timedelta
) -> datetime | None:
    """None when the customer's link had a change left in the window (now spent); else when the
    oldest change in the window frees one, and nothing is spent."""
    return await tracking_queries.take_change(conn, job_id, kind, now=now, limit=limit, window=window)
