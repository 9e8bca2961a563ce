"""Territories (admins shape them; staff read them) and the skill catalogue."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from api.auth import ADMIN, ANY_USER, STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets.models import Name
from dispatch import scope, territory_queries
from dispatch.errors import TerritoryNotFoundError
from dispatch.models import Territory
from dispatch.territory_queries import Skill
from infra.db import Connection
from infra.errors import ConflictError, InvalidError

Timezone = Annotated[
    str, msgspec.Meta(min_length=1, max_length=64, description="IANA zone, e.g. America/Chicago")
]
Circuity = Annotated[float, msgspec.Meta(ge=1, le=3, description="road distance / straight-line distance")]
Speed = Annotated[float, msgspec.Meta(gt=0, le=150, description="average driving speed, km/h")]
StopOverhead = Annotated[
    int, msgspec.Meta(ge=0, le=3600, description="parking and walking, seconds per stop")
]


class TerritoryCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    timezone: Timezone = "UTC"
    circuity_factor: Circuity = 1.3
    speed_kmh: Speed = 35.0
    stop_overhead_s: StopOverhead = 120


class TerritoryUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    timezone: Timezone | msgspec.UnsetType = msgspec.UNSET
    circuity_factor: Circuity | msgspec.UnsetType = msgspec.UNSET
    speed_kmh: Speed | msgspec.UnsetType = msgspec.UNSET
    stop_overhead_s: StopOverhead | msgspec.UnsetType = msgspec.UNSET


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidError(f"timezone: {name!r} is not an IANA time zone", field="timezone") from None


async def check_name(conn: Connection, name: str, other_than: UUID | None = None) -> None:
    if await territory_queries.name_taken(conn, name, other_than=other_than):
        raise ConflictError(f"name: a territory named {name!r} exists", field="name")


class TerritoryController(Controller):
    path = "/territories"
    tags = ["territories"]
    guards = [STAFF]

    @post(guards=[ADMIN])
    async def create_territory(self, conn: Db, data: JSONBody[TerritoryCreate]) -> Territory:
        check_timezone(data.timezone)
        await check_name(conn, data.name)
        return await territory_queries.insert_territory(conn, msgspec.structs.asdict(data))

    @get()
    async def list_territories(self, conn: Db, principal: Caller, page: Paging) -> Page[Territory]:
        """A dispatcher bound to a territory sees that one."""
        rows = await territory_queries.list_territories(
            conn, only=scope.territory_of(principal), limit=page.limit + 1, offset=page.offset
        )
        return page_of(rows, page)

    @get("/{territory_id:uuid}")
    async def get_territory(self, conn: Db, territory_id: FromPath[UUID]) -> Territory:
        territory = await territory_queries.get_territory(conn, territory_id)
        if territory is None:
            raise TerritoryNotFoundError
        return territory

    @patch("/{territory_id:uuid}", guards=[ADMIN])
    async def update_territory(
        self, conn: Db, territory_id: FromPath[UUID], data: JSONBody[TerritoryUpdate]
    ) -> Territory:
        changes = changes_of(data)
        if isinstance(data.timezone, str):
            check_timezone(data.timezone)
        if isinstance(data.name, str):
            await check_name(conn, data.name, territory_id)
        territory = await territory_queries.update_territory(conn, territory_id, changes)
        if territory is None:
            raise TerritoryNotFoundError
        return territory


class SkillController(Controller):
    path = "/skills"
    tags = ["technicians"]
    guards = [ANY_USER]

    @get()
    async def list_skills(self, conn: Db) -> list[Skill]:
        """Skill codes that jobs require and technicians hold, with levels 1 to 5."""
        return await territory_queries.list_skills(conn)


ROUTES = [TerritoryController, SkillController]
