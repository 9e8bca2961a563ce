"""SQL for installed assets and their service history."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec
from asyncpg import Record

from assets.models import (
    Asset,
    AssetEvent,
    AssetEventId,
    AssetEventKind,
    AssetId,
    AssetKind,
    AttributeValue,
    PartQuantity,
    PartUsed,
    SiteId,
)
from infra.db import Connection, set_clause

_ASSET_COLUMNS = """
    id, external_id, site_id, kind, make, model, serial, installed_at, warranty_until, attributes,
    removed_at, created_at, updated_at
"""
# Each event carries its parts, so a page of history is one query.
_EVENT_COLUMNS = """
    e.id, e.external_id, e.asset_id, e.kind, e.occurred_at, e.summary, e.problem_code, e.technician_id,
    e.job_id, e.created_at,
    coalesce((
        SELECT json_agg(
            json_build_object('part_id', p.id, 'sku', p.sku, 'name', p.name, 'quantity', ep.quantity)
            ORDER BY p.sku
        )
        FROM asset_event_parts ep JOIN parts p ON p.id = ep.part_id
        WHERE ep.asset_event_id = e.id
    ), '[]') AS parts
"""


def asset_from_row(row: Record) -> Asset:
    return Asset(**dict(row))


def event_from_row(row: Record) -> AssetEvent:
    values = dict(row)
    return AssetEvent(
        **values
        | {
            "kind": AssetEventKind(values["kind"]),
            "parts": msgspec.convert(values["parts"], list[PartUsed]),
        }
    )


async def list_asset_kinds(conn: Connection) -> list[AssetKind]:
    rows = await conn.fetch("SELECT code, name FROM asset_kinds ORDER BY code")
    return [AssetKind(code=r["code"], name=r["name"]) for r in rows]


async def insert_asset(
    conn: Connection,
    *,
    external_id: str | None,
    site_id: SiteId,
    kind: str,
    make: str,
    model: str,
    serial: str | None,
    installed_at: datetime | None,
    warranty_until: date | None,
    attributes: dict[str, AttributeValue],
) -> Asset:
    row = await conn.fetchrow(
        f"""
        INSERT INTO assets (external_id, site_id, kind, make, model, serial, installed_at, warranty_until,
                            attributes)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING {_ASSET_COLUMNS}
        """,
        external_id,
        site_id,
        kind,
        make,
        model,
        serial,
        installed_at,
        warranty_until,
        attributes,
    )
    assert row is not None
    return asset_from_row(row)


async def get_asset(conn: Connection, asset_id: AssetId) -> Asset | None:
    row = await conn.fetchrow(f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id = $1", asset_id)
    return None if row is None else asset_from_row(row)


async def lock_asset(conn: Connection, asset_id: AssetId) -> Asset | None:
    row = await conn.fetchrow(f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id = $1 FOR UPDATE", asset_id)
    return None if row is None else asset_from_row(row)


async def list_site_assets(conn: Connection, site_id: SiteId, *, limit: int, offset: int) -> list[Asset]:
    rows = await conn.fetch(
        f"""
        SELECT {_ASSET_COLUMNS} FROM assets WHERE site_id = $1
        ORDER BY removed_at IS NOT NULL, kind, installed_at DESC NULLS LAST, id
        LIMIT $2 OFFSET $3
        """,
        site_id,
        limit,
        offset,
    )
    return [asset_from_row(r) for r in rows]


async def list_assets(
    conn: Connection,
    *,
    territory_id: UUID | None,
    site_id: UUID | None,
    kind: str | None,
    text: str | None,
    removed: bool,
    limit: int,
    offset: int,
) -> list[Asset]:
    rows = await conn.fetch(
        f"""
        SELECT {_ASSET_COLUMNS} FROM assets
        WHERE ($1::uuid IS NULL
               OR EXISTS (SELECT 1 FROM sites s WHERE s.id = assets.site_id AND s.territory_id = $1))
          AND ($2::uuid IS NULL OR site_id = $2)
          AND ($3::text IS NULL OR kind = $3)
          AND ($4::text IS NULL
               OR strpos(lower(concat_ws(' ', make, model, serial, external_id)), lower($4)) > 0)
          AND ($5 OR removed_at IS NULL)
        ORDER BY kind, make, model, id
        LIMIT $6 OFFSET $7
        """,
        territory_id,
        site_id,
        kind,
        text,
        removed,
        limit,
        offset,
    )
    return [asset_from_row(r) for r in rows]


async def update_asset(conn: Connection, asset_id: AssetId, changes: dict[str, object]) -> Asset | None:
    if not changes:
        return await get_asset(conn, asset_id)
    assignments, values = set_clause(changes)
    row = await conn.fetchrow(
        f"UPDATE assets SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {_ASSET_COLUMNS}",
        asset_id,
        *values,
    )
    return None if row is None else asset_from_row(row)


async def insert_asset_event(
    conn: Connection,
    *,
    asset_id: AssetId,
    kind: AssetEventKind,
    occurred_at: datetime,
    summary: str,
    problem_code: str | None,
    technician_id: UUID | None,
    job_id: UUID | None,
    external_id: str | None,
    parts: list[PartQuantity],
) -> AssetEventId:
    event_id: AssetEventId = await conn.fetchval(
        """
        INSERT INTO asset_events (asset_id, kind, occurred_at, summary, problem_code, technician_id, job_id,
                                  external_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING id
        """,
        asset_id,
        kind.value,
        occurred_at,
        summary,
        problem_code,
        technician_id,
        job_id,
        external_id,
    )
    if parts:
        await conn.execute(
            """
            INSERT INTO asset_event_parts (asset_event_id, part_id, quantity)
            SELECT $1, part_id, quantity FROM unnest($2::uuid[], $3::smallint[]) AS u(part_id, quantity)
            """,
            event_id,
            [p.part_id for p in parts],
            [p.quantity for p in parts],
        )
    return event_id


async def get_asset_event(conn: Connection, event_id: AssetEventId) -> AssetEvent | None:
    row = await conn.fetchrow(f"SELECT {_EVENT_COLUMNS} FROM asset_events e WHERE e.id = $1", event_id)
    return None if row is None else event_from_row(row)


async def list_asset_history(
    conn: Connection, asset_id: AssetId, *, limit: int, offset: int
) -> list[AssetEvent]:
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS} FROM asset_events e
        WHERE e.asset_id = $1
        ORDER BY e.occurred_at DESC, e.created_at DESC, e.id
        LIMIT $2 OFFSET $3
        """,
        asset_id,
        limit,
        offset,
    )
    return [event_from_row(r) for r in rows]


async def list_site_history(
    conn: Connection, site_id: SiteId, *, limit: int, offset: int
) -> list[AssetEvent]:
    rows = await conn.fetch(
        f"""
        SELECT {_EVENT_COLUMNS} FROM asset_events e JOIN assets a ON a.id = e.asset_id
        WHERE a.site_id = $1
        ORDER BY e.occurred_at DESC, e.created_at DESC, e.id
        LIMIT $2 OFFSET $3
        """,
        site_id,
        limit,
        offset,
    )
    return [event_from_row(r) for r in rows]


async def get_assets(conn: Connection, asset_ids: list[AssetId]) -> list[Asset]:
    rows = await conn.fetch(f"SELECT {_ASSET_COLUMNS} FROM assets WHERE id = ANY($1::uuid[])", asset_ids)
    return [asset_from_row(r) for r in rows]
