"""The job as it is worked: status reports (also queued offline), notes, parts used."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import ANY_USER, TECHNICIAN
from api.deps import Caller, Db, Page, Paging, page_of
from api.idempotency import IdempotencyKey, idempotent
from api.matching import match_settings, now_of
from api.positions import PingIn
from assets.models import AwareDatetime
from dispatch.access.accounts import Principal
from dispatch.errors import TechnicianNotFoundError
from dispatch.fleet import technicians
from dispatch.models import JobStatus, Note
from dispatch.tracking.positions import Ping
from dispatch.travel.sources import TravelTimes
from dispatch.workday import job_work, shift_work, technician_day
from dispatch.workday.job_work import PartsUsedResult, StatusReport, StatusResult
from dispatch.workday.shift_work import ReportResult
from dispatch.workday.technician_day import TechnicianDay
from infra.db import Connection
from infra.errors import DomainError

Reason = Annotated[str, msgspec.Meta(max_length=2000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=100)]


class PartCount(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    part_id: UUID
    quantity: Quantity


class StatusIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    status: JobStatus
    client_at: AwareDatetime | None = None
    reason: Reason = ""
    missing_parts: Annotated[list[PartCount], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    # Where the phone is as it reports (en_route: the ETA the customer hears is from here).
    position: PingIn | None = None


class QueuedStatus(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    job_id: UUID
    status: JobStatus
    client_at: AwareDatetime
    reason: Reason = ""
    missing_parts: Annotated[list[PartCount], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )


class QueuedStatuses(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    events: Annotated[list[QueuedStatus], msgspec.Meta(min_length=1, max_length=200)]


class QueuedResult(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    status: JobStatus
    client_at: datetime
    applied: bool
    job_status: JobStatus | None  # where the job stands after this event
    error: str | None = None


class QueuedResults(msgspec.Struct, frozen=True, kw_only=True):
    results: list[QueuedResult]


class NoteIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    client_at: AwareDatetime | None = None


class PartsUsedIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    parts: Annotated[list[PartCount], msgspec.Meta(min_length=1, max_length=50)]
    client_at: AwareDatetime | None = None


def _report(data: StatusIn | QueuedStatus) -> StatusReport:
    fix = data.position if isinstance(data, StatusIn) else None
    return StatusReport(
        status=data.status,
        client_at=data.client_at,
        reason=data.reason,
        missing_parts=[(p.part_id, p.quantity) for p in data.missing_parts],
        position=None
        if fix is None
        else Ping(
            fix.recorded_at, fix.latitude, fix.longitude, fix.accuracy_m, fix.speed_mps, fix.heading_deg
        ),
    )


class JobWorkController(Controller):
    path = "/jobs/{job_id:uuid}"
    tags = ["lifecycle"]

    @post("/status", guards=[ANY_USER], status_code=200)
    async def report_status(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        job_id: FromPath[UUID],
        data: JSONBody[StatusIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[StatusResult]:
        """Move the job along its day (dispatched, en_route, on_site, completed, incomplete). A
        report of a status the job has already passed is recorded, answered with applied=false,
        and moves nothing. `incomplete` needs a reason and creates a follow-up job with the
        missing parts. A technician reports only on their own jobs."""
        return await idempotent(
            conn,
            principal,
            idempotency_key,
            request.url.path,
            data,
            StatusResult,
            200,
            lambda: job_work.report_status(
                conn, principal, job_id, _report(data), now=now_of(state), routing=state.routing
            ),
        )

    @post("/notes", guards=[ANY_USER], status_code=201)
    async def add_note(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        job_id: FromPath[UUID],
        data: JSONBody[NoteIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Note]:
        """A note on the job (what the technician found, a gate code that changed)."""
        return await idempotent(
            conn,
            principal,
            idempotency_key,
            request.url.path,
            data,
            Note,
            201,
            lambda: job_work.add_note(conn, principal, job_id, data.text, data.client_at, now=now_of(state)),
        )

    @get("/notes", guards=[ANY_USER])
    async def list_notes(
        self, conn: Db, principal: Caller, job_id: FromPath[UUID], page: Paging
    ) -> Page[Note]:
        """The job's notes, oldest first, a page at a time like every list."""
        rows = await job_work.job_notes(conn, principal, job_id, limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)

    @post("/parts-used", guards=[ANY_USER], status_code=200)
    async def use_parts(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        job_id: FromPath[UUID],
        data: JSONBody[PartsUsedIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PartsUsedResult]:
        """Parts fitted on this job come off the technician's van, all or none: 409 with what is
        on the van when any would go below zero."""
        parts = [(p.part_id, p.quantity) for p in data.parts]
        return await idempotent(
            conn,
            principal,
            idempotency_key,
            request.url.path,
            data,
            PartsUsedResult,
            200,
            lambda: job_work.use_parts(conn, principal, job_id, parts, data.client_at, now=now_of(state)),
        )


class QueuedEventsController(Controller):
    path = "/technicians/me/events"
    tags = ["lifecycle"]

    @post(guards=[TECHNICIAN], status_code=200)
    async def apply_queued(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        data: JSONBody[QueuedStatuses],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[QueuedResults]:
        """Status reports the app queued while offline, applied in the order of the phone's clock.
        Each stands alone: one refused (e.g. a job reassigned meanwhile) does not stop the rest."""
        return await idempotent(
            conn,
            principal,
            idempotency_key,
            request.url.path,
            data,
            QueuedResults,
            200,
            lambda: _apply_in_order(conn, principal, data, now_of(state), state.routing),
        )


async def _apply_in_order(
    conn: Connection, principal: Principal, data: QueuedStatuses, now: datetime, routing: TravelTimes | None
) -> QueuedResults:
    """Each queued report in the phone's time order; one refused does not stop the rest."""
    results: list[QueuedResult] = []
    for event in sorted(data.events, key=lambda e: e.client_at):
        try:
            async with conn.transaction():
                outcome = await job_work.report_status(
                    conn, principal, event.job_id, _report(event), now=now, routing=routing
                )
            results.append(
                QueuedResult(
                    job_id=event.job_id,
                    status=event.status,
                    client_at=event.client_at,
                    applied=outcome.applied,
                    job_status=outcome.job.status,
                )
            )
        except DomainError as refused:
            results.append(
                QueuedResult(
                    job_id=event.job_id,
                    status=event.status,
                    client_at=event.client_at,
                    applied=False,
                    job_status=None,
                    error=refused.message,
                )
            )
    return QueuedResults(results=results)


class ShiftReportIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["shift_start", "shift_end", "break_start", "break_end"]
    client_at: AwareDatetime | None = None


class LateIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    minutes: Annotated[int, msgspec.Meta(ge=1, le=600)]
    reason: Reason = ""


class SickIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason = ""


class ShiftReportController(Controller):
    path = "/technicians/me"
    tags = ["technician day"]
    guards = [TECHNICIAN]

    @post("/shift-reports", status_code=201)
    async def report_shift(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        data: JSONBody[ShiftReportIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReportResult]:
        """Shift started or ended, break started or ended (with the phone's time when offline)."""
        return await idempotent(
            conn,
            principal,
            idempotency_key,
            request.url.path,
            data,
            ReportResult,
            201,
            lambda: shift_work.report_shift(conn, principal, data.kind, data.client_at, now=now_of(state)),
        )

    @post("/running-late", status_code=201)
    async def running_late(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        data: JSONBody[LateIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReportResult]:
        """Everything not yet reached moves later; customers whose window that breaks are told."""
        return await idempotent(
            conn,
            principal,
            idempotency_key,
            request.url.path,
            data,
            ReportResult,
            201,
            lambda: shift_work.running_late(conn, principal, data.minutes, data.reason, now=now_of(state)),
        )

    @post("/sick", status_code=201)
    async def call_in_sick(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[object, object, State],
        data: JSONBody[SickIn],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[ReportResult]:
        """The rest of the day goes back to dispatch, each job offered with re-match candidates."""

        async def give_back_the_day() -> ReportResult:
            result = await shift_work.call_in_sick(
                conn,
                principal,
                data.reason,
                match_settings(state.settings),
                routing=state.routing,
                now=now_of(state),
            )
            state.fleet_cache.invalidate()
            return result

        return await idempotent(
            conn, principal, idempotency_key, request.url.path, data, ReportResult, 201, give_back_the_day
        )


class DayController(Controller):
    path = "/technicians"
    tags = ["technician day"]

    @get("/me/day", guards=[TECHNICIAN])
    async def my_day(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        day: Annotated[
            date | None,
            QueryParameter(name="date", description="The day, in the territory's time zone (default today)."),
        ] = None,
    ) -> TechnicianDay:
        """The signed-in technician's route in order, with what they will find at each stop."""
        if principal.technician_id is None:
            raise TechnicianNotFoundError
        await technicians.visible_technician(conn, principal, principal.technician_id)
        return await technician_day.day_of(
            conn, principal.technician_id, day or await _today(conn, principal.technician_id, state)
        )

    @get("/{technician_id:uuid}/day", guards=[ANY_USER])
    async def technician_day(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        technician_id: FromPath[UUID],
        day: Annotated[
            date | None,
            QueryParameter(name="date", description="The day, in the territory's time zone (default today)."),
        ] = None,
    ) -> TechnicianDay:
        """A technician's day as their app shows it (a technician reads only their own)."""
        await technicians.visible_technician(conn, principal, technician_id)
        return await technician_day.day_of(
            conn, technician_id, day or await _today(conn, technician_id, state)
        )


async def _today(conn: Connection, technician_id: UUID, state: State) -> date:
    return await technician_day.today_of(conn, technician_id, now_of(state))


ROUTES = [JobWorkController, QueuedEventsController, DayController, ShiftReportController]
