from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from infra.db import connect
from infra.local_postgres import LocalPostgres, socket_dir_for


async def _query(dsn: str, sql: str) -> object:
    conn = await connect(dsn)
    try:
        *setup, last = sql.split(";")
        for statement in setup:
            await conn.execute(statement)
        return await conn.fetchval(last)
    finally:
        await conn.close()


def test_a_local_cluster_keeps_its_data_across_a_restart_and_stops_cleanly() -> None:
    base = Path(tempfile.mkdtemp(prefix="truckroll-lp-"))
    base.chmod(0o755)
    pg = LocalPostgres(base / "data", fast_unsafe=True)
    try:
        pg.start()
        asyncio.run(_query(pg.dsn(), "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)"))
        pg.stop()
        assert not pg.is_running()
        pg.start()
        assert asyncio.run(_query(pg.dsn(), "SELECT x FROM kept")) == 42
        pg.start()  # starting a running cluster is a no-op
        assert pg.is_running()
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


def test_the_socket_path_is_short_and_stable_for_a_data_dir() -> None:
    deep = Path("/" + "/".join(["a-long-directory-name"] * 10))
    assert socket_dir_for(deep) == socket_dir_for(deep)
    assert len(str(socket_dir_for(deep) / ".s.PGSQL.5432")) < 100
