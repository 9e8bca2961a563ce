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
from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.errors import NoTechnicianCanTake
from dispatch.jobs import changes as job_changes, day_release, records as job_records, records as jobs
from dispatch.matching import route_queries
from dispatch.matching.days import build_days
from dispatch.matching.eligibility import Exclusion
from dispatch.matching.fleet_cache import FleetCache
from dispatch.matching.ranking import (
    Candidate,
    FleetView,
    JobToPlace,
    Matcher,
    MatchSettings,
    NeededPart,
    Ranking,
    screen_static,
)
from dispatch.matching.route_plan import Day, Visit, build
from dispatch.matching.route_queries import JobPlace
from dispatch.models import Job, JobStatus
from dispatch.travel.learning import LearnedTravel, learned
from dispatch.travel.sources import GeodesicTravel, OsrmTravel, RoutedTravel, TravelSettings, TravelTimes
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
    if isinstance(travel, LearnedTravel):
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
        return RoutedTravel(routing, modelled, via=learned(routing, place.road_router, hour))
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
            raise NoTechnicianCanTake(
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
    """Where a job goes in a technician's day, and what that does to the day's other visits."""

    technician_id: UUID
    start: datetime  # the job's planned start
    eta: datetime
    pickup: job_changes.Pickup | None  # the depot on the way, for parts the van lacks
    moved: list[job_changes.Retiming]  # other visits of that day whose planned start moved
    because: UUID  # the job placed

    @property
    def moved_ids(self) -> list[UUID]:
        return [m.job_id for m in self.moved]

    def step(
        self,
        event: str,
        *,
        keep_status: bool = False,
        pin: bool | None = None,
        also: dict[str, object] | None = None,
    ) -> job_changes.Step:
        return job_changes.placed(
            event,
            self.technician_id,
            self.start,
            self.eta,
            self.pickup,
            keep_status=keep_status,
            pin=pin,
            also=also,
        )


async def place(
    conn: Connection,
    ctx: Context,
    candidate: Candidate,
    settings: MatchSettings,
    *,
    now: datetime,
) -> Placed:
    """Where the job goes in the candidate's day (at the candidate's position) and how every visit
    after it is re-timed; written by the caller through `write_placed`."""
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
    detour = candidate.parts.detour
    return Placed(
        technician_id=candidate.technician_id,
        start=start,
        eta=eta,
        pickup=job_changes.Pickup(detour.depot_id, settings.depot_pickup_s) if detour else None,
        moved=[
            job_changes.Retiming(v.job_id, *times[v.job_id])
            for v in day.visits
            if v.planned_start is None or abs(times[v.job_id][0].timestamp() - v.planned_start) >= 1
        ],
        because=job.id,
    )


async def write_placed(
    conn: Connection,
    principal: Principal | None,
    job: Job,
    placed: Placed,
    step: job_changes.Step,
    *,
    reason: str = "",
    data: dict[str, object] | None = None,
) -> None:
    """The job in its place with its event, then the day's other visits re-timed with theirs."""
    await job_changes.write(conn, job.id, job.status, step, principal, reason=reason, data=data)
    await job_changes.retime(conn, principal, placed.moved, because=placed.because)


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
    placed = await place(conn, ctx, candidate, settings, now=now)
    start = placed.start
    await write_placed(
        conn,
        principal,
        job,
        placed,
        placed.step(event, pin=pin),
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
    first = await job_records.technician_first_name(conn, candidate.technician_id)
    territory = await job_records.job_territory(conn, job.id)
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
