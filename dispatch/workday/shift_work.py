"""A technician's reports on their own day: shift and breaks, running late, calling in sick."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import msgspec

from dispatch.access.accounts import Principal
from dispatch.jobs import changes as job_changes, records as job_records
from dispatch.matching.candidates import MatchSettings
from dispatch.models import JobStatus
from dispatch.tracking.risk_watch import rematch_candidates
from dispatch.travel.sources import TravelTimes
from dispatch.workday import report_queries
from infra.db import Connection
from infra.errors import ConflictError
from notifications.notices import AssignmentChanged, Delayed, Offer, TechnicianRunningLate, TechnicianSick
from notifications.outbox import Audience, Message, enqueue, job_topic


class ReportResult(msgspec.Struct, frozen=True, kw_only=True):
    report_id: int
    kind: str
    affected_jobs: list[UUID]


def _me(principal: Principal) -> UUID:
    assert principal.technician_id is not None, "a technician token always names its technician"
    return principal.technician_id


async def report_shift(
    conn: Connection, principal: Principal, kind: str, client_at: datetime | None, *, now: datetime
) -> ReportResult:
    tech = _me(principal)
    shift = await report_queries.current_shift(conn, tech, client_at or now)
    if shift is None:
        raise ConflictError(f"{kind}: you have no shift now", field="kind")
    report = await report_queries.insert_report(conn, tech, kind, shift_id=shift["id"], client_at=client_at)
    return ReportResult(report_id=report, kind=kind, affected_jobs=[])


async def running_late(
    conn: Connection, principal: Principal, minutes: int, reason: str, *, now: datetime
) -> ReportResult:
    """Every job not yet reached moves `minutes` later; customers whose window that breaks hear
    it with an apology, the dispatchers hear of the whole day."""
    tech = _me(principal)
    report = await report_queries.insert_report(conn, tech, "running_late", minutes=minutes, reason=reason)
    affected: list[UUID] = []
    delay = timedelta(minutes=minutes)
    territory = None
    for row in await report_queries.remaining_jobs(conn, tech):
        expected = (row["eta_at"] or row["planned_start_at"] or now) + delay
        await job_changes.write(
            conn,
            row["id"],
            JobStatus(row["status"]),
            job_changes.expected_at("running_late", expected),
            principal,
            reason=reason,
            data={"minutes": minutes, "eta_at": expected.isoformat()},
        )
        affected.append(row["id"])
        territory = territory or await job_records.job_territory(conn, row["id"])
        if expected > row["window_end_at"]:
            await enqueue(
                conn,
                Message(
                    Delayed(eta_at=expected),
                    Audience.CUSTOMER,
                    job_id=row["id"],
                    technician_id=tech,
                    territory_id=territory,
                    topic=job_topic(row["id"]),
                    urgency="high",
                ),
            )
    await enqueue(
        conn,
        Message(
            TechnicianRunningLate(minutes=minutes, reason=reason, jobs=affected),
            Audience.DISPATCHER,
            technician_id=tech,
            territory_id=territory,
            urgency="high",
        ),
    )
    return ReportResult(report_id=report, kind="running_late", affected_jobs=affected)


async def call_in_sick(
    conn: Connection,
    principal: Principal,
    reason: str,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
) -> ReportResult:
    """The rest of the day goes back to dispatch: every job not yet under way is unassigned and
    offered for re-matching, and the shift ends now (or is dropped if it had not begun)."""
    tech = _me(principal)
    shift = await report_queries.current_shift(conn, tech, now)
    report = await report_queries.insert_report(
        conn, tech, "sick", shift_id=shift["id"] if shift else None, reason=reason
    )
    released: list[UUID] = []
    for row in await report_queries.remaining_jobs(conn, tech):
        if row["status"] == JobStatus.EN_ROUTE.value:
            # They are on the road to it: the dispatcher decides, the job stays visible at risk.
            continue
        await job_changes.write(
            conn,
            row["id"],
            JobStatus(row["status"]),
            job_changes.back_to_dispatch("technician_sick"),
            principal,
            reason=reason,
        )
        released.append(row["id"])
    if shift is not None:
        if shift["starts_at"] > now:
            await report_queries.delete_shift(conn, shift["id"])
        else:
            await report_queries.end_shift_at(conn, shift["id"], now)
    territory = None
    offers: list[Offer] = []
    for job_id in released:
        territory = territory or await job_records.job_territory(conn, job_id)
        candidates = await rematch_candidates(conn, job_id, settings, routing=routing, now=now, cache=None)
        offers.append(Offer(job_id=job_id, candidates=candidates))
        await enqueue(
            conn,
            Message(
                AssignmentChanged(),
                Audience.CUSTOMER,
                job_id=job_id,
                territory_id=territory,
                topic=job_topic(job_id),
            ),
        )
    await enqueue(
        conn,
        Message(
            TechnicianSick(reason=reason, jobs=offers),
            Audience.DISPATCHER,
            technician_id=tech,
            territory_id=territory,
            urgency="high",
        ),
    )
    return ReportResult(report_id=report, kind="sick", affected_jobs=released)
