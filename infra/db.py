"""The asyncpg pool and the forward-only migrations."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec

from infra.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    Connection = asyncpg.Connection[asyncpg.Record]
    Pool = asyncpg.Pool[asyncpg.Record]
else:
    # The pool hands out proxies, not Connection instances, so at run time the name means "any".
    Connection = Any
    Pool = asyncpg.Pool

# Arbitrary but fixed: every Truckroll process takes this lock before migrating.
MIGRATION_LOCK_KEY = 0x7472_7563_6B72  # "truckr"
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    folder = resources.files("infra") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


async def migrate(conn: Connection) -> list[str]:
    """Apply pending migrations in order; returns the names applied. Safe to run concurrently."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in load_migrations():
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied_now.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now


async def _init_connection(conn: Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            schema="pg_catalog",
            encoder=_encode_json_text,
            decoder=msgspec.json.decode,
            format="text",
        )


def _encode_json_text(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _keep_session(conn: object) -> None:
    """Returning a connection to the pool costs no query: pooled connections never change their
    session (no SET, LISTEN, cursors or session-level advisory locks; listeners have connections
    of their own), and asyncpg still rolls back a transaction left open. The default reset
    would be one more round trip on every request."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        command_timeout=30,
        # Connecting gives up after 5 s, so a request fails fast while PostgreSQL is away.
        timeout=CONNECT_TIMEOUT_S,
    )
    assert pool is not None
    return pool


# Errors that mean "PostgreSQL is not there right now", as opposed to "this query is wrong".
UNREACHABLE = (OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError)
CONNECT_TIMEOUT_S = 5.0
ACQUIRE_TIMEOUT_S = 10.0


@asynccontextmanager
async def acquire(pool: Pool) -> AsyncIterator[Connection]:
    """A pooled connection, or DatabaseUnavailableError when none can be had: PostgreSQL is down
    or restarting (the pool reconnects by itself once it is back), or every connection stayed
    busy for ACQUIRE_TIMEOUT_S."""
    try:
        conn = await pool.acquire(timeout=ACQUIRE_TIMEOUT_S)
    except UNREACHABLE as error:
        raise DatabaseUnavailableError(str(error) or type(error).__name__) from error
    try:
        yield conn  # type: ignore[misc]  # a pool proxy stands in for its Connection
    finally:
        await pool.release(conn)


async def connect(dsn: str) -> Connection:
    conn: Connection = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


@asynccontextmanager
async def connection(dsn: str) -> AsyncIterator[Connection]:
    conn = await connect(dsn)
    try:
        yield conn
    finally:
        await conn.close()


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create the database `name` if it does not exist (for the local cluster)."""
    conn = await connect(admin_dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            quoted = '"' + name.replace('"', '""') + '"'
            await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


def set_clause(changes: dict[str, object], *, first_param: int = 2) -> tuple[str, list[object]]:
    """`col = $2, col2 = $3` for an UPDATE of the given columns.

    Column names come from our own Struct field names, never from the client; values are parameters.
    """
    for column in changes:
        if not column.isidentifier():
            raise ValueError(f"not a column name: {column!r}")
    parts = [f"{column} = ${i}" for i, column in enumerate(changes, start=first_param)]
    return ", ".join(parts), list(changes.values())


def insert_clause(values: Mapping[str, object]) -> tuple[str, str, list[object]]:
    """`(col, col2)`, `($1, $2)` and the arguments, for an INSERT of the given columns.

    Like `set_clause`, the column names come from our own code, never from the client.
    """
    for column in values:
        if not column.isidentifier():
            raise ValueError(f"not a column name: {column!r}")
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    return f"({', '.join(values)})", f"({placeholders})", list(values.values())
