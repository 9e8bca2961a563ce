"""Stock: what each van and depot holds, counted and adjusted, and where a part can be found."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from api.auth import ANY_USER, STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets.models import Latitude, Longitude, Name
from dispatch.fleet import stock
from dispatch.models import Holding, StockLevel, StockLocation

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


class VanStockController(Controller):
    path = "/technicians/{technician_id:uuid}/stock"
    tags = ["stock"]

    @get(guards=[ANY_USER])
    async def van_stock(self, conn: Db, principal: Caller, technician_id: FromPath[UUID]) -> list[StockLevel]:
        """What is on the technician's van; a technician reads only their own."""
        return await stock.van_stock(conn, principal, technician_id)

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
        return await stock.count_van_part(conn, principal, technician_id, part_id, data.quantity)


class StockLocationController(Controller):
    path = "/stock-locations"
    tags = ["stock"]
    guards = [STAFF]

    @get("/{location_id:uuid}")
    async def get_location(self, conn: Db, location_id: FromPath[UUID]) -> StockLocation:
        return await stock.location(conn, location_id)

    @get("/{location_id:uuid}/stock")
    async def location_stock(self, conn: Db, location_id: FromPath[UUID]) -> list[StockLevel]:
        return await stock.location_stock(conn, location_id)

    @put("/{location_id:uuid}/stock/{part_id:uuid}")
    async def count_part(
        self, conn: Db, location_id: FromPath[UUID], part_id: FromPath[UUID], data: JSONBody[Count]
    ) -> list[StockLevel]:
        """Set the counted quantity of one part at a van or depot."""
        return await stock.count_part(conn, location_id, part_id, data.quantity)

    @post("/{location_id:uuid}/adjustments", status_code=200)
    async def adjust(
        self, conn: Db, location_id: FromPath[UUID], data: JSONBody[Adjustment]
    ) -> list[StockLevel]:
        """Add or take parts. Stock never goes below zero: taking more than is there is 409."""
        return await stock.adjust(conn, location_id, data.part_id, data.delta)


class DepotController(Controller):
    path = "/depots"
    tags = ["stock"]
    guards = [STAFF]

    @post()
    async def create_depot(self, conn: Db, principal: Caller, data: JSONBody[DepotCreate]) -> StockLocation:
        return await stock.create_depot(
            conn,
            principal,
            name=data.name,
            territory_id=data.territory_id,
            latitude=data.latitude,
            longitude=data.longitude,
        )

    @get()
    async def list_depots(
        self, conn: Db, principal: Caller, page: Paging, territory_id: FromQuery[UUID | None] = None
    ) -> Page[StockLocation]:
        rows = await stock.find_depots(
            conn, principal, territory_id, limit=page.limit + 1, offset=page.offset
        )
        return page_of(rows, page)

    @get("/{depot_id:uuid}")
    async def get_depot(self, conn: Db, depot_id: FromPath[UUID]) -> StockLocation:
        return await stock.depot(conn, depot_id)

    @patch("/{depot_id:uuid}")
    async def update_depot(
        self, conn: Db, depot_id: FromPath[UUID], data: JSONBody[DepotUpdate]
    ) -> StockLocation:
        return await stock.change_depot(conn, depot_id, changes_of(data))


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
        return await stock.availability(conn, principal, part_id, territory_id)


ROUTES = [VanStockController, StockLocationController, DepotController, AvailabilityController]
