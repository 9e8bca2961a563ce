"""The figures a service manager asks for, for a territory or a technician over a period, and
the assets due for maintenance with a suggested job each.

Definitions (each figure says what it counts, so two managers read it the same way):
- first-time fix rate: visits closed in the period that completed without a follow-up job and
  without another job on the same asset within 30 days, over all visits closed;
- repeat visits per asset: visits beyond the first, per asset visited in the period;
- on-time arrival rate: arrivals inside the promised window, over all arrivals;
- ETA error: |arrival - the ETA the customer was last told|, mean and 90th percentile, in minutes;
- request to arrival: hours from the job's creation to the technician's arrival (median);
- customer contacts avoided: completed visits whose customer was told on the way, arrived and
  done without having to ask;
- utilisation: time on site over shift time; travel per job: road km driven per visit
  (straight lines between the day's stops in order times the circuity).
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import msgspec
import numpy as np

from dispatch.models import Job, JobStatus
from dispatch.reporting import metrics_queries
from dispatch.travel.sources import pairwise_m
from infra.db import Connection
from infra.errors import ConflictError

CIRCUITY = 1.3
# Service intervals by asset kind when the model's record does not say
# (attribute `maintenance_interval_days`); an asset older than ten years is seen a quarter sooner.
INTERVAL_DAYS = {"hvac_unit": 365, "water_heater": 365, "garage_door": 730, "garage_door_opener": 730}
OLD_AGE = timedelta(days=3652)


class ServiceMetrics(msgspec.Struct, frozen=True, kw_only=True):
    period_start: datetime
    period_end: datetime
    territory_id: UUID | None
    technician_id: UUID | None
    visits_closed: int
    first_time_fix_rate: float | None
    repeat_visits_per_asset: float | None
    arrivals: int
    on_time_arrival_rate: float | None
    eta_error_mean_min: float | None
    eta_error_p90_min: float | None
    request_to_arrival_median_h: float | None
    customer_contacts_avoided: int
    customer_contacts_avoided_rate: float | None
    utilisation: float | None
    travel_per_job_km: float | None
    rating_mean: float | None
    ratings: int


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


async def service_metrics(
    conn: Connection,
    start: datetime,
    end: datetime,
    *,
    territory_id: UUID | None = None,
    technician_id: UUID | None = None,
) -> ServiceMetrics:
    visits = await metrics_queries.visit_figures(conn, start, end, territory_id, technician_id)
    arrivals = await metrics_queries.arrivals(conn, start, end, territory_id, technician_id)
    on_time = sum(1 for a in arrivals if a["window_start_at"] <= a["started_at"] <= a["window_end_at"])
    errors = sorted(
        abs((a["started_at"] - a["eta_at"]).total_seconds()) / 60 for a in arrivals if a["eta_at"]
    )
    waits = [(a["started_at"] - a["created_at"]).total_seconds() / 3600 for a in arrivals]
    shift_s = await metrics_queries.shift_seconds(conn, start, end, territory_id, technician_id)
    km, visited = 0.0, 0
    for day in await metrics_queries.driven_days(conn, start, end, territory_id, technician_id):
        stops = list(zip(day["lats"], day["lons"], strict=True))
        path = np.array(
            [
                (day["start_latitude"], day["start_longitude"]),
                *stops,
                (day["end_latitude"], day["end_longitude"]),
            ]
        )
        km += float(pairwise_m(path[:-1], path[1:]).sum()) * CIRCUITY / 1000
        visited += len(stops)
    return ServiceMetrics(
        period_start=start,
        period_end=end,
        territory_id=territory_id,
        technician_id=technician_id,
        visits_closed=visits["closed"],
        first_time_fix_rate=_ratio(visits["fixed_first_time"], visits["closed"]),
        repeat_visits_per_asset=None
        if visits["repeat_visits_per_asset"] is None
        else round(float(visits["repeat_visits_per_asset"]), 4),
        arrivals=len(arrivals),
        on_time_arrival_rate=_ratio(on_time, len(arrivals)),
        eta_error_mean_min=round(statistics.fmean(errors), 2) if errors else None,
        eta_error_p90_min=round(float(np.percentile(errors, 90)), 2) if errors else None,
        request_to_arrival_median_h=round(statistics.median(waits), 2) if waits else None,
        customer_contacts_avoided=visits["fully_told"],
        customer_contacts_avoided_rate=_ratio(visits["fully_told"], visits["completed"]),
        utilisation=_ratio(float(visits["on_site_s"] or 0), shift_s),
        travel_per_job_km=round(km / visited, 2) if visited else None,
        rating_mean=None if visits["rating"] is None else round(float(visits["rating"]), 2),
        ratings=visits["ratings"],
    )


class MaintenanceDue(msgspec.Struct, frozen=True, kw_only=True):
    asset_id: UUID
    site_id: UUID
    address: str
    kind: str
    make: str
    model: str
    last_service_at: datetime | None
    due_on: date
    why: str
    suggested_job: dict[str, object] | None  # a body for POST /jobs/intake, when the catalogue has one


def due_date(
    kind: str,
    attributes: dict[str, object],
    installed_at: datetime | None,
    last_service_at: datetime | None,
    today: date,
) -> tuple[date, str] | None:
    """When the asset is next due, and why; None when nothing says it needs servicing."""
    interval = attributes.get("maintenance_interval_days")
    days = int(interval) if isinstance(interval, int) and interval > 0 else INTERVAL_DAYS.get(kind)
    if days is None:
        return None
    source = (
        "the model's interval"
        if isinstance(interval, int)
        else f"the usual interval for a {kind.replace('_', ' ')}"
    )
    if (
        installed_at is not None
        and datetime.combine(today, datetime.min.time(), UTC) - installed_at > OLD_AGE
    ):
        days = int(days * 0.75)
        source += ", shortened: over ten years old"
    since = last_service_at or installed_at
    if since is None:
        return today, "no service on record"
    due = (since + timedelta(days=days)).date()
    return due, f"{days} days after the last service ({since.date().isoformat()}), {source}"


async def maintenance_due(
    conn: Connection, *, territory_id: UUID | None, today: date, within_days: int
) -> list[MaintenanceDue]:
    problems = await metrics_queries.maintenance_problems(conn)
    horizon = today + timedelta(days=within_days)
    due: list[MaintenanceDue] = []
    for row in await metrics_queries.maintenance_candidates(conn, territory_id):
        if row["has_open_job"]:
            continue
        when = due_date(
            row["kind"], dict(row["attributes"]), row["installed_at"], row["last_service_at"], today
        )
        if when is None or when[0] > horizon:
            continue
        problem = problems.get(row["kind"])
        due.append(
            MaintenanceDue(
                asset_id=row["id"],
                site_id=row["site_id"],
                address=row["address_line"],
                kind=row["kind"],
                make=row["make"],
                model=row["model"],
                last_service_at=row["last_service_at"],
                due_on=when[0],
                why=when[1],
                suggested_job=None
                if problem is None
                else {"site_id": str(row["site_id"]), "asset_id": str(row["id"]), "problem_code": problem},
            )
        )
    due.sort(key=lambda d: (d.due_on, d.address))
    return due


async def rate_visit(conn: Connection, job: Job, stars: int, comment: str) -> None:
    """The customer's rating of the visit, once it is over (a new rating replaces the last)."""
    if job.status not in (JobStatus.COMPLETED, JobStatus.INCOMPLETE):
        raise ConflictError("a visit is rated once it is over", field="status")
    await metrics_queries.rate(conn, job.id, stars, comment)
