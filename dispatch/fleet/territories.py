"""Territories: the regions a company dispatches in, each with its time zone and travel figures;
and the skill catalogue jobs and technicians share."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatch.errors import TerritoryNotFoundError
from dispatch.fleet import territory_queries
from dispatch.fleet.territory_queries import (  # other packages reach territory_queries through here
    territory_timezone as territory_timezone,
)
from dispatch.models import Skill, Territory
from infra.db import Connection
from infra.errors import ConflictError, InvalidError


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidError(f"timezone: {name!r} is not an IANA time zone", field="timezone") from None


async def check_name(conn: Connection, name: str, other_than: UUID | None = None) -> None:
    if await territory_queries.name_taken(conn, name, other_than=other_than):
        raise ConflictError(f"name: a territory named {name!r} exists", field="name")


async def create_territory(conn: Connection, values: dict[str, object]) -> Territory:
    check_timezone(str(values["timezone"]))
    await check_name(conn, str(values["name"]))
    return await territory_queries.insert_territory(conn, values)


async def find_territories(
    conn: Connection, *, only: UUID | None, limit: int, offset: int
) -> list[Territory]:
    """`only`: that territory alone (a dispatcher bound to it sees no other)."""
    return await territory_queries.list_territories(conn, only=only, limit=limit, offset=offset)


async def territory(conn: Connection, territory_id: UUID) -> Territory:
    found = await territory_queries.get_territory(conn, territory_id)
    if found is None:
        raise TerritoryNotFoundError
    return found


async def change_territory(conn: Connection, territory_id: UUID, changes: dict[str, object]) -> Territory:
    timezone, name = changes.get("timezone"), changes.get("name")
    if isinstance(timezone, str):
        check_timezone(timezone)
    if isinstance(name, str):
        await check_name(conn, name, territory_id)
    changed = await territory_queries.update_territory(conn, territory_id, changes)
    if changed is None:
        raise TerritoryNotFoundError
    return changed


async def skills(conn: Connection) -> list[Skill]:
    return await territory_queries.list_skills(conn)


async def timezone_of(conn: Connection, territory_id: UUID) -> str | None:
    """The territory's IANA time zone; None when there is no such territory."""
    return await territory_queries.territory_timezone(conn, territory_id)
