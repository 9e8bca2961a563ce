"""SQL that feeds parts prediction: parts with their families, fitting parts, past visits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from uuid import UUID

from asyncpg import Record

from assets.parts_evidence import Visit
from assets.parts_prediction import Fitting, OwnUse, PartRef
from infra.db import Connection

_PART = """
    p.id AS part_id, p.sku, p.name, coalesce(p.attributes->>'family', p.sku) AS family, p.sold_in_multiples_of
"""


def _part(row: Record) -> PartRef:
    return PartRef(
        part_id=row["part_id"],
        sku=row["sku"],
        name=row["name"],
        family=row["family"],
        sold_in_multiples_of=row["sold_in_multiples_of"],
    )


async def part_refs(conn: Connection) -> dict[UUID, PartRef]:
    rows = await conn.fetch(f"SELECT {_PART} FROM parts p")
    return {r["part_id"]: _part(r) for r in rows}


async def fittings(conn: Connection, asset_ids: Sequence[UUID] | None = None) -> dict[UUID, list[Fitting]]:
    """Fitment rules that hold for each asset: kind, make and model if set, every condition."""
    rows = await conn.fetch(
        f"""
        SELECT a.id AS asset_id, f.quantity, f.conditions, {_PART}
        FROM assets a
        JOIN fitments f ON f.asset_kind = a.kind
                       AND (f.make IS NULL OR f.make = a.make) AND (f.model IS NULL OR f.model = a.model)
                       AND fitment_holds(a.attributes, f.conditions)
        JOIN parts p ON p.id = f.part_id
        WHERE $1::uuid[] IS NULL OR a.id = ANY($1::uuid[])
        ORDER BY a.id, p.sku
        """,
        None if asset_ids is None else list(asset_ids),
    )
    found: dict[UUID, list[Fitting]] = {}
    for r in rows:
        conditions = r["conditions"] or {}
        rule = ", ".join(f"{k} = {v}" for k, v in sorted(conditions.items()))
        found.setdefault(r["asset_id"], []).append(Fitting(part=_part(r), quantity=r["quantity"], rule=rule))
    return found


async def usual_families(conn: Connection) -> dict[tuple[str, str], frozenset[str]]:
    rows = await conn.fetch("SELECT problem_code, choice, part_families FROM problem_variants")
    return {(r["problem_code"], r["choice"]): frozenset(r["part_families"]) for r in rows}


async def visits(conn: Connection, *, problem_code: str | None = None) -> list[Visit]:
    """Finished first visits to an asset, each with the parts it and its follow-ups used."""
    parts = await part_refs(conn)
    rows = await conn.fetch(
        """
        WITH first_visits AS (
            SELECT j.id, j.asset_id, j.problem_code, j.customer_choice, j.finished_at, a.make, a.model
            FROM jobs j JOIN assets a ON a.id = j.asset_id
            WHERE j.parent_job_id IS NULL AND j.status IN ('completed', 'incomplete')
              AND j.finished_at IS NOT NULL
              AND ($1::text IS NULL OR j.problem_code = $1)
        )
        SELECT fv.*,
               EXISTS (SELECT 1 FROM jobs c WHERE c.parent_job_id = fv.id) AS needed_second_visit,
               coalesce(
                   (SELECT json_agg(json_build_object('part_id', ep.part_id, 'quantity', ep.quantity,
                                                      'follow_up', e.job_id <> fv.id))
                    FROM jobs jj
                    JOIN asset_events e ON e.job_id = jj.id
                    JOIN asset_event_parts ep ON ep.asset_event_id = e.id
                    WHERE jj.id = fv.id OR jj.parent_job_id = fv.id),
                   '[]') AS parts
        FROM first_visits fv
        ORDER BY fv.finished_at, fv.id
        """,
        problem_code,
    )
    result: list[Visit] = []
    for r in rows:
        used = json.loads(r["parts"]) if isinstance(r["parts"], str) else r["parts"]
        merged: dict[UUID, int] = {}
        second: set[str] = set()
        for item in used:
            pid = UUID(item["part_id"])
            merged[pid] = merged.get(pid, 0) + int(item["quantity"])
            if item["follow_up"]:
                second.add(parts[pid].family)
        result.append(
            Visit(
                job_id=r["id"],
                asset_id=r["asset_id"],
                make=r["make"],
                model=r["model"],
                problem_code=r["problem_code"],
                choice=r["customer_choice"],
                finished_at=r["finished_at"],
                parts=[(parts[pid], q) for pid, q in merged.items()],
                needed_second_visit=r["needed_second_visit"],
                second_visit_families=frozenset(second),
            )
        )
    return result


async def own_uses(conn: Connection, asset_id: UUID) -> list[OwnUse]:
    """Every part fitted to the asset, from its history (with or without a job), oldest first."""
    rows = await conn.fetch(
        f"""
        SELECT e.occurred_at, ep.quantity, {_PART}
        FROM asset_events e
        JOIN asset_event_parts ep ON ep.asset_event_id = e.id
        JOIN parts p ON p.id = ep.part_id
        WHERE e.asset_id = $1
        ORDER BY e.occurred_at, p.sku
        """,
        asset_id,
    )
    return [OwnUse(part=_part(r), quantity=r["quantity"], occurred_at=r["occurred_at"]) for r in rows]
