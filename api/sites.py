"""Sites (addresses where assets stand) and who lives there."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from api.scope import refuse_move
from assets import history, installed, sites
from assets.models import (
    Asset,
    AssetEvent,
    AwareDatetime,
    CustomerId,
    ExternalId,
    Latitude,
    Longitude,
    Occupancy,
    Site,
    SiteId,
)
from dispatch.access import scope
from dispatch.access.scope import Record

AddressLine = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=r"\S")]
City = Annotated[str, msgspec.Meta(max_length=200)]
PostalCode = Annotated[str, msgspec.Meta(max_length=20)]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
AccessNotes = Annotated[str, msgspec.Meta(max_length=2000, description="Gate codes, dogs, where to park.")]


class SiteCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    address_line: AddressLine
    city: City = ""
    postal_code: PostalCode = ""
    country: Country = "US"
    latitude: Latitude
    longitude: Longitude
    access_notes: AccessNotes = ""
    territory_id: UUID | None = None
    external_id: ExternalId | None = None


class SiteUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    address_line: AddressLine | msgspec.UnsetType = msgspec.UNSET
    city: City | msgspec.UnsetType = msgspec.UNSET
    postal_code: PostalCode | msgspec.UnsetType = msgspec.UNSET
    country: Country | msgspec.UnsetType = msgspec.UNSET
    latitude: Latitude | msgspec.UnsetType = msgspec.UNSET
    longitude: Longitude | msgspec.UnsetType = msgspec.UNSET
    access_notes: AccessNotes | msgspec.UnsetType = msgspec.UNSET
    territory_id: UUID | msgspec.UnsetType | None = msgspec.UNSET
    external_id: ExternalId | msgspec.UnsetType | None = msgspec.UNSET


class MoveIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    customer_id: UUID
    started_at: AwareDatetime


class SiteController(Controller):
    path = "/sites"
    tags = ["sites"]
    guards = [STAFF]

    @post()
    async def create_site(self, conn: Db, principal: Caller, data: JSONBody[SiteCreate]) -> Site:
        """A dispatcher bound to a territory creates sites in it (theirs when none is named)."""
        return await sites.create_site(
            conn,
            external_id=data.external_id,
            territory_id=scope.placing(principal, data.territory_id),
            address_line=data.address_line,
            city=data.city,
            postal_code=data.postal_code,
            country=data.country,
            latitude=data.latitude,
            longitude=data.longitude,
            access_notes=data.access_notes,
        )

    @get()
    async def list_sites(
        self,
        conn: Db,
        principal: Caller,
        page: Paging,
        territory_id: Annotated[
            UUID | None, QueryParameter(description="Only this territory's sites.")
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                max_length=200, description="Part of the address; 'oak st' finds '12 Oak Street'."
            ),
        ] = None,
    ) -> Page[Site]:
        rows = await sites.search_sites(
            conn,
            territory_id=scope.list_filter(principal, territory_id),
            address=q,
            limit=page.limit + 1,
            offset=page.offset,
        )
        return page_of(rows, page)

    @get("/{site_id:uuid}")
    async def get_site(self, conn: Db, site_id: FromPath[UUID]) -> Site:
        """The site with its current occupant."""
        return await sites.get_site(conn, SiteId(site_id))

    @patch("/{site_id:uuid}")
    async def update_site(
        self, conn: Db, principal: Caller, site_id: FromPath[UUID], data: JSONBody[SiteUpdate]
    ) -> Site:
        """Moving a site to another territory (its jobs, assets and history go with it) is an
        admin's act: 403 for a dispatcher."""
        changes = changes_of(data)
        if "territory_id" in changes:
            site = await sites.get_site(conn, SiteId(site_id))
            wanted = data.territory_id if isinstance(data.territory_id, UUID) else None
            if scope.moves_territory(principal, site.territory_id, wanted):
                raise refuse_move("a site")
        return await sites.update_site(conn, SiteId(site_id), changes)

    @post("/{site_id:uuid}/occupancies")
    async def move_in(
        self, conn: Db, principal: Caller, site_id: FromPath[UUID], data: JSONBody[MoveIn]
    ) -> Occupancy:
        """A new customer moves in: the previous occupancy ends at started_at; the site, its assets
        and their history stay."""
        await scope.require_reference(conn, principal, Record.CUSTOMER, data.customer_id, field="customer_id")
        return await sites.move_in(conn, SiteId(site_id), CustomerId(data.customer_id), data.started_at)

    @get("/{site_id:uuid}/occupancies")
    async def list_occupancies(self, conn: Db, site_id: FromPath[UUID], page: Paging) -> Page[Occupancy]:
        """Who lived here, newest first."""
        rows = await sites.list_occupancies(conn, SiteId(site_id), limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)

    @get("/{site_id:uuid}/assets")
    async def list_site_assets(self, conn: Db, site_id: FromPath[UUID], page: Paging) -> Page[Asset]:
        rows = await installed.site_assets(conn, SiteId(site_id), limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)

    @get("/{site_id:uuid}/history")
    async def list_site_history(self, conn: Db, site_id: FromPath[UUID], page: Paging) -> Page[AssetEvent]:
        """Service history of every asset at the site, newest first; it names no occupant."""
        rows = await history.site_history(conn, SiteId(site_id), limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)


ROUTES = [SiteController]
