"""The parts catalogue and its fitments: which part fits which asset, and how many it takes."""

from __future__ import annotations

from collections.abc import Mapping

from assets import asset_queries, part_queries
from assets.attributes import scalar_attributes
from assets.errors import AssetNotFoundError, FitmentNotFoundError, PartNotFoundError
from assets.installed import require_asset_kind
from assets.models import AssetId, Fitment, FitmentId, FittingPart, Part, PartId
from infra.db import Connection
from infra.errors import ConflictError, InvalidError


async def create_part(
    conn: Connection,
    *,
    sku: str,
    name: str,
    unit_cost_cents: int,
    sold_in_multiples_of: int,
    attributes: Mapping[str, object],
) -> Part:
    return await part_queries.insert_part(
        conn,
        sku=sku,
        name=name,
        unit_cost_cents=unit_cost_cents,
        sold_in_multiples_of=sold_in_multiples_of,
        attributes=scalar_attributes(attributes, field="attributes"),
    )


async def update_part(conn: Connection, part_id: PartId, changes: dict[str, object]) -> Part:
    if "attributes" in changes:
        raw = changes["attributes"]
        assert isinstance(raw, Mapping)
        changes = {**changes, "attributes": scalar_attributes(raw, field="attributes")}
    part = await part_queries.update_part(conn, part_id, changes)
    if part is None:
        raise PartNotFoundError
    return part


async def get_part(conn: Connection, part_id: PartId) -> Part:
    part = await part_queries.get_part(conn, part_id)
    if part is None:
        raise PartNotFoundError
    return part


async def add_fitment(
    conn: Connection,
    part_id: PartId,
    *,
    asset_kind: str,
    make: str | None,
    model: str | None,
    conditions: Mapping[str, object],
    quantity: int,
) -> Fitment:
    part = await get_part(conn, part_id)
    await require_asset_kind(conn, asset_kind, field="asset_kind")
    if model is not None and make is None:
        raise InvalidError("make: a fitment that names a model names its make too", field="make")
    checked_conditions = scalar_attributes(conditions, field="conditions")
    if quantity % part.sold_in_multiples_of:
        raise InvalidError(
            f"quantity: {part.sku} comes in multiples of {part.sold_in_multiples_of}", field="quantity"
        )
    fitment = await part_queries.insert_fitment(
        conn,
        part_id=part_id,
        asset_kind=asset_kind,
        make=make,
        model=model,
        conditions=checked_conditions,
        quantity=quantity,
    )
    if fitment is None:
        raise ConflictError("this part already has a fitment for the same kind, make, model and conditions")
    return fitment


async def find_parts(conn: Connection, *, search: str | None, limit: int, offset: int) -> list[Part]:
    """Parts whose SKU or name contains `search`, or all parts."""
    return await part_queries.list_parts(conn, search=search, limit=limit, offset=offset)


async def list_fitments(conn: Connection, part_id: PartId, *, limit: int, offset: int) -> list[Fitment]:
    await get_part(conn, part_id)
    return await part_queries.list_fitments(conn, part_id, limit=limit, offset=offset)


async def delete_fitment(conn: Connection, fitment_id: FitmentId) -> None:
    if not await part_queries.delete_fitment(conn, fitment_id):
        raise FitmentNotFoundError


async def fitting_parts(conn: Connection, asset_id: AssetId) -> list[FittingPart]:
    if await asset_queries.get_asset(conn, asset_id) is None:
        raise AssetNotFoundError
    return await part_queries.list_fitting_parts(conn, asset_id)
