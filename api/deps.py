"""Request-scoped dependencies: a connection inside a transaction, the caller, paging."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import QueryParameter
from litestar.response import ServerSentEventMessage

from dispatch.accounts import Principal
from infra.db import Connection, Pool, acquire

T = TypeVar("T")


async def provide_connection(state: State) -> AsyncGenerator[Connection, None]:
    """The request owns the transaction: it commits when the handler returns, rolls back if it raises."""
    pool: Pool = state.pool
    async with acquire(pool) as conn, conn.transaction():
        yield conn


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
