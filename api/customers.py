from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets import customers
from assets.models import Customer, CustomerId, Email, ExternalId, Name, Phone
from dispatch.access import scope

Notes = Annotated[str, msgspec.Meta(max_length=4000)]


class CustomerCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    notes: Notes = ""
    external_id: ExternalId | None = None


class CustomerUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    notes: Notes | msgspec.UnsetType = msgspec.UNSET


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]
    guards = [STAFF]

    @post()
    async def create_customer(self, conn: Db, data: JSONBody[CustomerCreate]) -> Customer:
        return await customers.create_customer(
            conn,
            name=data.name,
            email=data.email,
            phone=data.phone,
            notes=data.notes,
            external_id=data.external_id,
        )

    @get()
    async def list_customers(
        self,
        conn: Db,
        principal: Caller,
        page: Paging,
        q: Annotated[
            str | None, QueryParameter(max_length=200, description="Part of the name or email.")
        ] = None,
    ) -> Page[Customer]:
        """A dispatcher bound to a territory gets its customers, and those not yet at any site."""
        rows = await customers.find_customers(
            conn,
            search=q,
            territory_id=scope.territory_of(principal),
            limit=page.limit + 1,
            offset=page.offset,
        )
        return page_of(rows, page)

    @get("/{customer_id:uuid}")
    async def get_customer(self, conn: Db, customer_id: FromPath[UUID]) -> Customer:
        return await customers.customer(conn, CustomerId(customer_id))

    @patch("/{customer_id:uuid}")
    async def update_customer(
        self, conn: Db, customer_id: FromPath[UUID], data: JSONBody[CustomerUpdate]
    ) -> Customer:
        return await customers.change_customer(conn, CustomerId(customer_id), changes_of(data))


ROUTES = [CustomerController]
