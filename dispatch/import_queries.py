"""Writing an import: every row keyed by its external id (parts by SKU), inserted only if new."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from assets.addresses import address_key
from dispatch.importing import Parsed, Rejection
from infra.db import Connection


@dataclass
class FileReport:
    added: int = 0
    present: int = 0  # already there from an earlier run: left as it is


@dataclass
class ImportReport:
    files: dict[str, FileReport] = field(default_factory=dict)
    rejected: list[Rejection] = field(default_factory=list)


class RowRejectedError(Exception):
    pass


async def _id(conn: Connection, table: str, column: str, value: object) -> UUID | None:
    # table and column come from this module only
    found: UUID | None = await conn.fetchval(f"SELECT id FROM {table} WHERE {column} = $1", value)
    return found


async def _ref(conn: Connection, table: str, value: object, what: str) -> UUID:
    found = await _id(conn, table, "external_id", value)
    if found is None:
        raise RowRejectedError(f"{what} {value} is neither in its file (accepted) nor in the database")
    return found


async def _insert(conn: Connection, table: str, values: dict[str, Any]) -> bool:
    """True when the row is new; an existing row with the same key is left untouched."""
    columns = ", ".join(values)
    placeholders = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    status: str = await conn.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) ON CONFLICT DO NOTHING", *values.values()
    )
    return status.endswith(" 1")


async def _part(conn: Connection, row: dict[str, Any]) -> bool:
    attributes = {"family": row["family"]} if row["family"] else {}
    return await _insert(
        conn,
        "parts",
        {
            "sku": row["sku"],
            "name": row["name"],
            "unit_cost_cents": row["unit_cost_cents"],
            "sold_in_multiples_of": row["sold_in_multiples_of"],
            "attributes": attributes,
        },
    )


async def _part_id(conn: Connection, sku: str) -> UUID:
    found = await _id(conn, "parts", "sku", sku)
    if found is None:
        raise RowRejectedError(f"part {sku} is neither in parts.csv (accepted) nor in the database")
    return found


async def _fitment(conn: Connection, row: dict[str, Any]) -> bool:
    if not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM asset_kinds WHERE code = $1)", row["asset_kind"]
    ):
        raise RowRejectedError(f"asset_kind: no asset kind {row['asset_kind']}")
    return await _insert(
        conn,
        "fitments",
        {
            "part_id": await _part_id(conn, row["sku"]),
            "asset_kind": row["asset_kind"],
            "make": row["make"],
            "model": row["model"],
            "conditions": row["conditions"],
            "quantity": row["quantity"],
        },
    )


async def _customer(conn: Connection, row: dict[str, Any]) -> bool:
    return await _insert(conn, "customers", row)


async def _site(conn: Connection, row: dict[str, Any]) -> bool:
    key = address_key(row["address_line"], row["city"], row["postal_code"])
    return await _insert(conn, "sites", {**row, "address_key": key})


async def _occupancy(conn: Connection, row: dict[str, Any]) -> bool:
    site_id = await _ref(conn, "sites", row["site_external_id"], "site")
    customer_id = await _ref(conn, "customers", row["customer_external_id"], "customer")
    if await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM site_occupancies"
        " WHERE site_id = $1 AND customer_id = $2 AND started_at = $3)",
        site_id,
        customer_id,
        row["started_at"],
    ):
        return False
    overlapping = await conn.fetchval(
        """
        SELECT EXISTS (SELECT 1 FROM site_occupancies WHERE site_id = $1
                       AND started_at < coalesce($3::timestamptz, 'infinity')
                       AND coalesce(ended_at, 'infinity') > $2)
        """,
        site_id,
        row["started_at"],
        row["ended_at"],
    )
    if overlapping:
        raise RowRejectedError("started_at: overlaps another occupancy of this site")
    return await _insert(
        conn,
        "site_occupancies",
        {
            "site_id": site_id,
            "customer_id": customer_id,
            "started_at": row["started_at"],
            "ended_at": row["ended_at"],
        },
    )


async def _asset(conn: Connection, row: dict[str, Any]) -> bool:
    site_id = await _ref(conn, "sites", row["site_external_id"], "site")
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM asset_kinds WHERE code = $1)", row["kind"]):
        raise RowRejectedError(f"kind: no asset kind {row['kind']}")
    values = {k: v for k, v in row.items() if k != "site_external_id"}
    return await _insert(conn, "assets", {**values, "site_id": site_id})


async def _event(
    conn: Connection, asset_id: UUID, row: dict[str, Any], *, job_id: UUID | None, external_id: str
) -> bool:
    parts = [(await _part_id(conn, sku), quantity) for sku, quantity in row["parts"]]
    event_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO asset_events (external_id, asset_id, job_id, kind, problem_code, summary, occurred_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id
        """,
        external_id,
        asset_id,
        job_id,
        row["kind"],
        row["problem_code"],
        row["summary"],
        row["occurred_at"],
    )
    if event_id is None:
        return False
    merged: dict[UUID, int] = {}
    for part_id, quantity in parts:
        merged[part_id] = merged.get(part_id, 0) + quantity
    await conn.executemany(
        "INSERT INTO asset_event_parts (asset_event_id, part_id, quantity) VALUES ($1, $2, $3)",
        [(event_id, pid, q) for pid, q in merged.items()],
    )
    return True


async def _asset_event(conn: Connection, row: dict[str, Any]) -> bool:
    asset_id = await _ref(conn, "assets", row["asset_external_id"], "asset")
    return await _event(conn, asset_id, row, job_id=None, external_id=row["external_id"])


async def _job(conn: Connection, row: dict[str, Any]) -> bool:
    asset = await conn.fetchrow(
        "SELECT id, site_id FROM assets WHERE external_id = $1", row["asset_external_id"]
    )
    if asset is None:
        raise RowRejectedError(
            f"asset {row['asset_external_id']} is neither in assets.csv (accepted) nor in the database"
        )
    for sku, _ in row["parts"]:
        await _part_id(conn, sku)
    parent = await _ref(conn, "jobs", row["follow_up_of"], "job") if row["follow_up_of"] else None
    started: datetime = row["started_at"]
    finished: datetime = row["finished_at"]
    took = int(min(12 * 3600, max(60, (finished - started).total_seconds())))
    customer_id = await conn.fetchval(
        """
        SELECT customer_id FROM site_occupancies
        WHERE site_id = $1 AND started_at <= $2 AND (ended_at IS NULL OR ended_at > $2)
        """,
        asset["site_id"],
        started,
    )
    job_id: UUID | None = await conn.fetchval(
        """
        INSERT INTO jobs (external_id, site_id, asset_id, customer_id, parent_job_id, problem_code,
                          customer_choice, duration_s, duration_source, duration_reason, window_start_at,
                          window_end_at, status, planned_start_at, started_at, finished_at, created_at,
                          updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'manual', 'imported: the time it took', $9, $10, $11, $9, $9,
                $12, $9, $12)
        ON CONFLICT DO NOTHING RETURNING id
        """,
        row["external_id"],
        asset["site_id"],
        asset["id"],
        customer_id,
        parent,
        row["problem_code"],
        row["choice"],
        took,
        started,
        max(finished, started + timedelta(hours=1)),
        row["status"],
        finished,
    )
    if job_id is None:
        return False
    await conn.execute(
        "INSERT INTO job_events (job_id, kind, to_status, actor, occurred_at)"
        " VALUES ($1, 'imported', $2, 'import', $3)",
        job_id,
        row["status"],
        finished,
    )
    if row["parts"] or row["status"] == "completed":
        kind = "replace" if row["parts"] else "repair"
        event = {
            **row,
            "kind": kind,
            "occurred_at": finished,
            "summary": row["summary"] or row["problem_code"],
        }
        await _event(conn, asset["id"], event, job_id=job_id, external_id=f"job:{row['external_id']}")
    return True


WRITERS = {
    "parts.csv": _part,
    "fitments.csv": _fitment,
    "customers.csv": _customer,
    "sites.csv": _site,
    "occupancies.csv": _occupancy,
    "assets.csv": _asset,
    "asset_events.csv": _asset_event,
    "jobs.csv": _job,
}


async def write_import(conn: Connection, parsed: Parsed) -> ImportReport:
    """Write every accepted row, in file order, inside the caller's transaction."""
    report = ImportReport(rejected=list(parsed.rejected))
    for name, rows in parsed.rows.items():
        counts = report.files.setdefault(name, FileReport())
        for line, row in rows:
            try:
                async with conn.transaction():  # a savepoint: a rejected row leaves no trace
                    added = await WRITERS[name](conn, row)
            except RowRejectedError as exc:
                report.rejected.append(Rejection(name, line, str(exc)))
                continue
            if added:
                counts.added += 1
            else:
                counts.present += 1
    report.rejected.sort(
        key=lambda r: (list(parsed.rows).index(r.file) if r.file in parsed.rows else 0, r.line)
    )
    return report
