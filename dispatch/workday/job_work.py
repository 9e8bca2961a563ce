"""The job as the technician works it: status reports, notes, parts used, the outcome.

Every change is a job event (with the app's clock when it came from the app) and every change a
customer or technician must hear of is written to the outbox in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from assets import asset_queries, attribute_history
from assets.models import AssetEventKind, AssetId, PartId, PartQuantity
from dispatch.access.accounts import Principal, Role
from dispatch.errors import VanShort
from dispatch.fleet import stock as fleet_stock
from dispatch.jobs import changes as job_changes, day_release, records as job_records, records as jobs
from dispatch.jobs.lifecycle import REPORTABLE, TECHNICIAN_REPORTABLE, allowed_words, judge
from dispatch.models import Job, JobStatus, Note, PartSource
from dispatch.tracking import eta_updates, positions, positions as tracked_positions
from dispatch.tracking.positions import Batch, Ping
from dispatch.travel.sources import TravelTimes
from dispatch.workday import work_queries
from infra.db import Connection
from infra.errors import ConflictError, InvalidError
from notifications.notices import (
    Arrived,
    Completed,
    FollowUpBooked,
    FollowUpNeeded,
    Notice,
    OnTheWay,
)
from notifications.outbox import Audience, Message, enqueue, job_topic

S = JobStatus
# How far ahead a phone's clock may be before its times are not believed.
CLOCK_SKEW = timedelta(minutes=5)
SUMMARY_CHARS = 2000  # what asset_events.summary holds


class StatusResult(msgspec.Struct, frozen=True, kw_only=True):
    job: Job
    applied: bool  # False: the report was stale (the job had moved past it) and only recorded
    follow_up_job_id: UUID | None = None


@dataclass(frozen=True)
class StatusReport:
    status: JobStatus
    client_at: datetime | None = None
    reason: str = ""
    missing_parts: Sequence[tuple[UUID, int]] = ()  # for an incomplete visit: what to bring next time
    position: Ping | None = None  # where the phone is as it reports (stored as a ping)


def _client_time(client_at: datetime | None, now: datetime) -> datetime | None:
    if client_at is not None and client_at > now + CLOCK_SKEW:
        raise InvalidError(
            "client_at: this time is in the future; check the phone's clock", field="client_at"
        )
    return client_at


async def _messages_for(
    conn: Connection, job: Job, status: JobStatus, *, follow_up: UUID | None
) -> list[Message]:
    first = await job_records.technician_first_name(conn, job.technician_id) if job.technician_id else None
    territory = await job_records.job_territory(conn, job.id)

    def message(
        notice: Notice,
        audience: Audience,
        *,
        topic: str | None = None,
        urgency: str = "normal",
        ttl_s: int = 3600,
    ) -> Message:
        return Message(
            notice,
            audience,
            job_id=job.id,
            technician_id=job.technician_id,
            territory_id=territory,
            topic=topic,
            urgency=urgency,
            ttl_s=ttl_s,
        )

    topic = job_topic(job.id)
    if status is S.DISPATCHED:
        return [day_release.dispatched_message(job.id, job.technician_id, territory, job.planned_start_at)]
    if status is S.EN_ROUTE:
        notice = OnTheWay(technician=first, eta_at=job.eta_at)
        return [message(notice, Audience.CUSTOMER, topic=topic, urgency="high")]
    if status is S.ON_SITE:
        return [message(Arrived(technician=first), Audience.CUSTOMER, topic=topic, urgency="high")]
    if status is S.COMPLETED:
        # The tracking page the customer already has open asks for the rating once the visit is over.
        return [
            message(Completed(technician=first, ask_rating=True), Audience.CUSTOMER, topic=topic, ttl_s=86400)
        ]
    if status is S.INCOMPLETE:
        return [
            message(FollowUpBooked(follow_up_job_id=follow_up), Audience.CUSTOMER),
            message(
                FollowUpNeeded(follow_up_job_id=follow_up, reason=job.outcome_reason),
                Audience.DISPATCHER,
                urgency="high",
            ),
        ]
    return []


async def report_status(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    report: StatusReport,
    *,
    now: datetime | None = None,
    routing: TravelTimes | None = None,
) -> StatusResult:
    now = now or datetime.now(UTC)
    client_at = _client_time(report.client_at, now)
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    wanted = report.status
    if wanted not in REPORTABLE:
        raise InvalidError(
            "status: new, scheduled and cancelled come from assignment, overrides and cancel;"
            " report dispatched, en_route, on_site, completed or incomplete",
            field="status",
        )
    if principal.role is Role.TECHNICIAN and wanted not in TECHNICIAN_REPORTABLE:
        raise InvalidError(
            "status: a technician reports en_route, on_site, completed or incomplete", field="status"
        )
    verdict = judge(job.status, wanted)
    if verdict.stale:
        await job_changes.record(
            conn,
            job.id,
            "status_stale",
            principal,
            from_status=job.status,
            to_status=wanted,
            reason=report.reason,
            client_at=client_at,
            data={"applied": False, "why": f"the job is already {job.status.value}"},
        )
        return StatusResult(job=job, applied=False)
    if not verdict.apply:
        raise ConflictError(
            f"status: a {job.status.value} job cannot become {wanted.value}; it can become"
            f" {allowed_words(verdict.allowed)}",
            field="status",
            candidates=[{"status": s.value} for s in sorted(verdict.allowed & REPORTABLE)],
        )
    at = client_at or now
    changes: dict[str, object] = {"status_client_at": client_at}
    follow_up: UUID | None = None
    if wanted is S.EN_ROUTE:
        # What the "on the way" message tells the customer, and what later pings are held to.
        eta = await _set_off_eta(conn, principal, job, report.position, now=now, routing=routing)
        changes |= {"eta_at": eta, "eta_told_at": eta}
    if wanted is S.ON_SITE:
        changes["started_at"] = at
    if wanted in (S.COMPLETED, S.INCOMPLETE):
        if wanted is S.INCOMPLETE and not report.reason.strip():
            raise InvalidError(
                "reason: say why the visit could not finish (e.g. a part was missing)", field="reason"
            )
        changes |= {"finished_at": at, "outcome": wanted.value, "outcome_reason": report.reason}
    # Where the report was made from: the customer's page counts this fix as one from the way,
    # though the phone took it a moment before the report reached us.
    where: dict[str, object] | None = (
        {"position_at": report.position.recorded_at.isoformat()} if report.position else None
    )
    await job_changes.write(
        conn,
        job.id,
        job.status,
        job_changes.reported(wanted, changes),
        principal,
        reason=report.reason,
        data=where,
        client_at=client_at,
        through=verdict.through,
    )
    if wanted is S.COMPLETED:
        await _record_on_asset(conn, job, report.reason, at)
    if wanted is S.INCOMPLETE:
        follow_up = await _follow_up(conn, principal, job, report, now=now)
    updated = await jobs.get_job(conn, principal, job.id)
    await enqueue(conn, *await _messages_for(conn, updated, wanted, follow_up=follow_up))
    return StatusResult(job=updated, applied=True, follow_up_job_id=follow_up)


async def _set_off_eta(
    conn: Connection,
    principal: Principal,
    job: Job,
    position: Ping | None,
    *,
    now: datetime,
    routing: TravelTimes | None,
) -> datetime | None:
    """From the technician's freshest position (the one sent with the report, if any), else the
    plan's: one honest number, not the plan from home followed by a correction a ping later."""
    if job.technician_id is None:
        return job.eta_at
    if position is not None:
        if principal.technician_id != job.technician_id:
            raise InvalidError(
                "position: only the technician's own phone says where they are", field="position"
            )
        (stored,) = await positions.record_many(
            conn, [Batch(job.technician_id, [position], now)], routing=routing
        )
        if stored.rejected:
            raise InvalidError(
                f"position.recorded_at: {stored.rejected[0].reason}", field="position.recorded_at"
            )
    rows = await tracked_positions.context(conn, [job.technician_id], now)
    row = next((r for r in rows if r["id"] == job.id), None)
    if row is None:
        return job.eta_at
    fix = None if row["fix_at"] is None else (row["fix_at"], row["fix_latitude"], row["fix_longitude"])
    return await eta_updates.set_off_eta(row, fix, now=now, routing=routing) or job.eta_at


def visit_summary(reason: str, notes: Sequence[str], fitted: Sequence[tuple[str, int]]) -> str:
    """What the technician did, in their words (the outcome's reason, then their notes), and what
    they fitted: the next technician reads this in the asset's history, not what the customer
    said was wrong when booking."""
    said = [text.strip() for text in (reason, *notes) if text.strip()]
    if fitted:
        said.append("Fitted " + ", ".join(f"{quantity} x {sku}" for sku, quantity in fitted) + ".")
    return "\n".join(said)[:SUMMARY_CHARS] or "Completed; no notes, no parts fitted."


def _work_done(customer_choice: str | None) -> AssetEventKind:
    """The kind of work is the service booked (a windshield repaired or replaced), else a repair:
    parts fitted do not make a visit a replacement (a chip repair uses a resin kit)."""
    kinds = {kind.value: kind for kind in AssetEventKind}
    return kinds.get(customer_choice or "", AssetEventKind.REPAIR)


async def _record_on_asset(conn: Connection, job: Job, reason: str, at: datetime) -> None:
    """A finished job becomes part of the asset's history, with the parts that went into it."""
    if job.asset_id is None:
        return
    used: dict[UUID, int] = {}
    fitted: dict[str, int] = {}
    for part in await work_queries.parts_used(conn, job.id):
        used[part.part_id] = used.get(part.part_id, 0) + part.quantity
        fitted[part.sku] = fitted.get(part.sku, 0) + part.quantity
    notes = await work_queries.note_texts(conn, job.id)
    event_id = await asset_queries.insert_asset_event(
        conn,
        asset_id=AssetId(job.asset_id),
        kind=_work_done(job.customer_choice),
        occurred_at=at,
        summary=visit_summary(reason, notes, list(fitted.items())),
        problem_code=job.problem_code,
        technician_id=job.technician_id,
        job_id=job.id,
        external_id=None,
        parts=[PartQuantity(part_id=PartId(p), quantity=q) for p, q in used.items()],
    )
    # What was fitted tells what the asset is: the record learns it, with this visit as source.
    await attribute_history.learn_from_visit(
        conn, AssetId(job.asset_id), used, at=at, asset_event_id=event_id, job_id=job.id
    )


async def _follow_up(
    conn: Connection, principal: Principal, job: Job, report: StatusReport, *, now: datetime
) -> UUID:
    """The return visit: same site, asset and problem, the missing parts on it, a day later."""
    skus = await work_queries.part_skus(conn, [p for p, _ in report.missing_parts])
    for index, (part_id, _) in enumerate(report.missing_parts):
        if part_id not in skus:
            raise InvalidError(
                f"missing_parts[{index}].part_id: no part with this id",
                field=f"missing_parts[{index}].part_id",
            )
    length = job.window_end_at - job.window_start_at
    start = max(job.window_start_at + timedelta(days=1), now)
    follow_up = await job_records.insert_job(
        conn,
        {
            "site_id": job.site_id,
            "asset_id": job.asset_id,
            "customer_id": job.customer_id,
            # Follow-ups hang off the first visit, so a visit's parts are one first visit's.
            "parent_job_id": job.parent_job_id or job.id,
            "problem_code": job.problem_code,
            "problem_description": f"Follow-up: {report.reason}"[:2000],
            "customer_choice": job.customer_choice,
            "required_skills": job.required_skills,
            "duration_s": job.duration_s,
            "duration_source": job.duration_source.value,
            "window_start_at": start,
            "window_end_at": start + length,
            "priority": max(1, job.priority - 1),
        },
    )
    await job_records.replace_job_parts(
        conn,
        follow_up,
        [
            (PartId(p), q, 1.0, PartSource.MANUAL, ["missing on the first visit"])
            for p, q in report.missing_parts
        ],
    )
    await job_changes.record(
        conn,
        follow_up,
        "created",
        principal,
        to_status=S.NEW,
        reason=report.reason,
        data={"follow_up_of": str(job.id)},
    )
    return follow_up


async def add_note(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    text: str,
    client_at: datetime | None,
    *,
    now: datetime | None = None,
) -> Note:
    job = await jobs.get_job(conn, principal, job_id)
    note = await work_queries.insert_note(
        conn, job.id, principal.user_id, text, _client_time(client_at, now or datetime.now(UTC))
    )
    await job_changes.record(conn, job.id, "note", principal, client_at=client_at, data={"note_id": note.id})
    return note


class PartsUsedResult(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    parts: list[work_queries.PartUsed]


async def use_parts(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    parts: Sequence[tuple[UUID, int]],
    client_at: datetime | None,
    *,
    now: datetime | None = None,
) -> PartsUsedResult:
    """Parts fitted on the job come off the technician's van, all or none; never below zero."""
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    client_at = _client_time(client_at, now or datetime.now(UTC))
    if job.status not in (S.ON_SITE, S.COMPLETED, S.INCOMPLETE) or job.technician_id is None:
        raise ConflictError(f"parts are used on site; this job is {job.status.value}", field="status")
    van = await fleet_stock.van_of(conn, job.technician_id)
    skus = await work_queries.part_skus(conn, [p for p, _ in parts])
    short: list[dict[str, object]] = []
    # Lock in a fixed order so two reports from one van cannot deadlock.
    wanted: dict[UUID, int] = {}
    for index, (part_id, quantity) in enumerate(parts):
        if part_id not in skus:
            raise InvalidError(
                f"parts[{index}].part_id: no part with this id", field=f"parts[{index}].part_id"
            )
        wanted[part_id] = wanted.get(part_id, 0) + quantity
    available: dict[UUID, int] = {}
    for part_id in sorted(wanted):
        available[part_id] = await fleet_stock.quantity_for_update(conn, van.id, part_id) if van else 0
        if available[part_id] < wanted[part_id]:
            short.append(
                {
                    "part_id": str(part_id),
                    "sku": skus[part_id],
                    "available": available[part_id],
                    "asked": wanted[part_id],
                }
            )
    if short or van is None:
        words = "; ".join(f"{s['sku']}: {s['available']} on the van, {s['asked']} asked" for s in short)
        raise VanShort(
            f"parts: not enough on the van ({words}); nothing was taken", field="parts", candidates=short
        )
    for part_id in sorted(wanted):
        await fleet_stock.set_quantity(conn, van.id, part_id, available[part_id] - wanted[part_id])
    for part_id, quantity in parts:
        await work_queries.insert_part_used(conn, job.id, part_id, quantity, job.technician_id, client_at)
    await job_changes.record(
        conn,
        job.id,
        "parts_used",
        principal,
        client_at=client_at,
        data={"parts": [{"sku": skus[p], "quantity": q} for p, q in parts]},
    )
    return PartsUsedResult(job_id=job.id, parts=await work_queries.parts_used(conn, job.id))


async def job_notes(
    conn: Connection, principal: Principal, job_id: UUID, *, limit: int, offset: int
) -> list[Note]:
    """The notes of a job the principal may see, oldest first."""
    await jobs.get_job(conn, principal, job_id)
    return await work_queries.list_notes(conn, job_id, limit=limit, offset=offset)
