"""Request-scoped dependencies: a connection inside a transaction, the caller, paging."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from anyio import CancelScope
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import QueryParameter
from litestar.response import ServerSentEventMessage
from litestar.types import Scope

from dispatch.access.accounts import Principal
from infra.db import Connection, Pool, acquire

T = TypeVar("T")
log = logging.getLogger("truckroll.api")


_HELD = "held_connections"  # in the request's scope state: what the edge closes after the answer


class _AbandonedError(Exception):
    """Thrown into a transaction whose request ended without running its handler."""


async def provide_connection(state: State, scope: Scope) -> AsyncGenerator[Connection, None]:
    """The request owns the transaction: it commits when the handler returns, rolls back if it raises.

    Litestar opens this beside the request's other dependencies; when one of those refuses the
    request (a page past its bounds), this generator is never resumed, and its connection stayed
    idle in its transaction until the garbage collector came by, holding the pool and a
    shutdown. So the connection is also registered with the request, and the edge
    (api.http_edge) rolls it back and gives it back right after the answer."""
    pool: Pool = state.pool
    held = AsyncExitStack()
    scope["state"].setdefault(_HELD, []).append(held)
    try:
        # A refusal beside it cancels this dependency; cancelled in the middle of its BEGIN, the
        # connection went back to the pool with the server still in a transaction. The opening
        # is short and always finished; the edge then closes what it opened.
        with CancelScope(shield=True):
            conn = await held.enter_async_context(acquire(pool))
            await held.enter_async_context(conn.transaction())
        yield conn
    except BaseException as error:
        await held.__aexit__(type(error), error, error.__traceback__)
        raise
    await held.aclose()


async def release_held_connections(scope: Scope) -> None:
    """Roll back and give back what the request still holds (nothing, unless it was refused
    before its handler ran); a stack closed already is empty and closes again as a no-op."""
    for held in scope.get("state", {}).pop(_HELD, ()):
        try:
            await held.__aexit__(_AbandonedError, _AbandonedError(), None)
        except Exception:  # the answer has left; a broken connection is the pool's to replace
            log.warning("could not roll back a refused request's transaction", exc_info=True)


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        raise NotAuthorizedException("Authentication required.")
    return user


class PageParams(msgspec.Struct, frozen=True):
    limit: int
    offset: int


def provide_page(
    limit: Annotated[int, QueryParameter(ge=1, le=200, description="Items per page (at most 200).")] = 50,
    offset: Annotated[int, QueryParameter(ge=0, le=1_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


# Handlers name these types for their injected parameters: `conn: Db`, `principal: Caller`,
# `page: Paging`.
Db = NamedDependency[Connection]
Caller = NamedDependency[Principal]
Paging = NamedDependency[PageParams]


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    items: list[T]
    limit: int
    offset: int
    next_offset: int | None


def page_of(rows: list[T], page: PageParams) -> Page[T]:
    """Queries fetch limit + 1 rows; the extra one only tells that another page exists."""
    more = len(rows) > page.limit
    return Page(
        items=rows[: page.limit],
        limit=page.limit,
        offset=page.offset,
        next_offset=page.offset + page.limit if more else None,
    )


def changes_of(update: msgspec.Struct) -> dict[str, object]:
    """The fields a PATCH body actually sent (explicit nulls included)."""
    return {f: v for f in update.__struct_fields__ if (v := getattr(update, f)) is not msgspec.UNSET}


# The media type of the live streams (Server-Sent Events), for their OpenAPI entries.
EVENT_STREAM = "text/event-stream"
# The last message of a stream ended by a shutdown: come back in a second (to another process),
# with the Last-Event-ID the browser keeps.
CLOSING = ServerSentEventMessage(data=None, comment="closing; reconnect with Last-Event-ID", retry=1000)
