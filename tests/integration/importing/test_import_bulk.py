"""The import's fast path: with PostgreSQL's per-row reference checks off for its transaction,
every reference it wrote is checked, and what it names locked, once at the end."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import asyncpg
import pytest

from api.cli import main
from dispatch.importing.import_staging_queries import begin_staging
from infra.db import Connection, connect
from tests.integration.api.test_cli import empty_dsn  # noqa: F401  # the fixture, shared
from tests.integration.importing.test_import import EXAMPLE, EXAMPLE_ROWS, counts

pytestmark = pytest.mark.asyncio

VERIFY = "SELECT verify_written_references(ARRAY['job_events']::regclass[])"
ORPHAN = """
INSERT INTO job_events (job_id, kind, actor) VALUES ($1, 'imported', 'import')
"""


async def _imported_job(dsn: str) -> UUID:
    assert await asyncio.to_thread(main, ["import", str(EXAMPLE)]) == 0
    conn = await connect(dsn)
    try:
        job_id: UUID = await conn.fetchval("SELECT id FROM jobs")
        return job_id
    finally:
        await conn.close()


async def test_a_reference_to_nothing_written_with_the_row_checks_off_is_refused(conn: Connection) -> None:
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute(ORPHAN, uuid4())  # PostgreSQL lets it through
        await conn.execute("SET LOCAL session_replication_role = origin")
        with pytest.raises(asyncpg.ForeignKeyViolationError, match=r"job_events\.job_id = .* no row of jobs"):
            await conn.fetchval(VERIFY)


async def test_a_row_the_new_rows_name_cannot_be_deleted_until_they_are_committed(
    empty_dsn: str,  # noqa: F811
) -> None:
    job_id = await _imported_job(empty_dsn)
    writer, deleter = await connect(empty_dsn), await connect(empty_dsn)
    try:
        async with writer.transaction():
            await writer.execute("SET LOCAL session_replication_role = replica")
            await writer.execute(ORPHAN, job_id)
            await writer.execute("SET LOCAL session_replication_role = origin")
            assert await writer.fetchval(VERIFY) > 0
            # Without the lock the delete would go through, and the new event would name nothing.
            await deleter.execute("SET lock_timeout = '300ms'")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await deleter.execute("DELETE FROM jobs WHERE id = $1", job_id)
    finally:
        await writer.close()
        await deleter.close()


async def test_a_role_that_may_not_turn_the_checks_off_imports_the_same(
    empty_dsn: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert await asyncio.to_thread(main, ["migrate"]) == 0
    role = f"plain_{uuid4().hex[:12]}"
    owner = await connect(empty_dsn)
    try:
        await owner.execute(f"CREATE ROLE {role} LOGIN")
        database = await owner.fetchval("SELECT current_database()")
        await owner.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}")
        await owner.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        await owner.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
        await owner.execute(f"GRANT ALL ON SCHEMA public TO {role}")
        assert await begin_staging_as(owner) is True
    finally:
        await owner.close()
    plain_dsn = _as_role(empty_dsn, role)
    plain = await connect(plain_dsn)
    try:
        assert await begin_staging_as(plain) is False
    finally:
        await plain.close()

    monkeypatch.setenv("DATABASE_URL", plain_dsn)
    assert await asyncio.to_thread(main, ["import", str(EXAMPLE)]) == 0
    assert await asyncio.to_thread(counts, empty_dsn) == EXAMPLE_ROWS


async def test_listeners_hear_of_an_import_written_with_the_row_checks_off(
    empty_dsn: str,  # noqa: F811
) -> None:
    assert await asyncio.to_thread(main, ["migrate"]) == 0
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await connect(empty_dsn)
    try:
        await listener.add_listener("truckroll_events", lambda *args: heard.put_nowait(args[2]))
        await listener.add_listener("truckroll_fleet", lambda *args: heard.put_nowait(args[2]))
        await _imported_job(empty_dsn)
        channels = {await asyncio.wait_for(heard.get(), 5), await asyncio.wait_for(heard.get(), 5)}
        assert channels == {"truckroll_events", "truckroll_fleet"}
    finally:
        await listener.close()


async def begin_staging_as(conn: Connection) -> bool:
    """Whether an import on this connection would turn the row checks off (and nothing else)."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        return await begin_staging(conn)
    finally:
        await transaction.rollback()


def _as_role(dsn: str, role: str) -> str:
    scheme, rest = dsn.split("://", 1)
    return f"{scheme}://{role}@{rest.split('@', 1)[1]}"
