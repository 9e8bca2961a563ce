"""Service metrics for managers, assets due for maintenance, ratings, and Prometheus metrics for
operators (request rates and latencies, outbox depth and delivery failures, road-router fallbacks)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, MediaType, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.plugins.prometheus import PrometheusController
from prometheus_client import Counter, Gauge

from api.auth import STAFF
from api.deps import Caller, Db
from api.matching import now_of
from dispatch.access import scope
from dispatch.jobs import records as jobs
from dispatch.reporting import metrics
from dispatch.reporting.metrics import MaintenanceDue, ServiceMetrics
from dispatch.travel.sources import FallbackReason
from infra.db import Pool, acquire
from infra.errors import DatabaseUnavailableError, InvalidError
from notifications import outbox

log = logging.getLogger("truckroll.metrics")
OUTBOX_DEPTH = Gauge("truckroll_outbox_pending", "Messages and push deliveries waiting to be sent")
OUTBOX_FAILED = Gauge("truckroll_outbox_failed", "Messages and push deliveries given up on")
OUTBOX_OLDEST = Gauge("truckroll_outbox_oldest_pending_seconds", "Age of the oldest waiting message")
PUSH_FAILING = Gauge(
    "truckroll_push_failed_attempts_5m",
    "Push sends in the last five minutes that the push service did not accept",
)

ROUTING_FALLBACKS = Counter(
    "truckroll_routing_fallbacks",
    "Travel estimates the straight-line model gave because the road router could not, by reason",
    ["reason"],
)


def count_routing_fallback(reason: FallbackReason) -> None:
    ROUTING_FALLBACKS.labels(reason=reason.value).inc()


class RatingIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    stars: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Rated(msgspec.Struct, frozen=True, kw_only=True):
    job_id: UUID
    stars: int


class MetricsController(Controller):
    tags = ["metrics"]
    guards = [STAFF]

    @get("/metrics/service")
    async def service(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        territory_id: Annotated[
            UUID | None, QueryParameter(description="Default: the dispatcher's own.")
        ] = None,
        technician_id: Annotated[UUID | None, QueryParameter(description="One technician.")] = None,
        since: Annotated[
            datetime | None, QueryParameter(name="from", description="Default: 30 days ago.")
        ] = None,
        until: Annotated[datetime | None, QueryParameter(name="to", description="Default: now.")] = None,
    ) -> ServiceMetrics:
        """First-time fix, repeat visits, on-time arrivals, ETA error, request to arrival, contacts
        avoided, utilisation, travel per job and ratings, as defined in the response's fields."""
        end = until or now_of(state)
        start = since or end - timedelta(days=30)
        if start >= end:
            raise InvalidError("from: the period must start before it ends", field="from")
        return await metrics.service_metrics(
            conn,
            start,
            end,
            territory_id=scope.list_filter(principal, territory_id),
            technician_id=technician_id,
        )

    @get("/maintenance/due")
    async def maintenance_due(
        self,
        conn: Db,
        principal: Caller,
        state: State,
        territory_id: Annotated[
            UUID | None, QueryParameter(description="Default: the dispatcher's own.")
        ] = None,
        within_days: Annotated[
            int, QueryParameter(ge=0, le=366, description="Due within this many days.")
        ] = 30,
    ) -> list[MaintenanceDue]:
        """Assets due for service (by the model's interval, age and last service), each with a
        suggested job where the catalogue has a maintenance visit for it."""
        today: date = now_of(state).date()
        return await metrics.maintenance_due(
            conn,
            territory_id=scope.list_filter(principal, territory_id),
            today=today,
            within_days=within_days,
        )

    @post("/jobs/{job_id:uuid}/rating", status_code=200)
    async def rate(
        self, conn: Db, principal: Caller, job_id: FromPath[UUID], data: JSONBody[RatingIn]
    ) -> Rated:
        """The customer's rating of a finished visit (taken on the phone; the feedback link sends it too)."""
        job = await jobs.get_job(conn, principal, job_id)
        await metrics.rate_visit(conn, job, data.stars, data.comment)
        return Rated(job_id=job.id, stars=data.stars)


async def refresh_outbox_gauges(pool: Pool) -> None:
    """Read the outbox's state when Prometheus scrapes, so the figures are never stale; if the
    database is away the last figures stay and the scrape still answers."""
    try:
        async with acquire(pool) as conn:
            figures = await outbox.health(conn)
    except DatabaseUnavailableError as error:
        log.warning("outbox figures not refreshed: %s", error)
        return
    OUTBOX_DEPTH.set(figures.pending)
    OUTBOX_FAILED.set(figures.failed)
    OUTBOX_OLDEST.set(figures.oldest_pending_s)
    PUSH_FAILING.set(figures.failed_attempts_recent)


ROUTES = [MetricsController]


class PrometheusMetrics(PrometheusController):
    """Litestar's Prometheus endpoint, documented as the plain text it serves (not JSON)."""

    @get(media_type=MediaType.TEXT, tags=["operations"], summary="Prometheus metrics", security=[{}])
    async def get(self, state: State) -> Response[bytes]:
        """Request rates and latencies, outbox depth and delivery failures, in Prometheus's format."""
        await refresh_outbox_gauges(state.pool)
        response: Response[bytes] = await PrometheusController.get.fn(self)
        return response
