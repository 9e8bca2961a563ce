"""Stock: what each van and depot holds, counted and adjusted, and where a part can be found.
Stock never goes below zero."""

from __future__ import annotations

from uuid import UUID

from assets.errors import PartNotFoundError
from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.errors import DepotNotFoundError, VanShort
from dispatch.fleet import stock_queries, technician_queries, technicians
from dispatch.fleet.stock_queries import (  # other packages reach stock_queries through here
    levels as levels,
    quantity_for_update as quantity_for_update,
    set_quantity as set_quantity,
    van_of as van_of,
)
from dispatch.models import Holding, StockLevel, StockLocation, StockLocationKind
from infra.db import Connection
from infra.errors import InvalidError, NotFoundError


async def _sku(conn: Connection, part_id: UUID, *, field: str | None = None) -> str:
    """The part's SKU; an unknown part is 404, or 400 naming `field` when it came in the body."""
    sku = await stock_queries.part_sku(conn, part_id)
    if sku is None:
        if field:
            raise InvalidError(f"{field}: no part with this id", field=field)
        raise PartNotFoundError
    return sku


async def location(conn: Connection, location_id: UUID) -> StockLocation:
    found = await stock_queries.get_location(conn, location_id)
    if found is None:
        raise NotFoundError("no stock location with this id")
    return found


async def van_stock(conn: Connection, principal: Principal, technician_id: UUID) -> list[StockLevel]:
    """What is on the technician's van; a technician reads only their own."""
    await technicians.visible_technician(conn, principal, technician_id)
    van = await stock_queries.van_of(conn, technician_id)
    return [] if van is None else await stock_queries.levels(conn, van.id)


async def count_van_part(
    conn: Connection, principal: Principal, technician_id: UUID, part_id: UUID, quantity: int
) -> list[StockLevel]:
    await technicians.visible_technician(conn, principal, technician_id)
    await _sku(conn, part_id)
    van = await stock_queries.van_of(conn, technician_id)
    if van is None:  # technicians created before vans existed
        await technician_queries.insert_van(conn, technician_id, "technician")
        van = await stock_queries.van_of(conn, technician_id)
        assert van is not None
    await stock_queries.set_quantity(conn, van.id, part_id, quantity)
    return await stock_queries.levels(conn, van.id)


async def location_stock(conn: Connection, location_id: UUID) -> list[StockLevel]:
    await location(conn, location_id)
    return await stock_queries.levels(conn, location_id)


async def count_part(conn: Connection, location_id: UUID, part_id: UUID, quantity: int) -> list[StockLevel]:
    await location(conn, location_id)
    await _sku(conn, part_id)
    await stock_queries.set_quantity(conn, location_id, part_id, quantity)
    return await stock_queries.levels(conn, location_id)


async def adjust(conn: Connection, location_id: UUID, part_id: UUID, delta: int) -> list[StockLevel]:
    """Parts in (positive) or out (negative); taking more than is there is refused."""
    await location(conn, location_id)
    sku = await _sku(conn, part_id, field="part_id")
    held = await stock_queries.quantity_for_update(conn, location_id, part_id)
    if held + delta < 0:
        raise VanShort(f"delta: only {held} × {sku} here, cannot take {-delta}", field="delta")
    await stock_queries.set_quantity(conn, location_id, part_id, held + delta)
    return await stock_queries.levels(conn, location_id)


async def create_depot(
    conn: Connection,
    principal: Principal,
    *,
    name: str,
    territory_id: UUID,
    latitude: float,
    longitude: float,
) -> StockLocation:
    scope.placing(principal, territory_id)
    if not await technician_queries.territory_exists(conn, territory_id):
        raise InvalidError("territory_id: no territory with this id", field="territory_id")
    return await stock_queries.insert_depot(
        conn, name=name, territory_id=territory_id, latitude=latitude, longitude=longitude
    )


async def find_depots(
    conn: Connection, principal: Principal, territory_id: UUID | None, *, limit: int, offset: int
) -> list[StockLocation]:
    return await stock_queries.list_depots(
        conn, scope.list_filter(principal, territory_id), limit=limit, offset=offset
    )


async def depot(conn: Connection, depot_id: UUID) -> StockLocation:
    found = await stock_queries.get_location(conn, depot_id)
    if found is None or found.kind is not StockLocationKind.DEPOT:
        raise DepotNotFoundError
    return found


async def change_depot(conn: Connection, depot_id: UUID, changes: dict[str, object]) -> StockLocation:
    changed = await stock_queries.update_depot(conn, depot_id, changes)
    if changed is None or changed.kind is not StockLocationKind.DEPOT:
        raise DepotNotFoundError
    return changed


async def availability(
    conn: Connection, principal: Principal, part_id: UUID, territory_id: UUID | None
) -> list[Holding]:
    """Vans and depots that hold the part (depots first), in one territory when asked (for a
    dispatcher bound to one, always theirs)."""
    await _sku(conn, part_id)
    return await stock_queries.holdings(conn, part_id, scope.list_filter(principal, territory_id))
