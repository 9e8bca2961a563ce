"""Tracking links: shown once, stored hashed, resolved until they expire or are revoked."""

from __future__ import annotations

import hashlib
from datetime import datetime
from uuid import UUID

from litestar import Litestar
from litestar.testing import AsyncTestClient

from dispatch.tracking.links import resolve_tracking_token
from infra.db import Connection
from tests.conftest import Auth
from tests.integration.jobs.test_jobs import created_job, occupied_site

Client = AsyncTestClient[Litestar]


async def new_link(client: Client, auth: Auth, job_id: str, **params: int) -> dict[str, str]:
    response = await client.post(f"/jobs/{job_id}/tracking-links", params=params, headers=auth.headers)
    assert response.status_code == 201, response.text
    link: dict[str, str] = response.json()
    return link


async def test_a_link_resolves_to_its_job_and_only_its_hash_is_stored(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)

    link = await new_link(client, dispatcher, job["id"])

    assert link["url_path"] == f"/t/{link['token']}"
    assert len(link["token"]) >= 43
    assert await resolve_tracking_token(conn, link["token"]) == UUID(job["id"])
    stored = await conn.fetchval("SELECT token_hash FROM tracking_tokens")
    assert stored == hashlib.sha256(link["token"].encode()).digest()
    assert link["token"].encode() not in bytes(stored)
    # The window ends 2026-11-25 16:00 UTC: the link outlives it by a day at least.
    assert datetime.fromisoformat(link["expires_at"]) >= datetime.fromisoformat("2026-11-26T16:00:00+00:00")


async def test_unknown_expired_and_revoked_links_resolve_to_nothing(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    expired = await new_link(client, dispatcher, job["id"])
    await conn.execute(
        "UPDATE tracking_tokens"
        " SET expires_at = now() - interval '1 second', created_at = now() - interval '1 day'"
    )
    live = await new_link(client, dispatcher, job["id"])

    assert await resolve_tracking_token(conn, "not-a-token") is None
    assert await resolve_tracking_token(conn, "") is None
    assert await resolve_tracking_token(conn, expired["token"]) is None
    assert await resolve_tracking_token(conn, live["token"]) == UUID(job["id"])

    revoked = await client.delete(f"/jobs/{job['id']}/tracking-links", headers=dispatcher.headers)
    assert revoked.status_code == 200
    assert revoked.json() == {"revoked": 2}
    assert await resolve_tracking_token(conn, live["token"]) is None


async def test_a_link_needs_a_visible_job_and_a_sane_lifetime(
    client: Client, dispatcher: Auth, conn: Connection
) -> None:
    missing = await client.post(
        "/jobs/00000000-0000-0000-0000-000000000000/tracking-links", headers=dispatcher.headers
    )
    assert missing.status_code == 404
    site_id, _, _ = await occupied_site(conn)
    job = await created_job(client, dispatcher, site_id)
    too_short = await client.post(
        f"/jobs/{job['id']}/tracking-links", params={"ttl_s": 5}, headers=dispatcher.headers
    )
    assert too_short.status_code == 400
    assert await conn.fetchval("SELECT count(*) FROM tracking_tokens") == 0
