"""SQL for an asset's attributes through time: their history, what fitted parts imply, and
disagreements between the record and what a visit fitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from assets.models import (
    AssetEventId,
    AssetId,
    AttributeChange,
    AttributeDisagreement,
    AttributeSource,
    AttributeValue,
    PartId,
)
from assets.parts_prediction import Fitting
from assets.prediction_queries import part_refs
from infra.db import Connection

Attributes = dict[str, AttributeValue]

# The record of each (asset, moment) as it stood just before the moment: the latest change of
# each key before it, or, for an asset that never changed, its attributes once it was installed
# (or, not knowing when, written). $1 asset ids, $2 moments, in pairs.
_RECORD_BEFORE = """
    moments AS (
        SELECT m.n, m.asset_id, m.at
        FROM unnest($1::uuid[], $2::timestamptz[]) WITH ORDINALITY AS m(asset_id, at, n)
    ),
    record_before AS (
        SELECT m.n, m.asset_id,
               CASE
                   WHEN EXISTS (SELECT 1 FROM asset_attribute_changes c WHERE c.asset_id = m.asset_id)
                   THEN coalesce((
                       SELECT jsonb_object_agg(latest.key, latest.value)
                       FROM (
                           SELECT DISTINCT ON (c.key) c.key, c.value
                           FROM asset_attribute_changes c
                           WHERE c.asset_id = m.asset_id AND c.valid_from < m.at
                           ORDER BY c.key, c.valid_from DESC, c.id DESC
                       ) latest
                       WHERE latest.value IS NOT NULL
                   ), '{}')
                   WHEN coalesce(a.installed_at, a.created_at) < m.at THEN a.attributes
                   ELSE '{}'
               END AS attributes
        FROM moments m JOIN assets a ON a.id = m.asset_id
    )
"""


async def attributes_before(conn: Connection, moments: Sequence[tuple[UUID, datetime]]) -> list[Attributes]:
    """Each asset's attributes as they stood just before each moment, in the order asked; one
    query for any number of (asset, moment) pairs. An unknown asset gets {}."""
    rows = await conn.fetch(
        f"""
        WITH {_RECORD_BEFORE}
        SELECT m.n, r.attributes
        FROM moments m LEFT JOIN record_before r ON r.n = m.n
        ORDER BY m.n
        """,
        [a for a, _ in moments],
        [t for _, t in moments],
    )
    return [r["attributes"] or {} for r in rows]


async def fittings_before(conn: Connection, moments: Sequence[tuple[UUID, datetime]]) -> list[list[Fitting]]:
    """The fitment rules' parts for each (asset, moment), from the record as it stood just before
    the moment, in the order asked. Each distinct record is matched against the rules once."""
    records = await attributes_before(conn, moments)
    versions: dict[tuple[UUID, tuple[tuple[str, AttributeValue], ...]], int] = {}
    for (asset_id, _), attributes in zip(moments, records, strict=True):
        versions.setdefault((asset_id, tuple(sorted(attributes.items()))), len(versions))
    rows = await conn.fetch(
        """
        SELECT v.n, f.part_id, f.quantity, f.conditions
        FROM unnest($1::uuid[], $2::jsonb[]) WITH ORDINALITY AS v(asset_id, attributes, n)
        JOIN assets a ON a.id = v.asset_id
        JOIN fitments f ON f.asset_kind = a.kind
                       AND fitment_names(f.make, f.model, a.make, a.model)
                       AND fitment_holds(v.attributes, f.conditions)
        JOIN parts p ON p.id = f.part_id
        ORDER BY v.n, p.sku
        """,
        [asset_id for asset_id, _ in versions],
        [dict(items) for _, items in versions],
    )
    parts = await part_refs(conn)
    by_version: dict[int, list[Fitting]] = {}
    for r in rows:
        rule = ", ".join(f"{k} = {v}" for k, v in sorted(r["conditions"].items()))
        fitting = Fitting(part=parts[r["part_id"]], quantity=r["quantity"], rule=rule)
        by_version.setdefault(r["n"] - 1, []).append(fitting)
    return [
        by_version.get(versions[(asset_id, tuple(sorted(attributes.items())))], [])
        for (asset_id, _), attributes in zip(moments, records, strict=True)
    ]


async def has_history(conn: Connection, asset_id: AssetId) -> bool:
    found: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM asset_attribute_changes WHERE asset_id = $1)", asset_id
    )
    return found


async def insert_changes(
    conn: Connection,
    asset_id: AssetId,
    values: Sequence[tuple[str, AttributeValue | None]],
    *,
    valid_from: datetime,
    source: AttributeSource,
    job_id: UUID | None = None,
    asset_event_id: AssetEventId | None = None,
) -> None:
    """One row per key; a None value records that the key was removed."""
    if not values:
        return
    await conn.execute(
        """
        INSERT INTO asset_attribute_changes (asset_id, key, value, valid_from, source, job_id, asset_event_id)
        SELECT $1, v.key, v.value, $4, $5, $6, $7
        FROM unnest($2::text[], $3::jsonb[]) AS v(key, value)
        """,
        asset_id,
        [k for k, _ in values],
        [v for _, v in values],
        valid_from,
        source.value,
        job_id,
        asset_event_id,
    )


async def keys_changed_after(conn: Connection, asset_id: AssetId, at: datetime) -> set[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT key FROM asset_attribute_changes WHERE asset_id = $1 AND valid_from > $2",
        asset_id,
        at,
    )
    return {r["key"] for r in rows}


async def merge_attributes(conn: Connection, asset_id: AssetId, values: dict[str, AttributeValue]) -> None:
    """Set these keys of the record as it stands now, leaving the others."""
    await conn.execute(
        "UPDATE assets SET attributes = attributes || $2::jsonb, updated_at = now() WHERE id = $1",
        asset_id,
        values,
    )


@dataclass(frozen=True)
class Implied:
    """A value a fitted part says the asset has."""

    key: str
    value: AttributeValue
    part_id: PartId
    sku: str
    quantity: int


async def implied_attributes(
    conn: Connection, asset_id: AssetId, fitted: Mapping[UUID, int]
) -> list[Implied]:
    """What the fitted parts (part -> quantity) say about this asset, from two kinds of data:

    - fitment rules for the asset's kind (and make, model): each equal-value condition of a rule
      giving the part is implied; when rules for the fitted quantity exist, only those count
      (2 × SPR-218 is a two-spring door); a key the counted rules give different values is not
      implied, and a range ("141..180") implies nothing;
    - the part's own attributes named `implies_<key>` (a windshield's `implies_glass_number`),
      which win over the rules.
    """
    rows = await conn.fetch(
        """
        WITH fitted AS (
            SELECT * FROM unnest($2::uuid[], $3::int[]) AS u(part_id, quantity)
        ),
        rules AS (
            SELECT fd.part_id, fd.quantity AS fitted, f.quantity, f.conditions
            FROM fitted fd
            JOIN fitments f ON f.part_id = fd.part_id
            JOIN assets a ON a.id = $1 AND f.asset_kind = a.kind
                         AND fitment_names(f.make, f.model, a.make, a.model)
        ),
        counted AS (
            SELECT r.* FROM rules r
            WHERE r.quantity = r.fitted
               OR NOT EXISTS (SELECT 1 FROM rules o WHERE o.part_id = r.part_id AND o.quantity = o.fitted)
        ),
        from_rules AS (
            SELECT c.part_id, c.fitted AS quantity, e.key, (array_agg(e.value))[1] AS value
            FROM counted c, jsonb_each(c.conditions) AS e(key, value)
            WHERE NOT fitment_condition_is_range(e.value)
            GROUP BY c.part_id, c.fitted, e.key
            HAVING count(DISTINCT e.value) = 1
        ),
        from_part AS (
            SELECT fd.part_id, fd.quantity, substr(e.key, length('implies_') + 1) AS key, e.value
            FROM fitted fd JOIN parts p ON p.id = fd.part_id, jsonb_each(p.attributes) AS e(key, value)
            WHERE e.key LIKE 'implies\\_%' AND length(e.key) > length('implies_')
        )
        SELECT i.key, i.value, i.part_id, p.sku, i.quantity
        FROM (
            SELECT * FROM from_part
            UNION ALL
            SELECT r.* FROM from_rules r
            WHERE NOT EXISTS (SELECT 1 FROM from_part x WHERE x.part_id = r.part_id AND x.key = r.key)
        ) i
        JOIN parts p ON p.id = i.part_id
        ORDER BY i.key, p.sku
        """,
        asset_id,
        list(fitted),
        list(fitted.values()),
    )
    return [
        Implied(key=r["key"], value=r["value"], part_id=r["part_id"], sku=r["sku"], quantity=r["quantity"])
        for r in rows
    ]


async def insert_disagreement(
    conn: Connection,
    asset_id: AssetId,
    implied: Implied,
    recorded_value: AttributeValue,
    *,
    job_id: UUID | None,
    asset_event_id: AssetEventId,
    occurred_at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO asset_attribute_disagreements
            (asset_id, key, recorded_value, fitted_value, part_id, quantity, job_id, asset_event_id,
             occurred_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        asset_id,
        implied.key,
        recorded_value,
        implied.value,
        implied.part_id,
        implied.quantity,
        job_id,
        asset_event_id,
        occurred_at,
    )


async def list_changes(conn: Connection, asset_id: AssetId) -> list[AttributeChange]:
    rows = await conn.fetch(
        """
        SELECT key, value, valid_from, source, job_id, asset_event_id, recorded_at
        FROM asset_attribute_changes WHERE asset_id = $1
        ORDER BY valid_from DESC, id DESC
        """,
        asset_id,
    )
    return [AttributeChange(**dict(r) | {"source": AttributeSource(r["source"])}) for r in rows]


async def list_disagreements(conn: Connection, asset_id: AssetId) -> list[AttributeDisagreement]:
    rows = await conn.fetch(
        """
        SELECT d.key, d.recorded_value, d.fitted_value, d.part_id, p.sku, d.quantity, d.job_id,
               d.asset_event_id, d.occurred_at
        FROM asset_attribute_disagreements d JOIN parts p ON p.id = d.part_id
        WHERE d.asset_id = $1 AND d.resolved_at IS NULL
        ORDER BY d.occurred_at DESC, d.id DESC
        """,
        asset_id,
    )
    return [AttributeDisagreement(**dict(r)) for r in rows]
