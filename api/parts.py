"""The parts catalogue (technicians may read it) and fitments (which part fits which asset)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import ANY_USER, STAFF
from api.deps import Db, Page, Paging, changes_of, page_of
from assets import catalog
from assets.models import Code, Fitment, FitmentId, Name, Part, PartId, RawAttributes

Sku = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$")]
CostCents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000)]
Multiple = Annotated[
    int, msgspec.Meta(ge=1, le=100, description="Sold only in multiples of this (springs: 2).")
]
MakeOrModel = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=100)]


class PartCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Sku
    name: Name
    unit_cost_cents: CostCents = 0
    sold_in_multiples_of: Multiple = 1
    attributes: RawAttributes = {}


class PartUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Sku | msgspec.UnsetType = msgspec.UNSET
    name: Name | msgspec.UnsetType = msgspec.UNSET
    unit_cost_cents: CostCents | msgspec.UnsetType = msgspec.UNSET
    sold_in_multiples_of: Multiple | msgspec.UnsetType = msgspec.UNSET
    attributes: RawAttributes | msgspec.UnsetType = msgspec.UNSET


class FitmentCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    asset_kind: Code
    make: MakeOrModel | None = None
    model: MakeOrModel | None = None
    conditions: RawAttributes = {}
    quantity: Quantity = 1


class PartController(Controller):
    path = "/parts"
    tags = ["parts"]

    @post(guards=[STAFF])
    async def create_part(self, conn: Db, data: JSONBody[PartCreate]) -> Part:
        return await catalog.create_part(
            conn,
            sku=data.sku,
            name=data.name,
            unit_cost_cents=data.unit_cost_cents,
            sold_in_multiples_of=data.sold_in_multiples_of,
            attributes=data.attributes,
        )

    @get(guards=[ANY_USER])
    async def list_parts(
        self,
        conn: Db,
        page: Paging,
        q: Annotated[
            str | None, QueryParameter(max_length=200, description="Part of the SKU or name.")
        ] = None,
    ) -> Page[Part]:
        rows = await catalog.find_parts(conn, search=q, limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)

    @get("/{part_id:uuid}", guards=[ANY_USER])
    async def get_part(self, conn: Db, part_id: FromPath[UUID]) -> Part:
        return await catalog.get_part(conn, PartId(part_id))

    @patch("/{part_id:uuid}", guards=[STAFF])
    async def update_part(self, conn: Db, part_id: FromPath[UUID], data: JSONBody[PartUpdate]) -> Part:
        """`attributes`, when sent, replaces the whole object."""
        return await catalog.update_part(conn, PartId(part_id), changes_of(data))

    @post("/{part_id:uuid}/fitments", guards=[STAFF])
    async def add_fitment(self, conn: Db, part_id: FromPath[UUID], data: JSONBody[FitmentCreate]) -> Fitment:
        """The part fits assets of asset_kind (of this make and model, when given) whose attributes
        include every condition."""
        return await catalog.add_fitment(
            conn,
            PartId(part_id),
            asset_kind=data.asset_kind,
            make=data.make,
            model=data.model,
            conditions=data.conditions,
            quantity=data.quantity,
        )

    @get("/{part_id:uuid}/fitments", guards=[STAFF])
    async def list_fitments(self, conn: Db, part_id: FromPath[UUID], page: Paging) -> Page[Fitment]:
        rows = await catalog.list_fitments(conn, PartId(part_id), limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)


class FitmentController(Controller):
    path = "/fitments"
    tags = ["parts"]
    guards = [STAFF]

    @delete("/{fitment_id:uuid}")
    async def delete_fitment(self, conn: Db, fitment_id: FromPath[UUID]) -> None:
        await catalog.delete_fitment(conn, FitmentId(fitment_id))


ROUTES = [PartController, FitmentController]
