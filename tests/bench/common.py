"""What the benchmarks share: a throw-away PostgreSQL, percentiles, a dispatcher's token."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import jwt
import numpy as np

from infra.db import Connection, connect, migrate
from infra.local_postgres import LocalPostgres

SECRET = "bench-secret-" + "x" * 40


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A migrated database in a cluster that lives only as long as the benchmark."""
    base = Path(tempfile.mkdtemp(prefix="truckroll-bench-"))
    os.chmod(base, 0o755)  # noqa: S103 - the postgres user must enter it when we run as root
    pg = LocalPostgres(base, fast_unsafe=True)
    pg.start()
    try:
        admin = await connect(pg.dsn("postgres"))
        await admin.execute("CREATE DATABASE bench")
        await admin.close()
        conn: Connection = await connect(pg.dsn("bench"))
        await migrate(conn)
        await conn.close()
        yield pg.dsn("bench")
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


async def wait_for_service(url: str) -> None:
    """Until a service just started in another process answers `url` (5 s at most)."""
    async with httpx.AsyncClient() as probe:
        for _ in range(100):
            try:
                await probe.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)


def percentiles(samples_s: Sequence[float]) -> str:
    ms = np.asarray(samples_s) * 1000
    return f"p50 {np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, max {ms.max():.1f} ms"


async def dispatcher_token(conn: Connection) -> str:
    user_id: UUID = await conn.fetchval(
        "INSERT INTO users (email, password_hash, role) VALUES ('bench@example.com', 'x', 'dispatcher')"
        " RETURNING id"
    )
    now = datetime.now(UTC)
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=2)).timestamp()),
        "extras": {"role": "dispatcher", "technician_id": None, "territory_id": None},
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")
