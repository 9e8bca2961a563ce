"""A stored job as matching sees it: its place, its travel source, the days of the technicians who
could take it, and their ranking with the reasons any were left out."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from assets import asset_queries
from assets.models import AssetId
from dispatch.access import scope
from dispatch.access.accounts import Principal
from dispatch.jobs import records as jobs
from dispatch.matching import route_queries
from dispatch.matching.candidates import JobToPlace, MatchSettings, NeededPart, Ranking
from dispatch.matching.days import build_days
from dispatch.matching.eligibility import Exclusion
from dispatch.matching.fleet_cache import FleetCache
from dispatch.matching.fleet_view import FleetView, screen_static
from dispatch.matching.ranking import Matcher
from dispatch.matching.route_plan import Day
from dispatch.matching.route_queries import JobPlace
from dispatch.models import Job, JobStatus
from dispatch.travel.learning import LearnedTravel, learned
from dispatch.travel.road_class_travel import ClassedTravel, road_learned
from dispatch.travel.sources import GeodesicTravel, OsrmTravel, RoutedTravel, TravelSettings, TravelTimes
from infra.db import Connection
from infra.errors import ConflictError

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


async def days_around(
    conn: Connection, technician_ids: Sequence[UUID], job: JobToPlace, now: datetime
) -> list[Day]:
    """The technicians' days that could hold the job's window, read a day either side."""
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
        days = await days_around(conn, [t.id for t in kept], target, now) if kept else []
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
    # A dispatched job may still be reassigned until its technician sets off: it has candidates.
    if job.status not in (JobStatus.NEW, JobStatus.SCHEDULED, JobStatus.DISPATCHED):
        raise ConflictError(
            f"a {job.status.value} job is past matching; only a job nobody has set off for has candidates",
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
