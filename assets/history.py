"""Service history: what was done to an asset, when, with which parts.

History belongs to the asset and its site, never to whoever lived there, so nothing here reads
occupancies or customers.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from assets import asset_queries, part_queries, site_queries
from assets.errors import AssetNotFoundError, SiteNotFoundError
from assets.models import AssetEvent, AssetEventKind, AssetId, PartQuantity, SiteId
from infra.db import Connection
from infra.errors import InvalidError


async def record_event(
    conn: Connection,
    asset_id: AssetId,
    *,
    kind: AssetEventKind,
    occurred_at: datetime,
    summary: str,
    problem_code: str | None,
    technician_id: UUID | None,
    job_id: UUID | None,
    external_id: str | None,
    parts: list[PartQuantity],
) -> AssetEvent:
    if await asset_queries.get_asset(conn, asset_id) is None:
        raise AssetNotFoundError
    catalogue = await part_queries.get_parts(conn, [p.part_id for p in parts])
    seen: set[UUID] = set()
    for i, used in enumerate(parts):
        part = catalogue.get(used.part_id)
        if part is None:
            raise InvalidError(f"parts[{i}].part_id: no part with this id", field=f"parts[{i}].part_id")
        if used.part_id in seen:
            raise InvalidError(
                f"parts[{i}].part_id: this part is already listed; add up its quantity",
                field=f"parts[{i}].part_id",
            )
        seen.add(used.part_id)
        if used.quantity % part.sold_in_multiples_of:
            raise InvalidError(
                f"parts[{i}].quantity: {part.sku} comes in multiples of {part.sold_in_multiples_of}",
                field=f"parts[{i}].quantity",
            )
    event_id = await asset_queries.insert_asset_event(
        conn,
        asset_id=asset_id,
        kind=kind,
        occurred_at=occurred_at,
        summary=summary,
        problem_code=problem_code,
        technician_id=technician_id,
        job_id=job_id,
        external_id=external_id,
        parts=parts,
    )
    event = await asset_queries.get_asset_event(conn, event_id)
    assert event is not None
    return event


async def asset_history(conn: Connection, asset_id: AssetId, *, limit: int, offset: int) -> list[AssetEvent]:
    if await asset_queries.get_asset(conn, asset_id) is None:
        raise AssetNotFoundError
    return await asset_queries.list_asset_history(conn, asset_id, limit=limit, offset=offset)


async def site_history(conn: Connection, site_id: SiteId, *, limit: int, offset: int) -> list[AssetEvent]:
    if not await site_queries.site_exists(conn, site_id):
        raise SiteNotFoundError
    return await asset_queries.list_site_history(conn, site_id, limit=limit, offset=offset)
