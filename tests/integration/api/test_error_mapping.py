"""Errors that mean "the database is away or busy, try again" are 503s with Retry-After, whether
they come alone or wrapped in the group Litestar raises for concurrently resolved dependencies."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from api.errors import EXCEPTION_HANDLERS
from infra.errors import DatabaseUnavailableError, NotFoundError

RAISED: list[BaseException] = []


@get("/raise", sync_to_thread=False)
def _raise() -> None:
    raise RAISED[0]


@pytest.mark.parametrize(
    ("error", "status", "retry_after"),
    [
        (DatabaseUnavailableError("no socket"), 503, "2"),
        (asyncpg.InternalClientError("cannot switch to state 12"), 503, "2"),
        (asyncpg.CannotConnectNowError("the database system is shutting down"), 503, "2"),
        (asyncpg.DeadlockDetectedError("deadlock detected"), 503, "1"),
        (asyncpg.SerializationError("could not serialize access"), 503, "1"),
        (ExceptionGroup("dependencies", [DatabaseUnavailableError("no socket")]), 503, "2"),
        (ExceptionGroup("dependencies", [NotFoundError("job_id: no such job")]), 404, None),
        (ExceptionGroup("dependencies", [ValueError("a bug")]), 500, None),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
async def test_errors_map_to_their_status(error: BaseException, status: int, retry_after: str | None) -> None:
    RAISED[:] = [error]
    app = Litestar(route_handlers=[_raise], exception_handlers=EXCEPTION_HANDLERS)
    async with AsyncTestClient(app) as client:
        response = await client.get("/raise")
    assert response.status_code == status
    assert response.headers.get("Retry-After") == retry_after
    assert response.json()["status_code"] == status
