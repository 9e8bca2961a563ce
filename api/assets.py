"""Installed assets, their service history, and the parts that fit them."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets import attribute_history, catalog, history, installed
from assets.models import (
    Asset,
    AssetEvent,
    AssetEventKind,
    AssetId,
    AssetRecord,
    AttributeHistory,
    AwareDatetime,
    Code,
    ExternalId,
    FittingPart,
    PartId,
    PartQuantity,
    RawAttributes,
    SiteId,
)
from dispatch.access import scope
from dispatch.access.scope import Record

Make = Annotated[str, msgspec.Meta(max_length=100)]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Summary = Annotated[str, msgspec.Meta(max_length=2000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=100)]


class AssetCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site_id: UUID
    kind: Code
    make: Make = ""
    model: Make = ""
    serial: Serial | None = None
    installed_at: AwareDatetime | None = None
    warranty_until: date | None = None
    attributes: RawAttributes = {}
    external_id: ExternalId | None = None


class AssetUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Code | msgspec.UnsetType = msgspec.UNSET
    make: Make | msgspec.UnsetType = msgspec.UNSET
    model: Make | msgspec.UnsetType = msgspec.UNSET
    serial: Serial | msgspec.UnsetType | None = msgspec.UNSET
    installed_at: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET
    warranty_until: date | msgspec.UnsetType | None = msgspec.UNSET
    attributes: RawAttributes | msgspec.UnsetType = msgspec.UNSET
    removed_at: AwareDatetime | msgspec.UnsetType | None = msgspec.UNSET
    external_id: ExternalId | msgspec.UnsetType | None = msgspec.UNSET


class PartUsedIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    part_id: UUID
    quantity: Quantity


class AssetEventCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: AssetEventKind
    occurred_at: AwareDatetime
    summary: Summary = ""
    problem_code: Code | None = None
    technician_id: UUID | None = None
    job_id: UUID | None = None
    parts: Annotated[list[PartUsedIn], msgspec.Meta(max_length=50)] = []
    external_id: ExternalId | None = None


class AssetController(Controller):
    path = "/assets"
    tags = ["assets"]
    guards = [STAFF]

    @post()
    async def create_asset(self, conn: Db, principal: Caller, data: JSONBody[AssetCreate]) -> Asset:
        await scope.require_reference(conn, principal, Record.SITE, data.site_id, field="site_id")
        return await installed.create_asset(
            conn,
            external_id=data.external_id,
            site_id=SiteId(data.site_id),
            kind=data.kind,
            make=data.make,
            model=data.model,
            serial=data.serial,
            installed_at=data.installed_at,
            warranty_until=data.warranty_until,
            attributes=data.attributes,
        )

    @get()
    async def list_assets(
        self,
        conn: Db,
        principal: Caller,
        page: Paging,
        territory_id: Annotated[
            UUID | None, QueryParameter(description="Only this territory's assets.")
        ] = None,
        site_id: Annotated[UUID | None, QueryParameter(description="Only this site's assets.")] = None,
        kind: Annotated[
            str | None, QueryParameter(max_length=64, description="An asset kind's code.")
        ] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                min_length=1, max_length=200, description="Part of the make, model, serial or external id."
            ),
        ] = None,
        removed: Annotated[bool, QueryParameter(description="Include assets taken out.")] = False,
    ) -> Page[Asset]:
        """Assets across sites, e.g. every opener of a recalled model; a dispatcher bound to a
        territory sees its assets only."""
        rows = await installed.find_assets(
            conn,
            territory_id=scope.list_filter(principal, territory_id),
            site_id=site_id,
            kind=kind,
            text=q,
            removed=removed,
            limit=page.limit + 1,
            offset=page.offset,
        )
        return page_of(rows, page)

    @get("/{asset_id:uuid}")
    async def get_asset(self, conn: Db, asset_id: FromPath[UUID]) -> AssetRecord:
        """With `disagreements`: visits whose fitted parts said the record was wrong."""
        return await attribute_history.asset_record(conn, AssetId(asset_id))

    @patch("/{asset_id:uuid}")
    async def update_asset(self, conn: Db, asset_id: FromPath[UUID], data: JSONBody[AssetUpdate]) -> Asset:
        """`attributes`, when sent, replaces the whole object; the change enters the attribute history."""
        return await attribute_history.update_asset(conn, AssetId(asset_id), changes_of(data))

    @post("/{asset_id:uuid}/events")
    async def record_asset_event(
        self, conn: Db, principal: Caller, asset_id: FromPath[UUID], data: JSONBody[AssetEventCreate]
    ) -> AssetEvent:
        """Add to the asset's service history, with the parts used; what they imply about the asset
        (a spring's wire size) is set on its record, and a record that said otherwise is flagged."""
        await scope.require_reference(conn, principal, Record.JOB, data.job_id, field="job_id")
        await scope.require_reference(
            conn, principal, Record.TECHNICIAN, data.technician_id, field="technician_id"
        )
        event = await history.record_event(
            conn,
            AssetId(asset_id),
            kind=data.kind,
            occurred_at=data.occurred_at,
            summary=data.summary,
            problem_code=data.problem_code,
            technician_id=data.technician_id,
            job_id=data.job_id,
            external_id=data.external_id,
            parts=[PartQuantity(part_id=PartId(p.part_id), quantity=p.quantity) for p in data.parts],
        )
        await attribute_history.learn_from_event(conn, event)
        return event

    @get("/{asset_id:uuid}/history")
    async def list_asset_history(self, conn: Db, asset_id: FromPath[UUID], page: Paging) -> Page[AssetEvent]:
        """Newest first, each event with its parts; it names no occupant."""
        rows = await history.asset_history(conn, AssetId(asset_id), limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)

    @get("/{asset_id:uuid}/attribute-history")
    async def get_attribute_history(self, conn: Db, asset_id: FromPath[UUID]) -> AttributeHistory:
        """Every change of the asset's attributes, newest first, with its source (import, intake, visit
        with its job and event, manual), and the open disagreements."""
        return await attribute_history.attribute_history(conn, AssetId(asset_id))

    @get("/{asset_id:uuid}/fitting-parts")
    async def list_fitting_parts(self, conn: Db, asset_id: FromPath[UUID]) -> list[FittingPart]:
        """Parts whose fitments match this asset's kind, make, model and attributes, and how many it takes."""
        return await catalog.fitting_parts(conn, AssetId(asset_id))


ROUTES = [AssetController]
