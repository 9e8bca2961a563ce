"""When the database fails, or a request is refused after it took a connection, the API answers
in its own words and lets go at once: every database failure is a 503 (never a 500), a refused
request gives its connection back before the answer leaves, and a database rule broken by a
request is told by field, never by the constraint's name."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.errors import constraint_words
from dispatch.access.accounts import Role
from infra.db import Connection, connect
from infra.local_postgres import LocalPostgres
from infra.settings import Settings
from tests.conftest import JWT_SECRET, Auth, make_user, mint_token
from tests.factories_dispatch import login_of
from tests.factories_matching import north, technician, territory
from tests.integration.infra.test_database_restart import own_cluster
from tests.live_server import free_port, serve_command, serving, wait_until_healthy

__all__ = ["own_cluster"]  # the fixture, shared

Client = AsyncTestClient[Litestar]


async def _idle_in_transaction(conn: Connection) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
    )
    return count


async def test_a_request_refused_after_taking_a_connection_gives_it_back_at_once(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    # The page's bounds are checked while the connection is being opened beside them: the
    # refusal used to leave that connection idle in its transaction until the garbage collector
    # came by, and a handful of such requests emptied the pool (5 connections here).
    for _ in range(20):
        refused = await client.get("/customers?offset=1000001", headers=dispatcher.headers)
        assert refused.status_code == 400, refused.text
        assert await _idle_in_transaction(conn) == 0
    began = time.monotonic()
    listed = await client.get("/customers", headers=dispatcher.headers)
    assert listed.status_code == 200
    assert time.monotonic() - began < 1


async def test_sigterm_is_not_held_by_refused_requests(conn: Connection, dsn: str, tmp_path: Path) -> None:
    staff = await make_user(conn, Role.DISPATCHER)
    port = free_port()
    api = serve_command(dsn, tmp_path, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_until_healthy(http)
            # A burst, as a scanner sends it: several refusals in flight at once.
            answers = await asyncio.gather(
                *(http.get("/customers?offset=1000001", headers=staff.headers) for _ in range(50))
            )
            assert {a.status_code for a in answers} == {400}
        api.send_signal(signal.SIGTERM)
        began = time.monotonic()
        assert await asyncio.to_thread(api.wait, 20) == 0
        assert time.monotonic() - began < 5
    finally:
        if api.poll() is None:
            api.kill()
            api.wait()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/technicians/me"),
        ("GET", "/technicians/me/day"),
        ("POST", "/technicians/me/positions"),
    ],
)
@pytest.mark.parametrize("record", ["none named", "gone"])
async def test_a_technician_login_without_a_technician_record_gets_404_not_500(
    client: Client, conn: Connection, method: str, path: str, record: str
) -> None:
    user = await make_user(conn, Role.DISPATCHER)
    token = mint_token(
        user.user_id, Role.TECHNICIAN, technician_id=None if record == "none named" else uuid4()
    )
    body = {"pings": [{"recorded_at": datetime.now(UTC).isoformat(), "latitude": 1.0, "longitude": 2.0}]}
    answer = await client.request(
        method, path, json=body if method == "POST" else None, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404, answer.text
    assert "technician" in answer.json()["detail"]


async def test_no_rule_of_the_database_is_answered_with_its_constraint_name(conn: Connection) -> None:
    # Every CHECK of the schema: the answer names a field of the record (a column, by the
    # project's one-name rule) and says what is wrong without the constraint's own name.
    rows = await conn.fetch(
        """
        SELECT c.conname, t.relname,
               array(SELECT a.attname FROM pg_attribute a
                     WHERE a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)) AS columns
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = 'public' AND c.contype = 'c'
        """
    )
    assert len(rows) > 100
    wrong = []
    for row in rows:
        fields, message = constraint_words(row["conname"], row["relname"])
        if not fields or not set(fields) <= set(row["columns"]) or row["conname"] in message:
            wrong.append(f"{row['relname']}.{row['conname']} -> {fields}: {message}")
    assert wrong == []


async def _restart(pg: LocalPostgres, mode: str) -> None:
    def run() -> None:
        ctl = str(pg.bindir / "pg_ctl")
        subprocess.run(
            [ctl, "stop", "-w", "-m", mode, "-D", str(pg.pgdata)], user="postgres", cwd="/", check=True
        )
        pg.start()

    await asyncio.to_thread(run)


@pytest.fixture
async def loaded_api(own_cluster: LocalPostgres, tmp_path: Path) -> AsyncIterator[tuple[str, list[Auth]]]:
    conn = await connect(own_cluster.dsn())
    try:
        staff = await make_user(conn, Role.DISPATCHER)
        metro = await territory(conn)
        techs = [await login_of(conn, await technician(conn, metro, f"T{i}", north(i))) for i in range(4)]
    finally:
        await conn.close()
    settings = Settings(
        database_url=None, data_dir=tmp_path, jwt_secret=JWT_SECRET, risk_scan_s=0, pool_max_size=8
    )
    async with serving(create_app(settings, dsn=own_cluster.dsn())) as base:
        yield base, [staff, *techs]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_database_restart_under_load_is_503s_never_a_500(
    own_cluster: LocalPostgres, loaded_api: tuple[str, list[Auth]], mode: str
) -> None:
    base, (staff, *techs) = loaded_api
    statuses: Counter[int] = Counter()
    errors: list[str] = []
    stop = asyncio.Event()

    async def hammer(http: httpx.AsyncClient, n: int) -> None:
        tech = techs[n % len(techs)]
        while not stop.is_set():
            kind = n % 4
            n += 4
            try:
                if kind == 0:
                    r = await http.get("/customers", headers=staff.headers)
                elif kind == 1:
                    r = await http.post("/customers", json={"name": f"C {n}"}, headers=staff.headers)
                elif kind == 2:
                    ping = {
                        "recorded_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat(),
                        "latitude": 44.9,
                        "longitude": -93.2,
                    }
                    r = await http.post(
                        "/technicians/me/positions", json={"pings": [ping]}, headers=tech.headers
                    )
                else:
                    r = await http.get("/technicians/me/day", headers=tech.headers)
            except httpx.TransportError:
                continue
            statuses[r.status_code] += 1
            if r.status_code >= 500 and r.status_code != 503:
                errors.append(f"{r.request.method} {r.request.url.path}: {r.text[:200]}")

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        workers = [asyncio.create_task(hammer(http, n)) for n in range(16)]
        await asyncio.sleep(1.0)
        await _restart(own_cluster, mode)
        await asyncio.sleep(3.0)
        stop.set()
        await asyncio.gather(*workers)
    assert errors == [], f"{statuses}: {errors[:3]}"
    assert statuses[503] > 0 or mode == "fast", statuses
    assert statuses[200] > 0, statuses
