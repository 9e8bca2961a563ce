"""Ranking technicians for a stored job, and assigning it: the route is re-planned in the same
transaction, under a lock on the technician, so two assignments never break one day between them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec

from assets import asset_queries
from assets.models import AssetId
from dispatch import day_release, job_queries, jobs, route_queries, scope
from dispatch.accounts import Principal
from dispatch.days import build_days
from dispatch.eligibility import Exclusion
from dispatch.fleet_cache import FleetCache
from dispatch.matching import (
    Candidate,
    FleetView,
    JobToPlace,
    Matcher,
    MatchSettings,
    NeededPart,
    Ranking,
    screen_static,
)
from dispatch.models import Job, JobStatus
from dispatch.road_class_travel import ClassedTravel, road_learned
from dispatch.route_plan import Day, Visit, build
from dispatch.route_queries import JobPlace
from dispatch.travel import GeodesicTravel, OsrmTravel, RoutedTravel, TravelSettings, TravelTimes
from dispatch.travel_learning import LearnedTravel, learned
from infra.db import Connection
from infra.errors import ConflictError, InvalidError
from notifications.notices import Assigned, JobAdded
from notifications.outbox import Audience, Message, enqueue, job_topic

# A day's planned visits are read this far either side of the job's window, so a shift that
# starts the evening before or runs past midnight is whole.
DAY_MARGIN = timedelta(days=1)

EXCLUSION_WORDS = {
    Exclusion.INACTIVE: "is not active",
    Exclusion.SKILL: "lacks a required skill level",
    Exclusion.EXCLUDED_BY_CUSTOMER: "is excluded by the customer",
    Exclusion.OUT_OF_REACH: "works too far from this site",
    Exclusion.OFF_SHIFT: "has no shift with time in the job's window",
    Exclusion.NO_ROOM: "has no room in that day without breaking another promise",
}


class Assignment(msgspec.Struct, frozen=True, kw_only=True):
    job: Job
    candidate: Candidate
    replanned: list[UUID]  # other jobs of that day whose planned time moved


@dataclass(frozen=True)
class Context:
    job: Job
    place: JobPlace
    target: JobToPlace
    travel: TravelTimes

    @property
    def travel_key(self) -> Hashable:
        """Which travel model timed a cached fleet view."""
        travel = self.travel
        if isinstance(travel, RoutedTravel):
            # The router is one per process; the model behind it differs by territory.
            return ("routing", id(travel.router), _travel_key(travel.via), _travel_key(travel.model))
        return _travel_key(travel)


def _travel_key(travel: TravelTimes) -> Hashable:
    learned = None
    if isinstance(travel, ClassedTravel):
        # A fleet view is one-to-many times: the table's, by the hour, as with LearnedTravel.
        learned = (travel.factors, travel.hour)
        travel = travel.router
    elif isinstance(travel, LearnedTravel):
        learned = (travel.factors, travel.hour)
        travel = travel.source
    if not isinstance(travel, GeodesicTravel):
        return ("routing", id(travel), learned)
    s = travel.settings
    return ("geodesic", s.circuity_factor, s.speed_kmh, s.stop_overhead_s, learned)


def travel_for(place: JobPlace, routing: TravelTimes | None, *, at: datetime | None = None) -> TravelTimes:
    """The configured road-network service, else the territory's geodesic model; either scaled
    by what the territory's trips taught about it, at the local hour of `at` (all hours if None).
    With a road router, the model answers for whatever the router cannot."""
    hour = None if at is None else at.astimezone(ZoneInfo(place.timezone)).hour
    model = GeodesicTravel(
        TravelSettings(
            circuity_factor=place.circuity_factor,
            speed_kmh=place.speed_kmh,
            stop_overhead_s=place.stop_overhead_s,
        )
    )
    modelled = learned(model, place.straight_line, hour)
    if isinstance(routing, OsrmTravel):
        # Each source scaled by what was learned of it: the model stands in for a failing router
        # with its own factors, not the router's.
        return RoutedTravel(
            routing, modelled, via=road_learned(routing, place.road_router, at, place.timezone)
        )
    if routing is not None:
        return learned(routing, place.road_router, hour)
    return modelled


async def context(conn: Connection, job: Job, routing: TravelTimes | None) -> Context:
    place = await route_queries.job_place(conn, job.site_id)
    asset_label = "this asset"
    if job.asset_id is not None:
        asset = await asset_queries.get_asset(conn, AssetId(job.asset_id))
        if asset is not None:
            asset_label = "this " + asset.kind.replace("_", " ")
    preferences = await route_queries.customer_preferences(conn, job.customer_id)
    earliest, latest = job.window_start_at.timestamp(), job.window_end_at.timestamp()
    target = JobToPlace(
        id=job.id,
        point=place.point,
        earliest=earliest,
        latest=latest,
        duration_s=float(job.duration_s),
        required_skills=job.required_skills,
        territory_id=place.territory_id,
        timezone=place.timezone,
        parts=[NeededPart(p.part_id, p.sku, p.name, p.quantity, p.probability, p.carry) for p in job.parts],
        asset_label=asset_label,
        excluded=frozenset(t for t, kind in preferences.items() if kind == "excluded"),
        preferred=frozenset(t for t, kind in preferences.items() if kind == "preferred"),
        served=await route_queries.asset_servers(conn, job.asset_id),
    )
    return Context(
        job=job, place=place, target=target, travel=travel_for(place, routing, at=job.window_start_at)
    )


async def _days_between(
    conn: Connection,
    technician_ids: Sequence[UUID],
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    leaving_out: UUID | None = None,
) -> list[Day]:
    """Days of shifts with working time between start and end; `leaving_out` is a job being
    re-matched, so it does not compete with itself."""
    shifts = await route_queries.shifts_overlapping(conn, technician_ids, max(start, now), end)
    if not shifts:
        return []
    with_shift = sorted({s.technician_id for s in shifts})
    visits = await route_queries.planned_visits(conn, with_shift, start - DAY_MARGIN, end + DAY_MARGIN)
    if leaving_out is not None:
        visits = [v for v in visits if v.job_id != leaving_out]
    finished = await route_queries.last_finished(conn, with_shift, now - DAY_MARGIN)
    return build_days(shifts, visits, now=now, finished=finished)


async def _days(
    conn: Connection, technician_ids: Sequence[UUID], job: JobToPlace, now: datetime
) -> list[Day]:
    return await _days_between(
        conn,
        technician_ids,
        datetime.fromtimestamp(job.earliest, UTC),
        datetime.fromtimestamp(job.latest + job.duration_s, UTC),
        now,
        leaving_out=job.id,
    )


async def days_of(conn: Connection, technician_id: UUID, around: datetime, now: datetime) -> list[Day]:
    """A technician's days (fresh from the database) within a day either side of a moment."""
    return await _days_between(conn, [technician_id], around - DAY_MARGIN, around + DAY_MARGIN, now)


def _span(job: JobToPlace) -> tuple[datetime, datetime]:
    """The whole local days the job's window touches: one cached view serves every job in them."""
    zone = ZoneInfo(job.timezone)
    first = datetime.fromtimestamp(job.earliest, zone).date()
    last = datetime.fromtimestamp(job.latest + job.duration_s, zone).date()
    return datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone)


async def rank(
    conn: Connection,
    ctx: Context,
    settings: MatchSettings,
    *,
    now: datetime,
    limit: int,
    only: Sequence[UUID] | None = None,
    cache: FleetCache | None = None,
) -> Ranking:
    target = ctx.target
    if now.timestamp() > target.earliest:
        target = replace(target, earliest=max(target.earliest, now.timestamp()))
    if cache is not None and only is None and ctx.job.status is JobStatus.NEW:
        start, end = _span(target)

        async def load() -> FleetView:
            everyone = await route_queries.technicians(conn)
            days = await _days_between(conn, [t.id for t in everyone], start, end, now)
            return await FleetView.build(everyone, days, ctx.travel)

        fleet = await cache.view((ctx.travel_key, start, end), load)
    else:
        everyone = await route_queries.technicians(conn, only)
        # Only the days of technicians who pass the rules that need no route are worth reading.
        kept, _ = screen_static(everyone, target, reach_km=settings.reach_km)
        days = await _days(conn, [t.id for t in kept], target, now) if kept else []
        fleet = await FleetView.build(everyone, days, ctx.travel)
    part_ids = [p.part_id for p in target.parts]
    vans = await route_queries.van_stock(conn, part_ids)
    depots = await route_queries.depots_holding(conn, part_ids)
    return await Matcher(target, settings, ctx.travel).rank(
        fleet, vans, depots, limit=limit, only=frozenset(only) if only is not None else None
    )


async def candidates(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    settings: MatchSettings,
    *,
    routing: TravelTimes | None,
    now: datetime,
    limit: int,
    cache: FleetCache | None = None,
) -> Ranking:
    """Candidates for a dispatcher bound to a territory are its technicians only."""
    job = await jobs.get_job(conn, principal, job_id)
    if job.status not in (JobStatus.NEW, JobStatus.SCHEDULED):
        raise ConflictError(
            f"a {job.status.value} job is past matching; only new or scheduled jobs have candidates",
            field="status",
        )
    ctx = await context(conn, job, routing)
    only = await scope.technicians_in_scope(conn, principal)
    return await rank(conn, ctx, settings, now=now, limit=limit, only=only, cache=cache)


def why_not(ranking: Ranking, name: str) -> str:
    for reason, count in ranking.excluded.items():
        if count:
            return f"{name} {EXCLUSION_WORDS[Exclusion(reason)]}"
    return f"{name} cannot take this job"


async def assign(
    conn: Connection,
    principal: Principal,
    job_id: UUID,
    settings: MatchSettings,
    *,
    technician_id: UUID | None,
    routing: TravelTimes | None,
    now: datetime,
    expected_version: int | None = None,
    cache: FleetCache | None = None,
) -> Assignment:
    """Put a new job on the named technician's day, or the best candidate's (technician_id None);
    a dispatcher bound to a territory gives it to that territory's technicians only."""
    job = await jobs.get_job(conn, principal, job_id, for_update=True)
    await scope.require_reference(
        conn, principal, scope.Record.TECHNICIAN, technician_id, field="technician_id"
    )
    jobs.check_version(job, expected_version, required=False)
    if job.status is not JobStatus.NEW:
        whom = f" to technician {job.technician_id}" if job.technician_id else ""
        raise ConflictError(
            f"the job is already {job.status.value}{whom}; only a new (unassigned) job can be assigned",
            field="status",
        )
    ctx = await context(conn, job, routing)
    if technician_id is not None:
        order = [technician_id]
    else:
        # The order may come from the cached fleet; each try below re-reads the day under a lock.
        only = await scope.technicians_in_scope(conn, principal)
        ranking = await rank(conn, ctx, settings, now=now, limit=10_000, only=only, cache=cache)
        order = [c.technician_id for c in ranking.candidates]
        if not order:
            raise ConflictError(
                "no technician can take this job: "
                + ", ".join(f"{n} {EXCLUSION_WORDS[Exclusion(r)]}" for r, n in ranking.excluded.items()),
                field="auto",
            )
    last_refusal = ""
    for candidate_id in order:
        # A savepoint per try: the lock on a technician who cannot take it is let go at once.
        try:
            async with conn.transaction():
                if not await route_queries.lock_technician(conn, candidate_id):
                    raise InvalidError("technician_id: no technician with this id", field="technician_id")
                ranking = await rank(conn, ctx, settings, now=now, limit=1, only=[candidate_id])
                if not ranking.candidates:
                    raise RefusedError(why_not(ranking, "the technician"))
                return await apply(
                    conn, principal, ctx, ranking.candidates[0], settings, now=now, auto=technician_id is None
                )
        except RefusedError as refused:
            last_refusal = refused.message
            continue
    if technician_id is not None:
        raise ConflictError(last_refusal, field="technician_id")
    raise ConflictError(
        "every technician who could take the job was taken meanwhile; try again", field="auto"
    )


class RefusedError(Exception):
    """The technician's day cannot take the job (read again under the lock)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Placed:
    start: datetime  # the job's planned start
    eta: datetime
    moved: list[tuple[UUID, datetime]]  # other jobs of that day whose planned start moved, and to when
    because: UUID  # the job placed

    @property
    def moved_ids(self) -> list[UUID]:
        return [job_id for job_id, _ in self.moved]


async def place(
    conn: Connection,
    principal: Principal | None,
    ctx: Context,
    candidate: Candidate,
    settings: MatchSettings,
    *,
    now: datetime,
    changes: dict[str, object] | None = None,
) -> Placed:
    """Write the job into the candidate's day at its position and re-time every visit after it;
    `changes` are written with the job's place."""
    job = ctx.job
    days = await _days(conn, [candidate.technician_id], ctx.target, now)
    day = next(d for d in days if d.shift_id == candidate.shift_id)
    pickup = None
    if candidate.parts.detour is not None:
        depot = next(
            d
            for d in await route_queries.depots_holding(conn, [p.part_id for p in job.parts])
            if d.id == candidate.parts.detour.depot_id
        )
        pickup = depot.point
    new_visit = Visit(
        job_id=job.id,
        point=ctx.place.point,
        earliest=ctx.target.earliest,
        latest=ctx.target.latest,
        duration_s=float(job.duration_s),
        planned_start=candidate.planned_start_at.timestamp(),
        pickup=pickup,
        pickup_s=float(settings.depot_pickup_s) if pickup else 0.0,
    )
    visits = list(day.visits)
    visits.insert(candidate.position, new_visit)
    plans = await build([replace(day, visits=visits)], ctx.travel)
    if not plans.feasible[0]:
        raise RefusedError("the technician's day changed and the job no longer fits")
    times: dict[UUID, tuple[datetime, datetime]] = {}
    for i, stop in enumerate(plans.stops[0]):
        if stop.visit is not None:
            times[stop.visit.job_id] = (
                datetime.fromtimestamp(float(plans.start[0, i]), UTC),
                datetime.fromtimestamp(float(plans.arrive[0, i]), UTC),
            )
    start, eta = times[job.id]
    await job_queries.update_job(
        conn,
        job.id,
        {
            "technician_id": candidate.technician_id,
            "planned_start_at": start,
            "eta_at": eta,
            "pickup_location_id": candidate.parts.detour.depot_id if candidate.parts.detour else None,
            "pickup_s": settings.depot_pickup_s if candidate.parts.detour else 0,
            **(changes or {}),
        },
    )
    moved = [
        (v.job_id, *times[v.job_id])
        for v in day.visits
        if v.planned_start is None or abs(times[v.job_id][0].timestamp() - v.planned_start) >= 1
    ]
    await route_queries.set_plan(conn, moved)
    return Placed(start=start, eta=eta, moved=[(m[0], m[1]) for m in moved], because=job.id)


async def record_replanned(conn: Connection, principal: Principal | None, placed: Placed) -> None:
    """A `replanned` event on each visit the placing moved (after the placed job's own event)."""
    for job_id, new_start in placed.moved:
        await job_queries.insert_job_event(
            conn,
            job_id,
            "replanned",
            principal,
            data={"planned_start_at": new_start.isoformat(), "because": str(placed.because)},
        )


async def apply(
    conn: Connection,
    principal: Principal,
    ctx: Context,
    candidate: Candidate,
    settings: MatchSettings,
    *,
    now: datetime,
    auto: bool,
    event: str = "assigned",
    reason: str = "",
    pin: bool = False,
) -> Assignment:
    """Give the job to the candidate at their best place in the day, tell the technician and the
    customer, and dispatch it at once if that day is released."""
    job = ctx.job
    changes: dict[str, object] = {"status": JobStatus.SCHEDULED.value, **({"pinned": True} if pin else {})}
    placed = await place(conn, principal, ctx, candidate, settings, now=now, changes=changes)
    start = placed.start
    await job_queries.insert_job_event(
        conn,
        job.id,
        event,
        principal,
        from_status=job.status,
        to_status=JobStatus.SCHEDULED,
        reason=reason,
        data={
            "technician_id": str(candidate.technician_id),
            "auto": auto,
            "score": candidate.score,
            "reason": candidate.reason,
            "planned_start_at": start.isoformat(),
            "arrival_window": [
                candidate.arrival_window_start_at.isoformat(),
                candidate.arrival_window_end_at.isoformat(),
            ],
        },
    )
    await record_replanned(conn, principal, placed)
    first = await job_queries.technician_first_name(conn, candidate.technician_id)
    territory = await job_queries.job_territory(conn, job.id)
    window = (candidate.arrival_window_start_at, candidate.arrival_window_end_at)
    await enqueue(
        conn,
        Message(
            Assigned(technician=first, arrival_window=window),
            Audience.CUSTOMER,
            job_id=job.id,
            technician_id=candidate.technician_id,
            territory_id=territory,
            topic=job_topic(job.id),
        ),
        Message(
            JobAdded(planned_start_at=start, replanned=list(placed.moved_ids)),
            Audience.TECHNICIAN,
            job_id=job.id,
            technician_id=candidate.technician_id,
            territory_id=territory,
        ),
    )
    await day_release.release_if_due(conn, principal, [job.id], now=now)
    stored = await jobs.get_job(conn, principal, job.id)
    return Assignment(job=stored, candidate=candidate, replanned=placed.moved_ids)
