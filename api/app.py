"""The Litestar application: `create_app(settings)` is the only way one is built."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.compression import CompressionConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.prometheus import PrometheusConfig

from api import (
    assets,
    board,
    customers,
    days,
    intake,
    jobs,
    matching,
    metrics,
    overrides,
    page_assets,
    parts,
    plans,
    positions,
    push,
    sites,
    slots,
    stock,
    technician_app,
    technicians,
    territories,
    track,
    work,
)
from api.auth import AuthRoutes
from api.console import console_routes
from api.deps import provide_connection, provide_page, provide_principal
from api.errors import EXCEPTION_HANDLERS
from api.health import HealthController
from api.http_edge import (
    SwaggerDocs,
    add_protections,
    edge_middleware,
    learn_allowed_methods,
    redact_access_log,
)
from api.matching import match_settings, now_of
from api.openapi_errors import closed_bodies, document_errors, if_match_required, numbers_any_of
from api.scope import within_territory
from api.shutdown import drain_streams_on_signals
from api.strict_body import strict_request_check
from api.strict_query import learn_query_names
from api.users import user_routes
from dispatch.matching.fleet_cache import FleetCache, follow_changes
from dispatch.planning.plan_runs import PlanRunner
from dispatch.tracking.event_stream import EventHub
from dispatch.tracking.links import LinkWatch
from dispatch.tracking.position_intake import PositionIntake
from dispatch.tracking.positions import maintain_partitions
from dispatch.tracking.risk_watch import watch
from dispatch.travel.sources import OsrmTravel
from infra.db import create_pool
from infra.settings import Settings, load_settings


@functools.cache
def _freeze_what_is_loaded() -> None:
    """Once per process: what is loaded by now (modules, the app, its routes) lives as long as the
    process, so the collector's full passes skip it. Those passes walked it all in the middle of
    requests: freezing cut the p99 of pings at batches of 1 from 105-122 to 56-78 ms
    (tests/bench/bench_push.py)."""
    gc.collect()
    gc.freeze()


ROUTE_MODULES: Sequence[Any] = (
    customers,
    sites,
    assets,
    parts,
    territories,
    technicians,
    stock,
    intake,
    jobs,
    matching,
    slots,
    work,
    overrides,
    board,
    metrics,
    positions,
    push,
    track,
    page_assets,
    technician_app,
    plans,
    days,
)


# At shutdown, how long the pool may wait for its connections to come back before closing them.
POOL_CLOSE_S = 10.0

# Request counts and latencies by route template (not raw path, so ids do not explode the series).
PROMETHEUS = PrometheusConfig(
    app_name="truckroll", prefix="truckroll", group_path=True, exclude=["^/metrics$"]
)


def create_app(settings: Settings, *, dsn: str | None = None) -> Litestar:
    """`dsn` overrides settings.database_url (the CLI passes the local cluster's)."""
    database_url = dsn or settings.database_url
    if not database_url:
        raise ValueError("create_app needs a database URL")

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        app.state.pool = await create_pool(
            database_url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        app.state.settings = settings
        # A road-network service when configured; matching otherwise uses each territory's model.
        app.state.routing = (
            OsrmTravel(
                settings.routing_url,
                timeout_s=settings.routing_timeout_s,
                on_fallback=metrics.count_routing_fallback,
            )
            if settings.routing_url
            else None
        )
        async with app.state.pool.acquire() as conn, conn.transaction():
            await maintain_partitions(
                conn, today=now_of(app.state).date(), retention_days=settings.position_retention_days
            )
        app.state.fleet_cache = FleetCache()
        app.state.event_hub = EventHub(gap_ranges_max=settings.stream_gap_ranges_max)
        app.state.link_watch = LinkWatch(app.state.pool, every_s=settings.track_link_check_s)
        app.state.position_intake = PositionIntake(app.state.pool, app.state.routing)
        app.state.plan_runner = PlanRunner(app.state.pool, routing=app.state.routing)
        background = [
            asyncio.create_task(follow_changes(database_url, app.state.fleet_cache)),
            asyncio.create_task(app.state.event_hub.follow(database_url)),
        ]
        if settings.risk_scan_s:
            background.append(
                asyncio.create_task(
                    watch(
                        app.state.pool,
                        match_settings(settings),
                        routing=app.state.routing,
                        clock=lambda: now_of(app.state),
                        every_s=settings.risk_scan_s,
                        cache=app.state.fleet_cache,
                        retention_days=settings.position_retention_days,
                    )
                )
            )
        restore_signals = drain_streams_on_signals()
        _freeze_what_is_loaded()
        try:
            yield
        finally:
            restore_signals()
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.position_intake.close()
            await app.state.plan_runner.close()
            if app.state.routing is not None:
                await app.state.routing.close()
            try:
                await asyncio.wait_for(app.state.pool.close(), POOL_CLOSE_S)
            except TimeoutError:
                # A connection still out after every request has ended is held by nothing that
                # will give it back: a shutdown never waits on one.
                logging.getLogger("truckroll.api").warning("closing the pool timed out; terminating it")
                app.state.pool.terminate()

    auth = AuthRoutes(settings)
    handlers: list[Any] = [
        HealthController,
        *auth.route_handlers,
        *user_routes(auth),
        *console_routes(auth),
        metrics.PrometheusMetrics,
    ]
    for module in ROUTE_MODULES:
        handlers.extend(module.ROUTES)

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact_access_log()
    app = Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        dependencies={
            "conn": Provide(provide_connection),
            "principal": Provide(provide_principal, sync_to_thread=False),
            "page": Provide(provide_page, sync_to_thread=False),
        },
        before_request=strict_request_check(json_depth_max=settings.json_depth_max),
        before_send=[add_protections],
        # A dispatcher bound to a territory reaches no other territory's record by its id.
        guards=[within_territory],
        middleware=[edge_middleware, PROMETHEUS.middleware],
        exception_handlers=EXCEPTION_HANDLERS,
        on_app_init=[auth.on_app_init],
        openapi_config=OpenAPIConfig(
            title="Truckroll",
            version="0.1.0",
            description="Field-service dispatch: jobs, technicians, assets, parts, arrival tracking.",
            render_plugins=[SwaggerDocs()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT"),
                }
            ),
            security=[{"BearerToken": []}],
        ),
        # Live streams must reach the client event by event: handlers opt out with this key.
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=1024, exclude_opt_key="no_compression"
        ),
        request_max_body_size=1_048_576,
        debug=False,
    )
    document_errors(app)
    numbers_any_of(app.openapi_schema)
    if_match_required(app.openapi_schema)
    closed_bodies(app)
    learn_query_names(app)
    learn_allowed_methods(app)
    return app


def app_from_environment() -> Litestar:
    """The app as `truckroll serve --workers N` starts it in each worker process."""
    return create_app(load_settings())
