"""At-risk detection that never sleeps, and what a technician reports about their own day.

Every scan looks at the jobs of the hours ahead; a job newly at risk raises one alert (once per
job and risk, whichever process scans) to the dispatchers, with the best candidates to take it
over. A technician running late pushes the ETAs of the rest of their day and the customers
whose window it breaks are told, with an apology; one calling in sick gives back every job not
yet under way, each offered for re-matching with its candidates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from asyncpg import Record

from dispatch.access.accounts import SYSTEM
from dispatch.jobs import changes as job_changes, records as job_records, records as jobs
from dispatch.matching import context
from dispatch.matching.candidates import MatchSettings
from dispatch.matching.fleet_cache import FleetCache
from dispatch.tracking import position_queries, risk_queries
from dispatch.tracking.board import risks_of_row
from dispatch.tracking.positions import maintain_partitions
from dispatch.travel.sources import TravelTimes
from infra.db import Connection, Pool
from infra.errors import DomainError
from notifications.notices import Candidate, JobAtRisk, TechnicianSilent, TechnicianStuck
from notifications.outbox import Audience, Message, enqueue

log = logging.getLogger("truckroll.risk")
HORIZON = timedelta(hours=12)
# A technician on shift with work ahead who has sent no position for this long, or who has not
# moved for this long while driving to a job, is checked on.
SILENCE = timedelta(minutes=20)


async def rematch_candidates(
    conn: Connection,
    job_id: UUID,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
    cache: FleetCache | None = None,
    limit: int = 3,
) -> list[Candidate]:
    """The best technicians to take the job over, as a dispatcher reads them."""
    job = await jobs.get_job(conn, SYSTEM, job_id)
    ctx = await context.context(conn, job, routing)
    try:
        ranking = await context.rank(conn, ctx, settings, now=now, limit=limit + 1, cache=cache)
    except DomainError:
        return []
    return [
        Candidate(technician_id=c.technician_id, name=c.name, score=c.score, reason=c.reason)
        for c in ranking.candidates
        if c.technician_id != job.technician_id
    ][:limit]


async def scan(
    conn: Connection,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
    cache: FleetCache | None = None,
) -> int:
    """Raise an alert for every job newly at risk in the hours ahead; how many were raised."""
    raised = 0
    for row in await risk_queries.open_jobs_near(conn, now - HORIZON, now + HORIZON):
        for risk in risks_of_row(row, now):
            if not await risk_queries.raise_alert(conn, row["id"], risk.value):
                continue
            raised += 1
            candidates = await rematch_candidates(
                conn, row["id"], settings, routing=routing, now=now, cache=cache
            )
            await job_changes.record(conn, row["id"], "at_risk", SYSTEM, data={"risk": risk.value})
            await enqueue(
                conn,
                Message(
                    JobAtRisk(risk=risk.value, candidates=candidates),
                    Audience.DISPATCHER,
                    job_id=row["id"],
                    technician_id=row["technician_id"],
                    territory_id=await job_records.job_territory(conn, row["id"]),
                    urgency="high",
                ),
            )
    quiet = await position_queries.silent_technicians(conn, now, now - SILENCE)
    stuck = await position_queries.stuck_technicians(conn, now - SILENCE)
    person_risks: tuple[tuple[str, type[TechnicianSilent | TechnicianStuck], list[Record]], ...] = (
        ("technician_silent", TechnicianSilent, quiet),
        ("technician_stuck", TechnicianStuck, stuck),
    )
    for person_risk, notice, rows in person_risks:
        for row in rows:
            if not await risk_queries.raise_alert(conn, row["next_job"], person_risk):
                continue
            raised += 1
            await job_changes.record(conn, row["next_job"], "at_risk", SYSTEM, data={"risk": person_risk})
            candidates = await rematch_candidates(
                conn, row["next_job"], settings, routing=routing, now=now, cache=cache
            )
            await enqueue(
                conn,
                Message(
                    notice(last_fix_at=row["last_fix"], candidates=candidates),
                    Audience.DISPATCHER,
                    job_id=row["next_job"],
                    technician_id=row["technician_id"],
                    territory_id=await job_records.job_territory(conn, row["next_job"]),
                    urgency="high",
                ),
            )
    return raised


async def watch(
    pool: Pool,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    clock: Callable[[], datetime],
    every_s: float,
    cache: FleetCache | None = None,
    retention_days: int = 30,
) -> None:
    """Scan forever, every `every_s` seconds; a failed scan is logged and the next one goes on."""
    while True:
        await asyncio.sleep(every_s)
        try:
            now = clock()
            async with pool.acquire() as conn, conn.transaction():
                await scan(cast(Connection, conn), settings, routing=routing, now=now, cache=cache)
            async with pool.acquire() as conn, conn.transaction():
                await maintain_partitions(
                    cast(Connection, conn), today=now.date(), retention_days=retention_days
                )
        except asyncio.CancelledError:
            raise
        except Exception:  # a scan must never stop the watch
            log.exception("at-risk scan failed")
