"""The compose file's PostgreSQL init script, run as the postgres image runs it on an empty
volume: the app's role owns its database and nothing more."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from infra.db import connect
from infra.local_postgres import SUPERUSER, LocalPostgres

SCRIPT = Path(__file__).resolve().parents[3] / "infra" / "deploy" / "postgres-init" / "10-truckroll-role.sh"


@pytest.fixture
def cluster() -> Iterator[LocalPostgres]:
    base = Path(tempfile.mkdtemp(prefix="truckroll-compose-"))
    base.chmod(0o755)  # the postgres user must enter it when we run as root
    pg = LocalPostgres(base, fast_unsafe=True)
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


async def test_the_app_role_is_no_superuser_and_owns_its_schema(cluster: LocalPostgres) -> None:
    env = {
        **os.environ,
        "PATH": f"{cluster.bindir}:{os.environ.get('PATH', '')}",
        "PGHOST": str(cluster.socket_dir),
        "POSTGRES_USER": SUPERUSER,
        "TRUCKROLL_DB_PASSWORD": "s3cret-for-the-test",
    }
    shell = shutil.which("sh") or "/bin/sh"
    await asyncio.to_thread(subprocess.run, [shell, str(SCRIPT)], env=env, check=True, capture_output=True)

    conn = await connect(cluster.dsn("truckroll", user="truckroll"))
    try:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        assert role is not None
        assert tuple(role) == (False, False, False)
        await conn.execute("CREATE TABLE probe (id int)")  # it owns the schema: migrations run as it
        await conn.execute("SET session_replication_role = replica")  # the import's fast path
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("COPY (SELECT 1) TO PROGRAM 'true'")
    finally:
        await conn.close()
