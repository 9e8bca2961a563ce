"""Sites and their occupants: the address is what identifies a place, the occupant only visits it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from assets import queries, site_queries
from assets.addresses import address_key, normalize_address
from assets.errors import SiteNotFoundError
from assets.models import CustomerId, Occupancy, Site, SiteId
from infra.db import Connection
from infra.errors import ConflictError, InvalidError

_ADDRESS_FIELDS = ("address_line", "city", "postal_code")


async def create_site(
    conn: Connection,
    *,
    external_id: str | None,
    territory_id: UUID | None,
    address_line: str,
    city: str,
    postal_code: str,
    country: str,
    latitude: float,
    longitude: float,
    access_notes: str,
) -> Site:
    site_id = await site_queries.insert_site(
        conn,
        external_id=external_id,
        territory_id=territory_id,
        address_line=address_line,
        city=city,
        postal_code=postal_code,
        country=country,
        address_key=address_key(address_line, city, postal_code),
        latitude=latitude,
        longitude=longitude,
        access_notes=access_notes,
    )
    return await _site(conn, site_id)


async def update_site(conn: Connection, site_id: SiteId, changes: dict[str, object]) -> Site:
    site = await site_queries.lock_site(conn, site_id)
    if site is None:
        raise SiteNotFoundError
    if any(field in changes for field in _ADDRESS_FIELDS):
        line, city, postal_code = (str(changes.get(f, getattr(site, f))) for f in _ADDRESS_FIELDS)
        changes = {**changes, "address_key": address_key(line, city, postal_code)}
    await site_queries.update_site(conn, site_id, changes)
    return await _site(conn, site_id)


async def move_in(
    conn: Connection, site_id: SiteId, customer_id: CustomerId, started_at: datetime
) -> Occupancy:
    """A new customer moves in: the current occupancy ends when the new one starts; the site and
    its assets stay as they are."""
    if await site_queries.lock_site(conn, site_id) is None:
        raise SiteNotFoundError
    if await queries.get_customer(conn, customer_id) is None:
        raise InvalidError("customer_id: no customer with this id", field="customer_id")
    latest = await site_queries.get_latest_occupancy(conn, site_id)
    if latest is not None and latest.ended_at is None:
        if latest.customer_id == customer_id:
            raise ConflictError("customer_id: this customer already lives here", field="customer_id")
        if started_at <= latest.started_at:
            raise InvalidError(
                f"started_at: must be after the current occupant moved in ({latest.started_at.isoformat()})",
                field="started_at",
            )
        await site_queries.end_occupancy(conn, latest.id, started_at)
    elif latest is not None and latest.ended_at is not None and started_at < latest.ended_at:
        raise InvalidError(
            f"started_at: must not be before the last occupant moved out ({latest.ended_at.isoformat()})",
            field="started_at",
        )
    return await site_queries.insert_occupancy(
        conn, site_id=site_id, customer_id=customer_id, started_at=started_at
    )


async def search_sites(
    conn: Connection, *, territory_id: UUID | None, address: str | None, limit: int, offset: int
) -> list[Site]:
    """`address` is any part of a street line, city or postcode, in any of its spellings."""
    search = normalize_address(address) if address is not None else None
    return await site_queries.list_sites(
        conn, territory_id=territory_id, address_search=search or None, limit=limit, offset=offset
    )


async def get_site(conn: Connection, site_id: SiteId) -> Site:
    site = await site_queries.get_site(conn, site_id)
    if site is None:
        raise SiteNotFoundError
    return site


async def list_occupancies(conn: Connection, site_id: SiteId, *, limit: int, offset: int) -> list[Occupancy]:
    if not await site_queries.site_exists(conn, site_id):
        raise SiteNotFoundError
    return await site_queries.list_occupancies(conn, site_id, limit=limit, offset=offset)


async def _site(conn: Connection, site_id: SiteId) -> Site:
    site = await site_queries.get_site(conn, site_id)
    assert site is not None
    return site
