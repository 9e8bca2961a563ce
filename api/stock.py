"""Stock: what each van and depot holds, counted and adjusted, and where a part can be found."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ANY_USER, STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets.errors import PartNotFoundError
from assets.models import Latitude, Longitude, Name
from dispatch import scope, stock_queries, technician_queries, technicians
from dispatch.errors import DepotNotFoundError
from dispatch.models import StockLevel, StockLocation, StockLocationKind
from dispatch.stock_queries import Holding
from infra.db import Connection
from infra.errors import ConflictError, InvalidError, NotFoundError

Quantity = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
Delta = Annotated[int, msgspec.Meta(ge=-100_000, le=100_000)]


class DepotCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    territory_id: UUID
    latitude: Latitude
    longitude: Longitude


class DepotUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    latitude: Latitude | msgspec.UnsetType = msgspec.UNSET
    longitude: Longitude | msgspec.UnsetType = msgspec.UNSET


class Count(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A stock count: the quantity on the shelf now."""

    quantity: Quantity


class Adjustment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Parts in (positive) or out (negative)."""

    part_id: UUID
    delta: Delta
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


async def _part(conn: Connection, part_id: UUID, *, field: str | None = None) -> str:
    sku = await stock_queries.part_sku(conn, part_id)
    if sku is None:
        if field:
            raise InvalidError(f"{field}: no part with this id", field=field)
        raise PartNotFoundError
    return sku


async def _location(conn: Connection, location_id: UUID) -> StockLocation:
    location = await stock_queries.get_location(conn, location_id)
    if location is None:
        raise NotFoundError("no stock location with this id")
    return location


class VanStockController(Controller):
    path = "/technicians/{technician_id:uuid}/stock"
    tags = ["stock"]

    @get(guards=[ANY_USER])
    async def van_stock(self, conn: Db, principal: Caller, technician_id: FromPath[UUID]) -> list[StockLevel]:
        """What is on the technician's van; a technician reads only their own."""
        await technicians.visible_technician(conn, principal, technician_id)
        van = await stock_queries.van_of(conn, technician_id)
        return [] if van is None else await stock_queries.levels(conn, van.id)

    @put("/{part_id:uuid}", guards=[STAFF])
    async def count_van_part(
        self,
        conn: Db,
        principal: Caller,
        technician_id: FromPath[UUID],
        part_id: FromPath[UUID],
        data: JSONBody[Count],
    ) -> list[StockLevel]:
        """Set the counted quantity of one part on the van."""
        await technicians.visible_technician(conn, principal, technician_id)
        await _part(conn, part_id)
        van = await stock_queries.van_of(conn, technician_id)
        if van is None:  # technicians created before vans existed
            await technician_queries.insert_van(conn, technician_id, "technician")
            van = await stock_queries.van_of(conn, technician_id)
            assert van is not None
        await stock_queries.set_quantity(conn, van.id, part_id, data.quantity)
        return await stock_queries.levels(conn, van.id)


class StockLocationController(Controller):
    path = "/stock-locations"
    tags = ["stock"]
    guards = [STAFF]

    @get("/{location_id:uuid}")
    async def get_location(self, conn: Db, location_id: FromPath[UUID]) -> StockLocation:
        return await _location(conn, location_id)

    @get("/{location_id:uuid}/stock")
    async def location_stock(self, conn: Db, location_id: FromPath[UUID]) -> list[StockLevel]:
        await _location(conn, location_id)
        return await stock_queries.levels(conn, location_id)

    @put("/{location_id:uuid}/stock/{part_id:uuid}")
    async def count_part(
        self, conn: Db, location_id: FromPath[UUID], part_id: FromPath[UUID], data: JSONBody[Count]
    ) -> list[StockLevel]:
        """Set the counted quantity of one part at a van or depot."""
        await _location(conn, location_id)
        await _part(conn, part_id)
        await stock_queries.set_quantity(conn, location_id, part_id, data.quantity)
        return await stock_queries.levels(conn, location_id)

    @post("/{location_id:uuid}/adjustments", status_code=200)
    async def adjust(
        self, conn: Db, location_id: FromPath[UUID], data: JSONBody[Adjustment]
    ) -> list[StockLevel]:
        """Add or take parts. Stock never goes below zero: taking more than is there is 409."""
        await _location(conn, location_id)
        sku = await _part(conn, data.part_id, field="part_id")
        held = await stock_queries.quantity_for_update(conn, location_id, data.part_id)
        if held + data.delta < 0:
            raise ConflictError(f"delta: only {held} × {sku} here, cannot take {-data.delta}", field="delta")
        await stock_queries.set_quantity(conn, location_id, data.part_id, held + data.delta)
        return await stock_queries.levels(conn, location_id)


class DepotController(Controller):
    path = "/depots"
    tags = ["stock"]
    guards = [STAFF]

    @post()
    async def create_depot(self, conn: Db, principal: Caller, data: JSONBody[DepotCreate]) -> StockLocation:
        scope.placing(principal, data.territory_id)
        if not await technician_queries.territory_exists(conn, data.territory_id):
            raise InvalidError("territory_id: no territory with this id", field="territory_id")
        return await stock_queries.insert_depot(
            conn,
            name=data.name,
            territory_id=data.territory_id,
            latitude=data.latitude,
            longitude=data.longitude,
        )

    @get()
    async def list_depots(
        self, conn: Db, principal: Caller, page: Paging, territory_id: FromQuery[UUID | None] = None
    ) -> Page[StockLocation]:
        rows = await stock_queries.list_depots(
            conn, scope.list_filter(principal, territory_id), limit=page.limit + 1, offset=page.offset
        )
        return page_of(rows, page)

    @get("/{depot_id:uuid}")
    async def get_depot(self, conn: Db, depot_id: FromPath[UUID]) -> StockLocation:
        depot = await stock_queries.get_location(conn, depot_id)
        if depot is None or depot.kind is not StockLocationKind.DEPOT:
            raise DepotNotFoundError
        return depot

    @patch("/{depot_id:uuid}")
    async def update_depot(
        self, conn: Db, depot_id: FromPath[UUID], data: JSONBody[DepotUpdate]
    ) -> StockLocation:
        depot = await stock_queries.update_depot(conn, depot_id, changes_of(data))
        if depot is None or depot.kind is not StockLocationKind.DEPOT:
            raise DepotNotFoundError
        return depot


class AvailabilityController(Controller):
    path = "/parts/{part_id:uuid}/availability"
    tags = ["stock"]
    guards = [STAFF]

    @get()
    async def availability(
        self,
        conn: Db,
        principal: Caller,
        part_id: FromPath[UUID],
        territory_id: FromQuery[UUID | None] = None,
    ) -> list[Holding]:
        """Vans and depots that hold the part (depots first), optionally in one territory (for a
        dispatcher bound to one, always theirs)."""
        await _part(conn, part_id)
        return await stock_queries.holdings(conn, part_id, scope.list_filter(principal, territory_id))


ROUTES = [VanStockController, StockLocationController, DepotController, AvailabilityController]
