"""Installed assets: what stands at a site (a door, a windshield, a furnace) and what it is made of."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from uuid import UUID

from assets import asset_queries, site_queries
from assets.attributes import scalar_attributes
from assets.errors import AssetNotFoundError, SiteNotFoundError, UnknownAssetKindError
from assets.models import Asset, AssetId, SiteId
from infra.db import Connection
from infra.errors import InvalidError


async def require_asset_kind(conn: Connection, kind: str, *, field: str) -> None:
    codes = [k.code for k in await asset_queries.list_asset_kinds(conn)]
    if kind not in codes:
        raise UnknownAssetKindError(kind, codes, field=field)


async def create_asset(
    conn: Connection,
    *,
    external_id: str | None,
    site_id: SiteId,
    kind: str,
    make: str,
    model: str,
    serial: str | None,
    installed_at: datetime | None,
    warranty_until: date | None,
    attributes: Mapping[str, object],
) -> Asset:
    await require_asset_kind(conn, kind, field="kind")
    return await asset_queries.insert_asset(
        conn,
        external_id=external_id,
        site_id=site_id,
        kind=kind,
        make=make,
        model=model,
        serial=serial,
        installed_at=installed_at,
        warranty_until=warranty_until,
        attributes=scalar_attributes(attributes, field="attributes"),
    )


async def update_asset(conn: Connection, asset_id: AssetId, changes: dict[str, object]) -> Asset:
    asset = await asset_queries.lock_asset(conn, asset_id)
    if asset is None:
        raise AssetNotFoundError
    if "kind" in changes:
        await require_asset_kind(conn, str(changes["kind"]), field="kind")
    if "attributes" in changes:
        raw = changes["attributes"]
        assert isinstance(raw, Mapping)
        changes = {**changes, "attributes": scalar_attributes(raw, field="attributes")}
    installed_at = changes.get("installed_at", asset.installed_at)
    removed_at = changes.get("removed_at", asset.removed_at)
    if isinstance(installed_at, datetime) and isinstance(removed_at, datetime) and removed_at < installed_at:
        field = "removed_at" if "removed_at" in changes else "installed_at"
        raise InvalidError(f"{field}: an asset is removed after it is installed", field=field)
    updated = await asset_queries.update_asset(conn, asset_id, changes)
    assert updated is not None
    return updated


async def get_asset(conn: Connection, asset_id: AssetId) -> Asset:
    asset = await asset_queries.get_asset(conn, asset_id)
    if asset is None:
        raise AssetNotFoundError
    return asset


async def find_assets(
    conn: Connection,
    *,
    territory_id: UUID | None,
    site_id: UUID | None,
    kind: str | None,
    text: str | None,
    removed: bool,
    limit: int,
    offset: int,
) -> list[Asset]:
    """Assets across sites (a recall of one model, a kind in one territory); `text` is any part
    of the make, model, serial or external id."""
    return await asset_queries.list_assets(
        conn,
        territory_id=territory_id,
        site_id=site_id,
        kind=kind,
        text=text,
        removed=removed,
        limit=limit,
        offset=offset,
    )


async def site_assets(conn: Connection, site_id: SiteId, *, limit: int, offset: int) -> list[Asset]:
    """Everything installed at the site, removed assets last."""
    if not await site_queries.site_exists(conn, site_id):
        raise SiteNotFoundError
    return await asset_queries.list_site_assets(conn, site_id, limit=limit, offset=offset)
