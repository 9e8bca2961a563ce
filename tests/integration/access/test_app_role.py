"""The app works in its local cluster as a role that owns its schema and nothing more, so a hole in
a query cannot become a shell on the host or reach past the app's own tables."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.cli import database
from dispatch.access.accounts import Role, create_user
from infra.db import connect, migrate
from infra.local_postgres import APP_ROLE
from infra.settings import Settings
from tests.conftest import JWT_SECRET, Cluster


@pytest.fixture
def served_dsn() -> Iterator[str]:
    """The DSN `truckroll serve` hands the app when DATABASE_URL is unset."""
    base = Path(tempfile.mkdtemp(prefix="truckroll-role-"))
    base.chmod(0o755)  # the postgres user must enter it when we run as root
    try:
        with database(Settings(data_dir=base / "data", jwt_secret=JWT_SECRET)) as dsn:
            yield dsn
    finally:
        shutil.rmtree(base, ignore_errors=True)


async def _refused(dsn: str, sql: str) -> bool:
    conn = await connect(dsn)
    try:
        await conn.execute(sql)
    except asyncpg.InsufficientPrivilegeError:
        return True
    finally:
        await conn.close()
    return False


def test_the_served_app_cannot_run_programs_read_files_or_make_roles(served_dsn: str, tmp_path: Path) -> None:
    # As the superuser, each of these succeeds: COPY ... TO PROGRAM runs a shell command as the
    # server's OS user, pg_read_file reads any file it can.
    assert asyncio.run(_refused(served_dsn, "COPY (SELECT 1) TO PROGRAM 'true'"))
    assert asyncio.run(_refused(served_dsn, "SELECT pg_read_file('/etc/hostname')"))
    assert asyncio.run(_refused(served_dsn, "CREATE ROLE intruder LOGIN SUPERUSER"))
    assert asyncio.run(_refused(served_dsn, "CREATE DATABASE elsewhere"))

    async def works_as_the_app_role() -> None:
        conn = await connect(served_dsn)
        try:
            assert await conn.fetchval("SELECT current_user") == APP_ROLE
            assert await migrate(conn)  # it owns its schema: migrations run as it
            await create_user(
                conn, email="boss@example.com", password="a long enough secret", role=Role.ADMIN
            )
        finally:
            await conn.close()
        app = create_app(Settings(data_dir=tmp_path, jwt_secret=JWT_SECRET), dsn=served_dsn)
        async with AsyncTestClient(app=app) as client:
            login = await client.post(
                "/auth/login", json={"email": "boss@example.com", "password": "a long enough secret"}
            )
            assert login.status_code == 200
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            assert (await client.post("/customers", json={"name": "Ada"}, headers=headers)).status_code == 201

    asyncio.run(works_as_the_app_role())


async def test_a_database_the_superuser_made_is_handed_over_to_the_app_role(cluster: Cluster) -> None:
    # An install from before the app role: the superuser created and migrated everything.
    name = f"h_{uuid4().hex[:12]}"
    admin = await connect(cluster.dsn("postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    old = await connect(cluster.dsn(name))
    try:
        await migrate(old)
    finally:
        await old.close()

    app_dsn = await cluster.pg.prepare_app_database(name)

    conn = await connect(app_dsn)
    try:
        foreign = await conn.fetch(
            """
            SELECT c.relname AS name FROM pg_class c
            WHERE c.relnamespace = 'public'::regnamespace AND c.relowner <> current_user::regrole
            UNION ALL
            SELECT p.proname FROM pg_proc p
            WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> current_user::regrole
            """
        )
        assert [r["name"] for r in foreign] == []
        assert await migrate(conn) == []
        # Owning the tables is what later migrations need (0024 altered users, for one).
        await conn.execute("ALTER TABLE users ADD COLUMN probe int")
        await conn.execute("INSERT INTO customers (name) VALUES ('Ada')")
        # An import may turn the per-row reference checks off (it checks them once at the end).
        if await conn.fetchval("SELECT current_setting('server_version_num')::integer >= 150000"):
            await conn.execute("SET session_replication_role = replica")
    finally:
        await conn.close()
