"""Technicians with their skills, their shifts and breaks, and customers' preferences about them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import ANY_USER, STAFF, TECHNICIAN
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from api.scope import refuse_move
from assets.models import AwareDatetime, Email, ExternalId, Latitude, Longitude, Name, Phone
from dispatch.access import scope
from dispatch.access.accounts import Role
from dispatch.errors import TechnicianNotFoundError
from dispatch.fleet import preferences, shifts, technicians
from dispatch.models import Preference, Shift, SkillCode, SkillLevel, Technician
from infra.errors import InvalidError

Skills = Annotated[
    dict[SkillCode, SkillLevel], msgspec.Meta(max_length=30, description="skill code -> level 1..5")
]
OvertimeS = Annotated[
    int, msgspec.Meta(ge=0, le=8 * 3600, description="overtime allowed past the end, seconds")
]
BreakS = Annotated[int, msgspec.Meta(ge=60, le=4 * 3600)]


class TechnicianCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    territory_id: UUID
    home_latitude: Latitude
    home_longitude: Longitude
    skills: Skills = msgspec.field(default_factory=dict)
    email: Email | None = None
    phone: Phone | None = None
    external_id: ExternalId | None = None


class TechnicianUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    territory_id: UUID | msgspec.UnsetType = msgspec.UNSET
    home_latitude: Latitude | msgspec.UnsetType = msgspec.UNSET
    home_longitude: Longitude | msgspec.UnsetType = msgspec.UNSET
    skills: Skills | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class BreakIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    earliest_start_at: AwareDatetime
    latest_end_at: AwareDatetime
    duration_s: BreakS


class ShiftIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the day starts and ends defaults to the technician's home."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    start_latitude: Latitude | None = None
    start_longitude: Longitude | None = None
    end_latitude: Latitude | None = None
    end_longitude: Longitude | None = None
    overtime_limit_s: OvertimeS = 0
    breaks: Annotated[list[BreakIn], msgspec.Meta(max_length=6)] = msgspec.field(default_factory=list)


class PreferenceIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    preference: Annotated[
        str, msgspec.Meta(pattern="^(preferred|excluded)$", description="preferred or excluded")
    ]
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


def shift_plan(data: ShiftIn, technician: Technician) -> shifts.ShiftPlan:
    for name in ("start", "end"):
        if (getattr(data, f"{name}_latitude") is None) != (getattr(data, f"{name}_longitude") is None):
            raise InvalidError(
                f"{name}_longitude: give both coordinates or neither", field=f"{name}_longitude"
            )
    return shifts.ShiftPlan(
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        start_latitude=data.start_latitude if data.start_latitude is not None else technician.home_latitude,
        start_longitude=data.start_longitude
        if data.start_longitude is not None
        else technician.home_longitude,
        end_latitude=data.end_latitude if data.end_latitude is not None else technician.home_latitude,
        end_longitude=data.end_longitude if data.end_longitude is not None else technician.home_longitude,
        overtime_limit_s=data.overtime_limit_s,
        breaks=tuple(
            shifts.BreakPlan(b.earliest_start_at, b.latest_end_at, b.duration_s) for b in data.breaks
        ),
    )


class TechnicianController(Controller):
    path = "/technicians"
    tags = ["technicians"]

    @post(guards=[STAFF])
    async def create_technician(
        self, conn: Db, principal: Caller, data: JSONBody[TechnicianCreate]
    ) -> Technician:
        """A technician, with their van (stock starts empty); a dispatcher bound to a territory
        hires into theirs only."""
        scope.placing(principal, data.territory_id)
        values = msgspec.structs.asdict(data)
        skills = values.pop("skills")
        return await technicians.create_technician(conn, values, skills)

    @get(guards=[STAFF])
    async def list_technicians(
        self,
        conn: Db,
        principal: Caller,
        page: Paging,
        territory_id: FromQuery[UUID | None] = None,
        skill: Annotated[str | None, QueryParameter(max_length=64, description="Holds this skill...")] = None,
        min_level: Annotated[int, QueryParameter(ge=1, le=5, description="...at least at this level.")] = 1,
        active: FromQuery[bool | None] = None,
    ) -> Page[Technician]:
        rows = await technicians.find_technicians(
            conn,
            principal,
            territory_id,
            skill=skill,
            min_level=min_level,
            active=active,
            limit=page.limit + 1,
            offset=page.offset,
        )
        return page_of(rows, page)

    @get("/me", guards=[TECHNICIAN])
    async def get_me(self, conn: Db, principal: Caller) -> Technician:
        """The signed-in technician's own record (403 for anyone who is not a technician)."""
        if principal.role is not Role.TECHNICIAN or principal.technician_id is None:
            raise TechnicianNotFoundError
        return await technicians.visible_technician(conn, principal, principal.technician_id)

    @get("/{technician_id:uuid}", guards=[ANY_USER])
    async def get_technician(self, conn: Db, principal: Caller, technician_id: FromPath[UUID]) -> Technician:
        return await technicians.visible_technician(conn, principal, technician_id)

    @patch("/{technician_id:uuid}", guards=[STAFF])
    async def update_technician(
        self, conn: Db, principal: Caller, technician_id: FromPath[UUID], data: JSONBody[TechnicianUpdate]
    ) -> Technician:
        """Skills, when given, replace the whole set. `active: false` takes them off dispatch.
        Moving a technician to another territory is an admin's act: 403 for a dispatcher."""
        changes = changes_of(data)
        if isinstance(data.territory_id, UUID):
            current = await technicians.visible_technician(conn, principal, technician_id)
            if scope.moves_territory(principal, current.territory_id, data.territory_id):
                raise refuse_move("a technician")
        skills = changes.pop("skills", None)
        return await technicians.update_technician(
            conn,
            technician_id,
            changes,
            skills if isinstance(skills, dict) else None,
        )

    @post("/{technician_id:uuid}/shifts", guards=[STAFF])
    async def create_shift(
        self, conn: Db, principal: Caller, technician_id: FromPath[UUID], data: JSONBody[ShiftIn]
    ) -> Shift:
        """A shift with its breaks; one that overlaps another of the same technician is 409."""
        technician = await technicians.visible_technician(conn, principal, technician_id, for_update=True)
        return await shifts.create_shift(conn, technician, shift_plan(data, technician))

    @get("/{technician_id:uuid}/shifts", guards=[ANY_USER])
    async def list_shifts(
        self,
        conn: Db,
        principal: Caller,
        technician_id: FromPath[UUID],
        page: Paging,
        since: Annotated[
            datetime | None, QueryParameter(name="from", description="Shifts ending after this time.")
        ] = None,
        until: Annotated[
            datetime | None, QueryParameter(name="to", description="Shifts starting before it.")
        ] = None,
    ) -> Page[Shift]:
        rows = await shifts.technician_shifts(
            conn, principal, technician_id, since=since, until=until, limit=page.limit + 1, offset=page.offset
        )
        return page_of(rows, page)


class ShiftController(Controller):
    path = "/shifts"
    tags = ["technicians"]

    @get("/{shift_id:uuid}", guards=[ANY_USER])
    async def get_shift(self, conn: Db, principal: Caller, shift_id: FromPath[UUID]) -> Shift:
        return await shifts.visible_shift(conn, principal, shift_id)

    @put("/{shift_id:uuid}", guards=[STAFF])
    async def replace_shift(
        self, conn: Db, principal: Caller, shift_id: FromPath[UUID], data: JSONBody[ShiftIn]
    ) -> Shift:
        """Replace the shift and its breaks, under the same rules as creating one."""
        shift = await shifts.shift(conn, shift_id)
        technician = await technicians.visible_technician(
            conn, principal, shift.technician_id, for_update=True
        )
        return await shifts.replace_shift(conn, shift, shift_plan(data, technician))

    @delete("/{shift_id:uuid}", guards=[STAFF])
    async def delete_shift(self, conn: Db, principal: Caller, shift_id: FromPath[UUID]) -> None:
        """Refused (409) while assigned jobs are planned inside it."""
        shift = await shifts.shift(conn, shift_id)
        await technicians.visible_technician(conn, principal, shift.technician_id, for_update=True)
        await shifts.remove_shift(conn, shift)


class PreferenceController(Controller):
    path = "/customers/{customer_id:uuid}/technician-preferences"
    tags = ["customers"]
    guards = [STAFF]

    @get()
    async def list_preferences(
        self, conn: Db, principal: Caller, customer_id: FromPath[UUID]
    ) -> list[Preference]:
        """Technicians the customer asked for again, or asked never to be sent (for a dispatcher
        bound to a territory, its technicians)."""
        return await preferences.preferences(conn, customer_id, scope.territory_of(principal))

    @put("/{technician_id:uuid}")
    async def set_preference(
        self,
        conn: Db,
        principal: Caller,
        customer_id: FromPath[UUID],
        technician_id: FromPath[UUID],
        data: JSONBody[PreferenceIn],
    ) -> list[Preference]:
        return await preferences.set_preference(
            conn,
            customer_id,
            technician_id,
            data.preference,
            data.reason,
            territory_id=scope.territory_of(principal),
        )

    @delete("/{technician_id:uuid}")
    async def delete_preference(
        self, conn: Db, customer_id: FromPath[UUID], technician_id: FromPath[UUID]
    ) -> None:
        await preferences.remove_preference(conn, customer_id, technician_id)


ROUTES = [TechnicianController, ShiftController, PreferenceController]
