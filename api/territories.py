"""Territories (admins shape them; staff read them) and the skill catalogue."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, JSONBody

from api.auth import ADMIN, ANY_USER, STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets.models import Name
from dispatch.access import scope
from dispatch.fleet import territories
from dispatch.models import Skill, Territory

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


class TerritoryController(Controller):
    path = "/territories"
    tags = ["territories"]
    guards = [STAFF]

    @post(guards=[ADMIN])
    async def create_territory(self, conn: Db, data: JSONBody[TerritoryCreate]) -> Territory:
        return await territories.create_territory(conn, msgspec.structs.asdict(data))

    @get()
    async def list_territories(self, conn: Db, principal: Caller, page: Paging) -> Page[Territory]:
        """A dispatcher bound to a territory sees that one."""
        rows = await territories.find_territories(
            conn, only=scope.territory_of(principal), limit=page.limit + 1, offset=page.offset
        )
        return page_of(rows, page)

    @get("/{territory_id:uuid}")
    async def get_territory(self, conn: Db, territory_id: FromPath[UUID]) -> Territory:
        return await territories.territory(conn, territory_id)

    @patch("/{territory_id:uuid}", guards=[ADMIN])
    async def update_territory(
        self, conn: Db, territory_id: FromPath[UUID], data: JSONBody[TerritoryUpdate]
    ) -> Territory:
        return await territories.change_territory(conn, territory_id, changes_of(data))


class SkillController(Controller):
    path = "/skills"
    tags = ["technicians"]
    guards = [ANY_USER]

    @get()
    async def list_skills(self, conn: Db) -> list[Skill]:
        """Skill codes that jobs require and technicians hold, with levels 1 to 5."""
        return await territories.skills(conn)


ROUTES = [TerritoryController, SkillController]
