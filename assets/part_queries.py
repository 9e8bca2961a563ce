"""SQL for the parts catalogue and fitments (which part fits which asset)."""

from __future__ import annotations

from asyncpg import Record

from assets.models import AssetId, AttributeValue, Fitment, FitmentId, FittingPart, Part, PartId
from infra.db import Connection, set_clause

_PART_COLUMNS = "id, sku, name, unit_cost_cents, sold_in_multiples_of, attributes, created_at, updated_at"
_PART_FIELDS = _PART_COLUMNS.split(", ")
_FITMENT_COLUMNS = "id, part_id, asset_kind, make, model, conditions, quantity"


def part_from_row(row: Record) -> Part:
    return Part(**{field: row[field] for field in _PART_FIELDS})


def fitment_from_row(row: Record) -> Fitment:
    return Fitment(**dict(row))


async def insert_part(
    conn: Connection,
    *,
    sku: str,
    name: str,
    unit_cost_cents: int,
    sold_in_multiples_of: int,
    attributes: dict[str, AttributeValue],
) -> Part:
    row = await conn.fetchrow(
        f"""
        INSERT INTO parts (sku, name, unit_cost_cents, sold_in_multiples_of, attributes)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING {_PART_COLUMNS}
        """,
        sku,
        name,
        unit_cost_cents,
        sold_in_multiples_of,
        attributes,
    )
    assert row is not None
    return part_from_row(row)


async def get_part(conn: Connection, part_id: PartId) -> Part | None:
    row = await conn.fetchrow(f"SELECT {_PART_COLUMNS} FROM parts WHERE id = $1", part_id)
    return None if row is None else part_from_row(row)


async def get_parts(conn: Connection, part_ids: list[PartId]) -> dict[PartId, Part]:
    rows = await conn.fetch(f"SELECT {_PART_COLUMNS} FROM parts WHERE id = ANY($1::uuid[])", part_ids)
    return {r["id"]: part_from_row(r) for r in rows}


async def list_parts(conn: Connection, *, search: str | None, limit: int, offset: int) -> list[Part]:
    rows = await conn.fetch(
        f"""
        SELECT {_PART_COLUMNS} FROM parts
        WHERE $1::text IS NULL OR strpos(lower(sku), lower($1)) > 0 OR strpos(lower(name), lower($1)) > 0
        ORDER BY sku, id
        LIMIT $2 OFFSET $3
        """,
        search,
        limit,
        offset,
    )
    return [part_from_row(r) for r in rows]


async def update_part(conn: Connection, part_id: PartId, changes: dict[str, object]) -> Part | None:
    if not changes:
        return await get_part(conn, part_id)
    assignments, values = set_clause(changes)
    row = await conn.fetchrow(
        f"UPDATE parts SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {_PART_COLUMNS}",
        part_id,
        *values,
    )
    return None if row is None else part_from_row(row)


async def insert_fitment(
    conn: Connection,
    *,
    part_id: PartId,
    asset_kind: str,
    make: str | None,
    model: str | None,
    conditions: dict[str, AttributeValue],
    quantity: int,
) -> Fitment | None:
    """None when the part already has a fitment for the same kind, make, model and conditions."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO fitments (part_id, asset_kind, make, model, conditions, quantity)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (part_id, asset_kind, coalesce(make, ''), coalesce(model, ''), conditions) DO NOTHING
        RETURNING {_FITMENT_COLUMNS}
        """,
        part_id,
        asset_kind,
        make,
        model,
        conditions,
        quantity,
    )
    return None if row is None else fitment_from_row(row)


async def list_fitments(conn: Connection, part_id: PartId, *, limit: int, offset: int) -> list[Fitment]:
    rows = await conn.fetch(
        f"""
        SELECT {_FITMENT_COLUMNS} FROM fitments WHERE part_id = $1
        ORDER BY asset_kind, make NULLS FIRST, model NULLS FIRST, id
        LIMIT $2 OFFSET $3
        """,
        part_id,
        limit,
        offset,
    )
    return [fitment_from_row(r) for r in rows]


async def delete_fitment(conn: Connection, fitment_id: FitmentId) -> bool:
    deleted = await conn.fetchval("DELETE FROM fitments WHERE id = $1 RETURNING id", fitment_id)
    return deleted is not None


async def list_fitting_parts(conn: Connection, asset_id: AssetId) -> list[FittingPart]:
    """Parts whose fitments match the asset; where several fitments of one part match, the most
    specific one (model, then make, then the most conditions) gives the quantity."""
    rows = await conn.fetch(
        f"""
        SELECT {_PART_COLUMNS}, fitment_id, quantity FROM (
            SELECT DISTINCT ON (p.id)
                p.id, p.sku, p.name, p.unit_cost_cents, p.sold_in_multiples_of, p.attributes, p.created_at,
                p.updated_at, f.id AS fitment_id, f.quantity
            FROM assets a
            JOIN fitments f
              ON f.asset_kind = a.kind
             AND fitment_names(f.make, f.model, a.make, a.model)
             AND fitment_holds(a.attributes, f.conditions)
            JOIN parts p ON p.id = f.part_id
            WHERE a.id = $1
            ORDER BY p.id, f.model IS NULL, f.make IS NULL,
                     (SELECT count(*) FROM jsonb_object_keys(f.conditions)) DESC, f.id
        ) AS fitting
        ORDER BY sku
        """,
        asset_id,
    )
    return [
        FittingPart(
            part=part_from_row(r),
            fitment_id=r["fitment_id"],
            quantity=r["quantity"],
        )
        for r in rows
    ]
