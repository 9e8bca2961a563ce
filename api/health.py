from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from infra.db import Pool


class HealthStatus(msgspec.Struct, frozen=True):
    status: str


class HealthController(Controller):
    tags = ["operations"]
    opt = {"public": True}
    security = [{}]

    @get("/health")
    async def health(self) -> HealthStatus:
        """Liveness: the process answers."""
        return HealthStatus("ok")

    @get(
        "/ready",
        responses={503: ResponseSpec(data_container=HealthStatus, description="Database unavailable")},
    )
    async def ready(self, state: State) -> Response[HealthStatus]:
        """Readiness: the database answers a query."""
        pool: Pool = state.pool
        try:
            async with pool.acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1")
        except Exception:  # any failure to reach PostgreSQL means "not ready", never a 500
            return Response(HealthStatus("database unavailable"), status_code=HTTP_503_SERVICE_UNAVAILABLE)
        return Response(HealthStatus("ok"))
