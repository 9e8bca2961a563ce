"""What a dispatcher bound to a territory pays for it: the same reads by an unbound and a bound
dispatcher of the demo company, one at a time over HTTP (uvicorn on loopback). The bound one's
record-in-path reads go through the territory guard (one lookup on a pooled connection before
the handler), and its customer list through the per-territory customer filter.

    python -m tests.bench.bench_scope [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import jwt

from api.app import create_app
from dispatch.demo import seed_demo
from infra.db import Connection, connect
from infra.settings import Settings
from tests.bench.common import SECRET, percentiles, scratch_database
from tests.live_server import serving


def token(user_id: UUID, territory_id: UUID | None) -> str:
    now = datetime.now(UTC)
    extras = {
        "role": "dispatcher",
        "technician_id": None,
        "territory_id": str(territory_id) if territory_id else None,
    }
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=2)).timestamp()),
        "extras": extras,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


async def paths(conn: Connection, territory_id: UUID) -> dict[str, str]:
    job = await conn.fetchrow(
        "SELECT j.id, j.site_id FROM jobs j JOIN sites s ON s.id = j.site_id WHERE s.territory_id = $1"
        " ORDER BY j.id LIMIT 1",
        territory_id,
    )
    assert job is not None
    return {
        "a job": f"/jobs/{job['id']}",
        "a site's assets": f"/sites/{job['site_id']}/assets",
        "customers (first page)": "/customers",
        "jobs of a day (first page)": "/jobs",
    }


async def main(requests: int) -> None:
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        try:
            await seed_demo(conn, seed=5)
            territory_id = await conn.fetchval("SELECT id FROM territories ORDER BY name LIMIT 1")
            user_id = await conn.fetchval(
                "INSERT INTO users (email, password_hash, role)"
                " VALUES ('bench@example.com', 'x', 'dispatcher') RETURNING id"
            )
            targets = await paths(conn, territory_id)
            counts = {
                "jobs": await conn.fetchval("SELECT count(*) FROM jobs"),
                "customers": await conn.fetchval("SELECT count(*) FROM customers"),
                "sites": await conn.fetchval("SELECT count(*) FROM sites"),
            }
        finally:
            await conn.close()
        print(f"demo company: {counts}, 2 territories; {requests} requests per figure, one at a time")
        settings = Settings(
            database_url=None, data_dir=Path(tempfile.mkdtemp()), jwt_secret=SECRET, risk_scan_s=0
        )
        callers = {"unbound": token(user_id, None), "bound": token(user_id, territory_id)}
        async with (
            serving(create_app(settings, dsn=dsn)) as base_url,
            httpx.AsyncClient(base_url=base_url) as http,
        ):
            for name, path in targets.items():
                for who, bearer in callers.items():
                    headers = {"Authorization": f"Bearer {bearer}"}
                    for _ in range(20):  # warm the pool and the caches
                        await http.get(path, headers=headers)
                    samples = []
                    for _ in range(requests):
                        began = time.perf_counter()
                        response = await http.get(path, headers=headers)
                        samples.append(time.perf_counter() - began)
                        assert response.status_code == 200, response.text
                    print(f"{name:<28} {who:<8} {percentiles(samples)}")


if __name__ == "__main__":
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    asyncio.run(main(parser.parse_args().requests))
