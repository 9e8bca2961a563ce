"""Day plans: ask the optimizer for a territory's day (or an in-day re-plan), read it, apply it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from api.auth import STAFF
from api.deps import Caller, Db
from api.idempotency import IdempotencyKey, idempotent
from api.matching import now_of
from api.strict_body import real_column
from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.fleet import territories
from dispatch.planning import day_planning, plan_runs
from dispatch.planning.plan_runs import PlanRunner
from infra.db import Connection
from infra.errors import InvalidError, NotFoundError

# Stored as `real`: bounded as the column will hold it (see real_column).
TimeLimit = Annotated[float, real_column(gt=0, le=300, description="Seconds of search (at most 300).")]
Seed = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1, description="The same seed gives the same plan.")]


class PlanRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    territory_id: UUID
    date: date
    time_limit_s: TimeLimit = 10.0
    seed: Seed = 0


class ReplanRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    territory_id: UUID
    time_limit_s: TimeLimit = 2.0
    seed: Seed = 0


class PlanStarted(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    status: str


class PlanOut(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    territory_id: UUID
    date: date
    kind: str  # day | replan
    status: str  # solving | done | failed | applied
    time_limit_s: float
    seed: int
    created_at: datetime
    finished_at: datetime | None
    applied_at: datetime | None
    error: str | None
    # When done: routes, unplanned (with why), kpis, changes against the current plan, violations.
    result: dict[str, Any] | None


class Applied(msgspec.Struct, frozen=True, kw_only=True):
    plan_id: UUID
    jobs_changed: list[UUID]


class PlanController(Controller):
    path = "/plans"
    tags = ["plans"]
    guards = [STAFF]

    @post(status_code=202)
    async def plan_day(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[Any, Any, State],
        data: JSONBody[PlanRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PlanStarted]:
        """Plan a territory's day from scratch (the night before): started and pinned work is
        held, everything else may move within its promise. Answers at once with the plan's id;
        the solve runs in the background."""
        _own(principal, data.territory_id)
        await _zone(conn, data.territory_id)
        return await _start(
            conn, principal, state, request, data, idempotency_key, data.territory_id, data.date, data.seed
        )

    @post("/replan", status_code=202)
    async def replan_day(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[Any, Any, State],
        data: JSONBody[ReplanRequest],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[PlanStarted]:
        """Re-plan the rest of today from now (a late job, a sick technician, an emergency):
        each technician from where they are, started and pinned jobs held."""
        _own(principal, data.territory_id)
        today = now_of(state).astimezone(ZoneInfo(await _zone(conn, data.territory_id))).date()
        return await _start(
            conn, principal, state, request, data, idempotency_key, data.territory_id, today, data.seed, True
        )

    @get("/{plan_id:uuid}")
    async def get_plan(self, conn: Db, principal: Caller, plan_id: FromPath[UUID]) -> PlanOut:
        """The plan's status and, when done, its routes, KPIs and changes against today's plan."""
        return _out(await _visible(conn, principal, plan_id))

    @post("/{plan_id:uuid}/apply", status_code=200)
    async def apply_plan(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        request: Request[Any, Any, State],
        plan_id: FromPath[UUID],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Applied]:
        """Write the plan into the day, only if none of the jobs it read has changed since
        (otherwise 409 naming them, and nothing changes); every technician and customer it
        affects is told."""
        await _visible(conn, principal, plan_id)

        async def act() -> Applied:
            done = await day_planning.apply(conn, principal, plan_id, now=now_of(state))
            return Applied(plan_id=plan_id, jobs_changed=[UUID(j) for j in done["jobs_changed"]])

        return await idempotent(conn, principal, idempotency_key, request.url.path, None, Applied, 200, act)


async def _start(
    conn: Connection,
    principal: Principal,
    state: State,
    request: Request[Any, Any, State],
    body: PlanRequest | ReplanRequest,
    key: str | None,
    territory_id: UUID,
    day: date,
    seed: int,
    replan: bool = False,
) -> Response[PlanStarted]:
    runner: PlanRunner = state.plan_runner

    async def act() -> PlanStarted:
        plan_id = await runner.prepare(
            conn,
            territory_id=territory_id,
            day=day,
            time_limit_s=body.time_limit_s,
            seed=seed,
            requested_by=principal.user_id,
            now=now_of(state),
            replan=replan,
        )
        return PlanStarted(id=plan_id, status="solving")

    response = await idempotent(conn, principal, key, request.url.path, body, PlanStarted, 202, act)
    # The solve starts once the request's transaction has committed the plan's row.
    response.background = BackgroundTask(runner.launch, response.content.id)
    return response


async def _zone(conn: Connection, territory_id: UUID) -> str:
    zone = await territories.timezone_of(conn, territory_id)
    if zone is None:
        raise InvalidError("territory_id: no such territory", field="territory_id")
    return zone


def _own(principal: Principal, territory_id: UUID) -> None:
    scope.placing(principal, territory_id)


async def _visible(conn: Connection, principal: Principal, plan_id: UUID) -> Any:
    row = await plan_runs.plan_row(conn, plan_id)
    own = scope.territory_of(principal)
    if row is None or (own is not None and row["territory_id"] != own):
        raise NotFoundError("No such plan.")
    return row


def _out(row: Any) -> PlanOut:
    return PlanOut(
        id=row["id"],
        territory_id=row["territory_id"],
        date=row["day"],
        kind=row["kind"],
        status=row["status"],
        time_limit_s=row["time_limit_s"],
        seed=row["seed"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        applied_at=row["applied_at"],
        error=row["error"],
        result=row["result"],
    )


ROUTES = [PlanController]
