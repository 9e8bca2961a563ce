"""Technicians: who they are, what they can do (skills 1-5), and who may read their record."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from dispatch.access import scope
from dispatch.access.accounts import Principal, Role
from dispatch.errors import TechnicianNotFoundError
from dispatch.fleet import technician_queries
from dispatch.models import Technician
from infra.db import Connection
from infra.errors import ConflictError, InvalidError


async def check_skills(conn: Connection, skills: Mapping[str, int], *, field: str = "skills") -> None:
    unknown = sorted(set(skills) - await technician_queries.known_skills(conn, list(skills)))
    if unknown:
        name = f"{field}.{unknown[0]}"
        raise InvalidError(f"{name}: no skill with this code (see GET /skills)", field=name)


async def check_territory(conn: Connection, territory_id: UUID) -> None:
    if not await technician_queries.territory_exists(conn, territory_id):
        raise InvalidError("territory_id: no territory with this id", field="territory_id")


async def visible_technician(
    conn: Connection, principal: Principal, technician_id: UUID, *, for_update: bool = False
) -> Technician:
    """Staff read anyone; a technician reads only their own record (anyone else's is 404)."""
    if principal.role is Role.TECHNICIAN and principal.technician_id != technician_id:
        raise TechnicianNotFoundError
    technician = await technician_queries.get_technician(conn, technician_id, for_update=for_update)
    if technician is None:
        raise TechnicianNotFoundError
    return technician


async def create_technician(
    conn: Connection, values: dict[str, object], skills: Mapping[str, int]
) -> Technician:
    territory_id = values["territory_id"]
    assert isinstance(territory_id, UUID)
    await check_territory(conn, territory_id)
    await check_skills(conn, skills)
    external_id = values.get("external_id")
    if isinstance(external_id, str) and await technician_queries.external_id_taken(conn, external_id):
        raise ConflictError("external_id: a technician with this external id exists", field="external_id")
    technician_id = await technician_queries.insert_technician(conn, values)
    await technician_queries.replace_skills(conn, technician_id, skills)
    # Every technician drives a van; stock and parts coverage hang off it from day one.
    await technician_queries.insert_van(conn, technician_id, str(values["name"]))
    technician = await technician_queries.get_technician(conn, technician_id)
    assert technician is not None
    return technician


async def update_technician(
    conn: Connection, technician_id: UUID, changes: dict[str, object], skills: Mapping[str, int] | None
) -> Technician:
    if await technician_queries.get_technician(conn, technician_id, for_update=True) is None:
        raise TechnicianNotFoundError
    territory_id = changes.get("territory_id")
    if isinstance(territory_id, UUID):
        await check_territory(conn, territory_id)
    if skills is not None:
        await check_skills(conn, skills)
        await technician_queries.replace_skills(conn, technician_id, skills)
    await technician_queries.update_technician(conn, technician_id, changes)
    technician = await technician_queries.get_technician(conn, technician_id)
    assert technician is not None
    return technician


async def find_technicians(
    conn: Connection,
    principal: Principal,
    territory_id: UUID | None,
    *,
    skill: str | None,
    min_level: int,
    active: bool | None,
    limit: int,
    offset: int,
) -> list[Technician]:
    """By name; of a territory (a bound dispatcher's own), holding `skill` at `min_level` or more."""
    return await technician_queries.list_technicians(
        conn,
        territory_id=scope.list_filter(principal, territory_id),
        skill=skill,
        min_level=min_level,
        active=active,
        limit=limit,
        offset=offset,
    )
