"""Plans solved in the background: the request reads the day and answers at once; the solve runs
on a worker thread (PyVRP's core releases the interpreter while it searches, so the event loop
keeps serving), several territories at a time, and stores its result when it is done."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import cast
from uuid import UUID

from asyncpg import Record

from dispatch.planning import plan_queries
from dispatch.planning.day_planning import REPLAN_PATIENCE, LoadedDay, load_day, solve_and_check, summary
from dispatch.travel.sources import TravelTimes
from infra.db import Connection, Pool

log = logging.getLogger("truckroll.plans")


class PlanRunner:
    def __init__(self, pool: Pool, *, routing: TravelTimes | None = None, workers: int = 2) -> None:
        self.pool = pool
        self.routing = routing
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="plan")
        self._running: set[asyncio.Task[None]] = set()
        self._prepared: dict[UUID, tuple[LoadedDay, float, int, int | None]] = {}

    async def prepare(
        self,
        conn: Connection,
        *,
        territory_id: UUID,
        day: date,
        time_limit_s: float,
        seed: int,
        requested_by: UUID | None,
        now: datetime,
        replan: bool = False,
    ) -> UUID:
        """Read the day and record the plan in the caller's transaction; `launch` it once that
        has committed (the solve stores its result in the row)."""
        loaded = await load_day(conn, territory_id, day, now=now, replan=replan, routing=self.routing)
        plan_id = await plan_queries.insert_plan(
            conn,
            territory_id=territory_id,
            day=day,
            kind="replan" if replan else "day",
            time_limit_s=time_limit_s,
            seed=seed,
            requested_by=requested_by,
        )
        self._prepared[plan_id] = (loaded, time_limit_s, seed, REPLAN_PATIENCE if replan else None)
        return plan_id

    async def launch(self, plan_id: UUID) -> None:
        prepared = self._prepared.pop(plan_id, None)
        if prepared is None:
            return  # an answer replayed for a retried request: the first one launched it
        task = asyncio.create_task(self._solve(plan_id, *prepared))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _solve(
        self, plan_id: UUID, loaded: LoadedDay, time_limit_s: float, seed: int, patience: int | None
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            plan, violations = await loop.run_in_executor(
                self._executor, solve_and_check, loaded, time_limit_s, seed, patience
            )
            result = summary(loaded, plan, violations)
            async with self.pool.acquire() as conn:
                await plan_queries.finish_plan(
                    cast(Connection, conn),
                    plan_id,
                    read_versions={str(job): version for job, version in loaded.versions.items()},
                    result=result,
                )
        except Exception as error:
            log.exception("plan %s failed", plan_id)
            async with self.pool.acquire() as conn:
                await plan_queries.fail_plan(
                    cast(Connection, conn), plan_id, f"{type(error).__name__}: {error}"
                )

    async def wait(self) -> None:
        """Until every solve under way has stored its result."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def close(self) -> None:
        for task in self._running:
            task.cancel()
        await self.wait()
        self._executor.shutdown(wait=False, cancel_futures=True)


async def plan_row(conn: Connection, plan_id: UUID) -> Record | None:
    """The day plan as stored: its territory, day, status, summary and when it was made."""
    return await plan_queries.get_plan(conn, plan_id)


async def record_solved_plan(
    conn: Connection,
    loaded: LoadedDay,
    *,
    territory_id: UUID,
    day: date,
    time_limit_s: float,
    seed: int,
    result: dict[str, object],
) -> UUID:
    """A plan solved outside the runner (from the command line), stored as done with the job
    versions it read, so it is applied like a plan the API made."""
    plan_id = await plan_queries.insert_plan(
        conn,
        territory_id=territory_id,
        day=day,
        kind="day",
        time_limit_s=time_limit_s,
        seed=seed,
        requested_by=None,
    )
    versions = {str(j): v for j, v in loaded.versions.items()}
    await plan_queries.finish_plan(conn, plan_id, read_versions=versions, result=result)
    return plan_id
