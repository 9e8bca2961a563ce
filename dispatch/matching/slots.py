"""Bookable arrival windows: for a site and a problem, the windows over the next days in which at
least one qualified technician can still take the job without breaking any other promise.

Windows are cut from each day's shifts, aligned to their length from local midnight (8:00-10:00,
10:00-12:00 for two hours), and ranked by the best candidate's score, so the windows that cost the
fleet least come first. Booking one creates the job through intake and assigns it in the same
transaction; if nobody can take that window any more, nothing is kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from assets.models import AssetId
from dispatch.access.accounts import Principal
from dispatch.intake import calls as intake
from dispatch.intake.calls import IntakeRequest
from dispatch.jobs import changes as job_changes, records as job_records, records as jobs
from dispatch.jobs.lifecycle import REBOOKABLE
from dispatch.matching import route_queries
from dispatch.matching.assignment import Assignment, assign
from dispatch.matching.candidates import JobToPlace, MatchSettings, NeededPart
from dispatch.matching.context import DAY_MARGIN, travel_for
from dispatch.matching.days import build_days
from dispatch.matching.fleet_view import FleetView, screen_static
from dispatch.matching.ranking import Matcher
from dispatch.models import JobStatus
from dispatch.travel.geocoding import Geocoder
from dispatch.travel.sources import TravelTimes
from infra.db import Connection
from infra.errors import ConflictError
from notifications.notices import JobRemoved
from notifications.outbox import Audience, Message, enqueue


class Slot(msgspec.Struct, frozen=True, kw_only=True):
    window_start_at: datetime
    window_end_at: datetime
    score: float  # the best candidate's score for this window (lower is better)
    technicians: int  # how many could take it


class SlotOffer(msgspec.Struct, frozen=True, kw_only=True):
    site_id: UUID
    problem_code: str
    choice: str | None
    required_skills: dict[str, int]
    duration_s: int
    slots: list[Slot]


async def offer(
    conn: Connection,
    request: IntakeRequest,
    settings: MatchSettings,
    *,
    geocoder: Geocoder | None,
    routing: TravelTimes | None,
    now: datetime,
    days: int,
    length_s: int,
    limit: int,
    technicians: Sequence[UUID] | None = None,
) -> SlotOffer:
    """`technicians`: only these may take the windows offered (a bound dispatcher's territory)."""
    call = await intake.understand(conn, request, geocoder=geocoder)
    predicted = await intake.predicted_parts(
        conn, asset=call.asset, problem_code=call.problem.code, choice=call.variant.choice
    )
    place = await route_queries.job_place(conn, call.site.id)
    zone = ZoneInfo(place.timezone)
    served = await route_queries.asset_servers(conn, AssetId(call.asset.id) if call.asset else None)
    customer = await job_records.current_occupant(conn, call.site.id)
    preferences = await route_queries.customer_preferences(conn, request.customer_id or customer)
    base = JobToPlace(
        id=call.site.id,
        point=place.point,
        earliest=now.timestamp(),
        latest=now.timestamp(),
        duration_s=float(call.duration_s),
        required_skills=call.skills,
        territory_id=place.territory_id,
        timezone=place.timezone,
        parts=[
            NeededPart(p.part.part_id, p.part.sku, p.part.name, p.quantity, p.probability, p.carry)
            for p in predicted
        ],
        asset_label="this " + call.asset.kind.replace("_", " ") if call.asset else "this asset",
        excluded=frozenset(t for t, kind in preferences.items() if kind == "excluded"),
        preferred=frozenset(t for t, kind in preferences.items() if kind == "preferred"),
        served=served,
    )
    everyone = await route_queries.technicians(conn, technicians)
    kept, _ = screen_static(everyone, base, reach_km=settings.reach_km)
    first_day = now.astimezone(zone).date()
    horizon_end = datetime.combine(first_day + timedelta(days=days), time(0), zone)
    travel = travel_for(place, routing)
    shifts = await route_queries.shifts_overlapping(conn, [t.id for t in kept], now, horizon_end)
    with_shift = sorted({s.technician_id for s in shifts})
    visits = await route_queries.planned_visits(conn, with_shift, now - DAY_MARGIN, horizon_end + DAY_MARGIN)
    finished = await route_queries.last_finished(conn, with_shift, now - DAY_MARGIN)
    all_days = build_days(shifts, visits, now=now, finished=finished)
    part_ids = [p.part_id for p in base.parts]
    vans = await route_queries.van_stock(conn, part_ids)
    depots = await route_queries.depots_holding(conn, part_ids)
    slots: list[Slot] = []
    for offset in range(days):
        midnight = datetime.combine(first_day + timedelta(days=offset), time(0), zone).timestamp()
        todays = [d for d in all_days if d.start_at < midnight + 86400 and d.end_latest > midnight]
        if not todays:
            continue
        fleet = await FleetView.build(everyone, todays, travel)
        opens = max(min(d.start_at for d in todays), now.timestamp())
        closes = max(d.end_latest for d in todays) - call.duration_s
        start = midnight + math.ceil((opens - midnight) / length_s) * length_s
        while start <= closes:
            target = replace(base, earliest=start, latest=start + length_s)
            ranking = await Matcher(target, settings, travel).rank(fleet, vans, depots, limit=1)
            if ranking.candidates:
                slots.append(
                    Slot(
                        window_start_at=datetime.fromtimestamp(start, UTC),
                        window_end_at=datetime.fromtimestamp(start + length_s, UTC),
                        score=ranking.candidates[0].score,
                        technicians=ranking.eligible,
                    )
                )
            start += length_s
    slots.sort(key=lambda s: (s.score, s.window_start_at))
    return SlotOffer(
        site_id=call.site.id,
        problem_code=call.problem.code,
        choice=call.variant.choice or None,
        required_skills=call.skills,
        duration_s=call.duration_s,
        slots=slots[:limit],
    )


class Booking(msgspec.Struct, frozen=True, kw_only=True):
    matched_by: str
    assignment: Assignment


async def book(
    conn: Connection,
    principal: Principal,
    request: IntakeRequest,
    settings: MatchSettings,
    *,
    geocoder: Geocoder | None,
    routing: TravelTimes | None,
    now: datetime,
) -> Booking:
    """Create the job for the chosen window and give it to the best technician, or nothing at all."""
    taken = await intake.take_call(conn, principal, request, geocoder=geocoder)
    try:
        assigned = await assign(
            conn, principal, taken.job.id, settings, technician_id=None, routing=routing, now=now
        )
    except ConflictError:
        raise ConflictError(
            "this arrival window is no longer available; choose another (GET /slots)", field="window_start_at"
        ) from None
    return Booking(matched_by=taken.matched_by, assignment=assigned)


async def offer_for_job(
    conn: Connection,
    job_id: UUID,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
    days: int,
    length_s: int,
    limit: int,
) -> SlotOffer:
    """The windows a customer could move their visit to: the same site, asset, problem and choice."""
    row = await job_records.job_for_rebooking(conn, job_id)
    request = IntakeRequest(
        problem_code=row.problem_code,
        problem_text=None,
        choice=row.customer_choice,
        window_start_at=now,
        window_end_at=now,
        site_id=row.site_id,
        asset_id=row.asset_id,
        customer_id=row.customer_id,
    )
    return await offer(
        conn,
        request,
        settings,
        geocoder=None,
        routing=routing,
        now=now,
        days=days,
        length_s=length_s,
        limit=limit,
    )


async def reschedule(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    window_start_at: datetime,
    window_end_at: datetime,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
) -> Assignment:
    """Move a visit the technician has not set off for to another window and give it to whoever
    can take it then (dispatched at once when that day is released); a dispatched visit comes off
    its technician's phone. If nobody can take it, 409 and the visit stays as it was (the
    caller's transaction rolls back)."""
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    if job.status not in REBOOKABLE or job.pinned:
        raise ConflictError("this visit can no longer be moved here; please call us", field="status")
    jobs.check_window(window_start_at, window_end_at)
    previous = job.technician_id
    await job_changes.write(
        conn,
        job.id,
        job.status,
        job_changes.back_to_dispatch(
            "rescheduled", also={"window_start_at": window_start_at, "window_end_at": window_end_at}
        ),
        principal,
        data={
            "from": [job.window_start_at.isoformat(), job.window_end_at.isoformat()],
            "to": [window_start_at.isoformat(), window_end_at.isoformat()],
        },
    )
    removed = Message(
        JobRemoved(rescheduled_by_customer=True), Audience.TECHNICIAN, job_id=job.id, technician_id=previous
    )
    if previous is not None and job.status is JobStatus.DISPATCHED:
        # Off the phone it was released to before anything re-adds it: a phone applies its
        # notices in order, and the same technician may take the new window.
        await enqueue(conn, removed)
    try:
        assigned = await assign(
            conn, principal, job.id, settings, technician_id=None, routing=routing, now=now
        )
    except ConflictError:
        raise ConflictError(
            "window_start_at: nobody can come in this window any more; choose another",
            field="window_start_at",
        ) from None
    if (
        previous is not None
        and job.status is not JobStatus.DISPATCHED
        and previous != assigned.job.technician_id
    ):
        await enqueue(conn, removed)
    return assigned
