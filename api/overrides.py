"""A dispatcher's overrides (each with a reason and the job's version) and the audit of them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.auth import STAFF
from api.deps import Caller, Db, Page, Paging, page_of
from api.jobs import IF_MATCH_REQUIRED, IfMatch, parse_if_match, versioned
from api.matching import match_settings, now_of
from assets.models import AwareDatetime
from dispatch.matching import overrides
from dispatch.matching.assignment import Assignment
from dispatch.models import Job, JobEvent

Reason = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2000, description="Why: kept in the audit trail.")
]


class ReassignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    technician_id: UUID
    reason: Reason


class ReasonIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class PinIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    technician_id: UUID | None = None
    start_at: AwareDatetime | None = None


class WindowIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    window_start_at: AwareDatetime
    window_end_at: AwareDatetime
    reason: Reason


class OverrideController(Controller):
    path = "/jobs/{job_id:uuid}"
    tags = ["overrides"]
    guards = [STAFF]

    @post("/reassign", status_code=200, opt=IF_MATCH_REQUIRED)
    async def reassign(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        data: JSONBody[ReassignIn],
        if_match: IfMatch = None,
    ) -> Response[Assignment]:
        """Move a job that has not set off to another technician's day (it is scheduled again)."""
        result = await overrides.reassign(
            conn,
            principal,
            job_id,
            data.technician_id,
            data.reason,
            match_settings(state.settings),
            expected_version=parse_if_match(if_match),
            routing=state.routing,
            now=now_of(state),
        )
        state.fleet_cache.invalidate()
        return Response(result, headers={"ETag": f'"{result.job.version}"'})

    @post("/unassign", status_code=200, opt=IF_MATCH_REQUIRED)
    async def unassign(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        data: JSONBody[ReasonIn],
        if_match: IfMatch = None,
    ) -> Response[Job]:
        """Take a job off its technician's day; it is new again."""
        job = await overrides.unassign(
            conn, principal, job_id, data.reason, expected_version=parse_if_match(if_match)
        )
        state.fleet_cache.invalidate()
        return versioned(job)

    @post("/pin", status_code=200, opt=IF_MATCH_REQUIRED)
    async def pin(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        data: JSONBody[PinIn],
        if_match: IfMatch = None,
    ) -> Response[Job]:
        """Fix the job to a technician (moving it there if needed) and optionally to a start time
        inside its window; auto-assignment and the optimizer never move a pinned job."""
        job = await overrides.pin(
            conn,
            principal,
            job_id,
            data.reason,
            match_settings(state.settings),
            technician_id=data.technician_id,
            start_at=data.start_at,
            expected_version=parse_if_match(if_match),
            routing=state.routing,
            now=now_of(state),
        )
        state.fleet_cache.invalidate()
        return versioned(job)

    @post("/unpin", status_code=200, opt=IF_MATCH_REQUIRED)
    async def unpin(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        data: JSONBody[ReasonIn],
        if_match: IfMatch = None,
    ) -> Response[Job]:
        job = await overrides.unpin(
            conn, principal, job_id, data.reason, expected_version=parse_if_match(if_match)
        )
        state.fleet_cache.invalidate()
        return versioned(job)

    @post("/window", status_code=200, opt=IF_MATCH_REQUIRED)
    async def change_window(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        data: JSONBody[WindowIn],
        if_match: IfMatch = None,
    ) -> Response[Job]:
        """Promise the customer another arrival window. An assigned job keeps its place in the
        technician's day when that still holds, else moves to the best place left in the same day
        (the others re-timed, the technician told); 409 naming why when it fits nowhere in it."""
        job = await overrides.change_window(
            conn,
            principal,
            job_id,
            data.window_start_at,
            data.window_end_at,
            data.reason,
            match_settings(state.settings),
            expected_version=parse_if_match(if_match),
            routing=state.routing,
            now=now_of(state),
        )
        state.fleet_cache.invalidate()
        return versioned(job)


class AuditController(Controller):
    path = "/audit"
    tags = ["overrides"]

    @get(guards=[STAFF])
    async def list_overrides(
        self,
        conn: Db,
        principal: Caller,
        page: Paging,
        actor: Annotated[
            str | None, QueryParameter(description="The acting user's email.", max_length=320)
        ] = None,
        since: Annotated[datetime | None, QueryParameter(name="from", description="From this time.")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to", description="Before this time.")] = None,
        territory_id: FromQuery[UUID | None] = None,
    ) -> Page[JobEvent]:
        """Every override and cancellation, newest first, by whom and why (for a dispatcher bound to
        a territory, of its jobs)."""
        rows = await overrides.audit_trail(
            conn,
            principal,
            territory_id,
            actor=actor,
            since=since,
            until=until,
            limit=page.limit + 1,
            offset=page.offset,
        )
        return page_of(rows, page)


ROUTES = [OverrideController, AuditController]
