"""Matching: ranked candidates for a job, and assigning it (to a named technician or the best one)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import STAFF
from api.deps import Caller, Db
from api.jobs import IfMatch, parse_if_match
from dispatch.matching import assignment, context
from dispatch.matching.assignment import Assignment
from dispatch.matching.candidates import Candidate, MatchSettings, Ranking
from dispatch.matching.match_cost import Weights
from infra.errors import InvalidError
from infra.settings import Settings


class AssignmentRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    technician_id: UUID | None = None
    auto: bool = False


class CandidatesOut(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    considered: int
    eligible: int
    excluded: dict[str, int]
    candidates: list[Candidate]


def match_settings(settings: Settings) -> MatchSettings:
    return MatchSettings(
        weights=Weights(**settings.match_weights),
        reach_km=settings.match_reach_km,
        arrival_window_s=settings.arrival_window_s,
        depot_pickup_s=settings.depot_pickup_s,
    )


def now_of(state: State) -> datetime:
    clock = getattr(state, "clock", None)
    return clock() if clock is not None else datetime.now(UTC)


class MatchingController(Controller):
    path = "/jobs/{job_id:uuid}"
    tags = ["matching"]

    @get("/candidates", guards=[STAFF], opt={"more_errors": [409]})
    async def list_candidates(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=100, description="How many candidates to show.")] = 10,
    ) -> CandidatesOut:
        """Technicians who could take the job, best first, each with a score breakdown, a one-line
        reason and the arrival window the customer would get; and how many each hard rule excluded."""
        ranking: Ranking = await context.candidates(
            conn,
            principal,
            job_id,
            match_settings(state.settings),
            routing=state.routing,
            now=now_of(state),
            limit=limit,
            cache=state.fleet_cache,
        )
        return CandidatesOut(
            job_id=job_id,
            considered=ranking.considered,
            eligible=ranking.eligible,
            excluded=ranking.excluded,
            candidates=ranking.candidates,
        )

    @post("/assignment", guards=[STAFF], status_code=200)
    async def assign_job(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        job_id: FromPath[UUID],
        data: JSONBody[AssignmentRequest],
        if_match: IfMatch = None,
    ) -> Response[Assignment]:
        """Assign a new job to `technician_id`, or with `{"auto": true}` to the best candidate. The
        technician's day is re-planned: the job's planned start and ETA, and those of later visits."""
        if (data.technician_id is None) == (not data.auto):
            raise InvalidError(
                'send either technician_id or "auto": true (not both)',
                field="technician_id" if data.technician_id is None else "auto",
            )
        result = await assignment.assign(
            conn,
            principal,
            job_id,
            match_settings(state.settings),
            technician_id=data.technician_id,
            routing=state.routing,
            now=now_of(state),
            expected_version=parse_if_match(if_match),
            cache=state.fleet_cache,
        )
        # Other processes hear of it when it commits; this one stops trusting its views now.
        state.fleet_cache.invalidate()
        return Response(result, headers={"ETag": f'"{result.job.version}"'})


ROUTES = [MatchingController]
