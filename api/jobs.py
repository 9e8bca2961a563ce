"""Jobs: create, read, list, change (guarded by If-Match), cancel, the audit trail, tracking links."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from api.auth import ANY_USER, STAFF
from api.deps import Caller, Db, Page, Paging, changes_of, page_of
from assets.models import AwareDatetime, Code, ExternalId
from dispatch.intake import calls as intake
from dispatch.jobs import records as jobs
from dispatch.models import (
    DurationS,
    Job,
    JobEvent,
    JobFilters,
    JobPart,
    JobStatus,
    Priority,
    SkillCode,
    SkillLevel,
)
from dispatch.tracking import links as tracking
from infra.errors import InvalidError
from infra.settings import Settings

Description = Annotated[str, msgspec.Meta(max_length=2000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=100)]
RequiredSkills = Annotated[
    dict[SkillCode, SkillLevel], msgspec.Meta(max_length=20, description="skill code -> minimum level 1..5")
]
# On a handler whose change refuses to go without If-Match (428), so the document says so.
IF_MATCH_REQUIRED = {"if_match_required": True}
IfMatch = Annotated[
    str | None, HeaderParameter(name="If-Match", description="The job's version, as its ETag gave it.")
]


class PartNeed(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    part_id: UUID
    quantity: Quantity


class JobCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    site_id: UUID
    problem_code: Code
    duration_s: DurationS
    window_start_at: AwareDatetime
    window_end_at: AwareDatetime
    asset_id: UUID | None = None
    customer_id: UUID | None = None
    problem_description: Description = ""
    customer_choice: Code | None = None
    required_skills: RequiredSkills = msgspec.field(default_factory=dict)
    priority: Priority = 3
    parts: Annotated[list[PartNeed], msgspec.Meta(max_length=50)] = msgspec.field(default_factory=list)
    external_id: ExternalId | None = None


class JobUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    problem_description: Description | msgspec.UnsetType = msgspec.UNSET
    customer_choice: Code | msgspec.UnsetType | None = msgspec.UNSET
    required_skills: RequiredSkills | msgspec.UnsetType = msgspec.UNSET
    duration_s: DurationS | msgspec.UnsetType = msgspec.UNSET
    window_start_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    window_end_at: AwareDatetime | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    parts: Annotated[list[PartNeed], msgspec.Meta(max_length=50)] | msgspec.UnsetType = msgspec.UNSET


class Cancellation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class TrackingLinkOut(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    url_path: str
    expires_at: datetime


class Revoked(msgspec.Struct, frozen=True, kw_only=True):
    revoked: int


def versioned(job: Job, status_code: int = 200) -> Response[Job]:
    return Response(job, status_code=status_code, headers={"ETag": f'"{job.version}"'})


def parse_if_match(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` is version 3. Anything else is a malformed header, not a stale
    version: it was a 412 "you sent -1", which sent the client to re-read a job that had not
    changed."""
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if text.isascii() and text.isdigit() and len(text) < 10:
        return int(text)
    message = 'give the job\'s version as its ETag gave it, e.g. "3"'
    raise ValidationException(
        detail=f"If-Match: {message}", extra=[{"key": "If-Match", "message": message, "source": "header"}]
    )


def parse_statuses(raw: list[str] | None) -> list[JobStatus]:
    statuses: list[JobStatus] = []
    for item in raw or []:
        for part in filter(None, (p.strip() for p in item.split(","))):
            try:
                statuses.append(JobStatus(part))
            except ValueError:
                allowed = ", ".join(s.value for s in JobStatus)
                raise InvalidError(f"status: {part!r} is not one of {allowed}", field="status") from None
    return statuses


class JobController(Controller):
    path = "/jobs"
    tags = ["jobs"]

    @post(guards=[STAFF], status_code=201)
    async def create_job(self, conn: Db, principal: Caller, data: JSONBody[JobCreate]) -> Response[Job]:
        """A new, unassigned job. The customer defaults to whoever lives at the site now."""
        job = await jobs.create_job(
            conn,
            principal,
            jobs.NewJob(
                site_id=data.site_id,
                problem_code=data.problem_code,
                duration_s=data.duration_s,
                window_start_at=data.window_start_at,
                window_end_at=data.window_end_at,
                asset_id=data.asset_id,
                customer_id=data.customer_id,
                problem_description=data.problem_description,
                customer_choice=data.customer_choice,
                required_skills=data.required_skills,
                priority=data.priority,
                parts=[jobs.PartNeed(p.part_id, p.quantity) for p in data.parts],
                external_id=data.external_id,
            ),
        )
        return versioned(job, 201)

    @get(guards=[ANY_USER])
    async def list_jobs(
        self,
        conn: Db,
        principal: Caller,
        page: Paging,
        status: Annotated[
            list[str] | None,
            QueryParameter(description="Job statuses, repeated or comma-separated.", max_items=8),
        ] = None,
        territory_id: FromQuery[UUID | None] = None,
        technician_id: FromQuery[UUID | None] = None,
        site_id: FromQuery[UUID | None] = None,
        customer_id: FromQuery[UUID | None] = None,
        asset_id: FromQuery[UUID | None] = None,
        day: Annotated[
            date | None,
            QueryParameter(
                name="date",
                description="Jobs whose window overlaps this calendar day, in the territory's time zone "
                "when territory_id is given, else UTC.",
            ),
        ] = None,
    ) -> Page[Job]:
        """Jobs in window order. A technician only ever gets their own; a dispatcher bound to a
        territory, its jobs."""
        filters = JobFilters(
            statuses=parse_statuses(status),
            territory_id=territory_id,
            technician_id=technician_id,
            site_id=site_id,
            customer_id=customer_id,
            asset_id=asset_id,
        )
        rows = await jobs.find_jobs(
            conn, principal, filters, day=day, limit=page.limit + 1, offset=page.offset
        )
        return page_of(rows, page)

    @get("/{job_id:uuid}", guards=[ANY_USER])
    async def get_job(self, conn: Db, principal: Caller, job_id: FromPath[UUID]) -> Response[Job]:
        """One job; another technician's job answers 404."""
        return versioned(await jobs.get_job(conn, principal, job_id))

    @patch("/{job_id:uuid}", guards=[STAFF], opt=IF_MATCH_REQUIRED)
    async def update_job(
        self,
        conn: Db,
        principal: Caller,
        job_id: FromPath[UUID],
        data: JSONBody[JobUpdate],
        if_match: IfMatch = None,
    ) -> Response[Job]:
        """Change an open job. Needs If-Match with the version from the ETag: 428 without, 412 when stale."""
        changes = changes_of(data)
        parts = changes.pop("parts", None)
        needs = None if parts is None else [jobs.PartNeed(p.part_id, p.quantity) for p in parts]  # type: ignore[attr-defined]
        job = await jobs.change_job(
            conn, principal, job_id, changes, parts=needs, expected_version=parse_if_match(if_match)
        )
        return versioned(job)

    @post("/{job_id:uuid}/cancel", guards=[STAFF], status_code=200)
    async def cancel_job(
        self,
        conn: Db,
        principal: Caller,
        job_id: FromPath[UUID],
        data: JSONBody[Cancellation],
        if_match: IfMatch = None,
    ) -> Response[Job]:
        """Cancel a job that has not started (new, scheduled or dispatched); the reason is recorded."""
        job = await jobs.cancel_job(
            conn, principal, job_id, reason=data.reason, expected_version=parse_if_match(if_match)
        )
        return versioned(job)

    @get("/{job_id:uuid}/events", guards=[ANY_USER])
    async def list_job_events(
        self, conn: Db, principal: Caller, job_id: FromPath[UUID], page: Paging
    ) -> Page[JobEvent]:
        """The audit trail: every change of the job, oldest first."""
        rows = await jobs.job_events(conn, principal, job_id, limit=page.limit + 1, offset=page.offset)
        return page_of(rows, page)

    @get("/{job_id:uuid}/parts", guards=[ANY_USER])
    async def list_job_parts(self, conn: Db, principal: Caller, job_id: FromPath[UUID]) -> list[JobPart]:
        """The parts the job needs: predicted ones with their probability and reasons, and manual ones."""
        return (await jobs.get_job(conn, principal, job_id)).parts

    @post("/{job_id:uuid}/parts/prediction", guards=[STAFF], status_code=200)
    async def repredict_parts(
        self, conn: Db, principal: Caller, job_id: FromPath[UUID], if_match: IfMatch = None
    ) -> Response[Job]:
        """Predict the parts again from the history as it is now; parts set by hand stay."""
        job = await intake.repredict_parts(conn, principal, job_id, expected_version=parse_if_match(if_match))
        return versioned(job)

    @post("/{job_id:uuid}/tracking-links", guards=[STAFF], status_code=201)
    async def create_tracking_link(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        ttl_s: Annotated[
            int | None,
            QueryParameter(
                ge=60,
                le=90 * 24 * 3600,
                description="Seconds to live (default from settings); lasts at least a day past the window.",
            ),
        ] = None,
    ) -> TrackingLinkOut:
        """A link for the customer to follow the job. The token is shown only in this answer."""
        job = await jobs.get_job(conn, principal, job_id)
        settings: Settings = state.settings
        ttl = timedelta(seconds=ttl_s or settings.tracking_token_ttl_s)
        link = await tracking.create_link(conn, job.id, window_end_at=job.window_end_at, ttl=ttl)
        return TrackingLinkOut(token=link.token, url_path=link.url_path, expires_at=link.expires_at)

    @delete("/{job_id:uuid}/tracking-links", guards=[STAFF], status_code=200)
    async def revoke_tracking_links(self, conn: Db, principal: Caller, job_id: FromPath[UUID]) -> Revoked:
        """Revoke every link of the job (e.g. sent to the wrong person)."""
        job = await jobs.get_job(conn, principal, job_id)
        return Revoked(revoked=await tracking.revoke_links(conn, job.id))


ROUTES = [JobController]
