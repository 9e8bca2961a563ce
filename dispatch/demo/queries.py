"""Bulk inserts for the demo company. Table and column names come only from `state.COLUMNS`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

from dispatch.demo.state import COLUMNS
from infra.db import Connection


async def insert_rows(conn: Connection, rows: Mapping[str, Sequence[tuple[object, ...]]]) -> None:
    for table, columns in COLUMNS.items():
        batch = rows.get(table, ())
        if not batch:
            continue
        placeholders = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        await conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",  # fixed names only
            batch,
        )


async def is_empty(conn: Connection) -> bool:
    """Demo data goes only into a database without territories, technicians, parts or sites."""
    return not await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM territories) OR EXISTS (SELECT 1 FROM technicians)
            OR EXISTS (SELECT 1 FROM parts) OR EXISTS (SELECT 1 FROM sites)
        """
    )


async def count_rows(conn: Connection, tables: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        assert table in COLUMNS or table == "users"
        counts[table] = int(await conn.fetchval(f"SELECT count(*) FROM {table}"))  # fixed names only
    return counts


async def insert_users(conn: Connection, users: Sequence[tuple[str, str, str, UUID | None]]) -> None:
    """(email, password hash, role, technician id) rows."""
    await conn.executemany(
        "INSERT INTO users (email, password_hash, role, technician_id) VALUES ($1, $2, $3, $4)", users
    )


async def password_hashes(conn: Connection, emails: Sequence[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT lower(email) AS email, password_hash FROM users WHERE lower(email) = ANY($1::text[])",
        [e.lower() for e in emails],
    )
    return {row["email"]: row["password_hash"] for row in rows}
