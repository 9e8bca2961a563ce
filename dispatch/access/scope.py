"""A dispatcher bound to one territory sees and changes that territory's records only.

Another territory's record answers exactly as one that does not exist (404 in a path, 422 when a
body names it), lists hold only the territory's records, and a record is never created in, or
moved to, another territory by such a dispatcher: placing a record in a territory other than
the one it is in is an admin's act, for every dispatcher.

What has a territory: sites (and through them jobs, assets and their history), technicians (and
their shifts and vans), depots, day plans, and customers through their sites and jobs. The
catalogue (parts, fitments, problems, skills) is the company's, and shared.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from uuid import UUID

from assets.errors import AssetNotFoundError, CustomerNotFoundError, SiteNotFoundError
from dispatch.access import scope_queries
from dispatch.access.accounts import Principal, Role
from dispatch.errors import (
    DepotNotFoundError,
    JobNotFoundError,
    ShiftNotFoundError,
    TechnicianNotFoundError,
    TerritoryNotFoundError,
)
from infra.db import Connection
from infra.errors import InvalidError, NotFoundError


class Record(enum.StrEnum):
    SITE = "site"
    JOB = "job"
    ASSET = "asset"
    TECHNICIAN = "technician"
    SHIFT = "shift"
    CUSTOMER = "customer"
    STOCK_LOCATION = "stock location"
    DEPOT = "depot"
    TERRITORY = "territory"
    PLAN = "plan"


def territory_of(principal: Principal) -> UUID | None:
    """The territory a dispatcher is bound to; None for whoever sees every territory (an admin,
    a dispatcher bound to none). Technicians are held to their own records elsewhere."""
    return principal.territory_id if principal.role is Role.DISPATCHER else None


def list_filter(principal: Principal, asked: UUID | None, *, field: str = "territory_id") -> UUID | None:
    """The territory a list is narrowed to: the one asked for, and a bound dispatcher's own
    whether asked or not (asking for another's is refused, naming the field)."""
    own = territory_of(principal)
    if own is not None and asked is not None and asked != own:
        raise InvalidError(f"{field}: you dispatch another territory", field=field)
    return own or asked


def placing(principal: Principal, wanted: UUID | None, *, field: str = "territory_id") -> UUID | None:
    """The territory a new record goes into: a bound dispatcher's own when none is named, and
    never another's."""
    return list_filter(principal, wanted, field=field)


def moves_territory(principal: Principal, current: UUID | None, wanted: UUID | None) -> bool:
    """Whether the change moves a record to another territory, which is an admin's act only.
    Sending the territory it already has is no change."""
    return principal.role is not Role.ADMIN and wanted != current


_IN_TERRITORY: dict[Record, Callable[[Connection, UUID, UUID], Awaitable[bool | None]]] = {
    Record.SITE: scope_queries.site_in_territory,
    Record.JOB: scope_queries.job_in_territory,
    Record.ASSET: scope_queries.asset_in_territory,
    Record.TECHNICIAN: scope_queries.technician_in_territory,
    Record.SHIFT: scope_queries.shift_in_territory,
    Record.CUSTOMER: scope_queries.customer_in,
    Record.STOCK_LOCATION: scope_queries.stock_location_in_territory,
    Record.DEPOT: scope_queries.stock_location_in_territory,
    Record.TERRITORY: scope_queries.territory_is,
    Record.PLAN: scope_queries.plan_in_territory,
}


def not_found(record: Record) -> NotFoundError:
    """What each kind of record answers when it is not there: the same error the handlers raise."""
    match record:
        case Record.SITE:
            return SiteNotFoundError()
        case Record.JOB:
            return JobNotFoundError()
        case Record.ASSET:
            return AssetNotFoundError()
        case Record.TECHNICIAN:
            return TechnicianNotFoundError()
        case Record.SHIFT:
            return ShiftNotFoundError()
        case Record.CUSTOMER:
            return CustomerNotFoundError()
        case Record.STOCK_LOCATION:
            return NotFoundError("no stock location with this id")
        case Record.DEPOT:
            return DepotNotFoundError()
        case Record.TERRITORY:
            return TerritoryNotFoundError()
        case Record.PLAN:
            return NotFoundError("No such plan.")


async def in_territory(conn: Connection, territory_id: UUID, record: Record, record_id: UUID) -> bool | None:
    """Whether the record is in the territory; None when there is no such record at all."""
    return await _IN_TERRITORY[record](conn, record_id, territory_id)


async def require(conn: Connection, principal: Principal, record: Record, record_id: UUID) -> None:
    """A record named in the path: another territory's is 404, as if it did not exist."""
    own = territory_of(principal)
    if own is not None and await in_territory(conn, own, record, record_id) is False:
        raise not_found(record)


async def require_reference(
    conn: Connection, principal: Principal, record: Record, record_id: UUID | None, *, field: str
) -> None:
    """A record named in a body must be in a bound dispatcher's territory: another territory's
    is 422 with the very answer a record that does not exist gets."""
    own = territory_of(principal)
    if own is not None and record_id is not None and not await in_territory(conn, own, record, record_id):
        raise InvalidError(f"{field}: no {record.value} with this id", field=field)


async def technicians_in_scope(conn: Connection, principal: Principal) -> list[UUID] | None:
    """The technicians a bound dispatcher may give work to (their territory's); None for anyone."""
    own = territory_of(principal)
    return None if own is None else await scope_queries.technicians_of(conn, own)
