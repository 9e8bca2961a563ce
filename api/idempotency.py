"""Idempotency-Key: a retried request gets the first answer and changes nothing twice.

The key is claimed by inserting it in the request's own transaction; a twin arriving at the same
moment waits on that row until the first commits, then reads its answer (or, if the first failed
and rolled back, goes ahead itself). A key reused for a different request is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import msgspec
from litestar import Response
from litestar.params import HeaderParameter

from dispatch.access.accounts import Principal
from dispatch.jobs import request_keys
from infra.db import Connection

T = TypeVar("T")

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="A unique string per intended change; a retry with the same key gets the first answer.",
    ),
]


def fingerprint(path: str, body: object) -> bytes:
    return hashlib.sha256(path.encode() + b" " + msgspec.json.encode(body)).digest()


async def replay(
    conn: Connection, principal: Principal, key: str | None, print_: bytes, out: type[T]
) -> Response[T] | None:
    """The stored answer when this key was used before, else None (and the key is now ours)."""
    if key is None:
        return None
    earlier = await request_keys.earlier_answer(conn, principal.user_id, key, print_)
    if earlier is None:
        return None
    status, body = earlier
    return Response(
        msgspec.json.decode(body, type=out), status_code=status, headers={"Idempotent-Replay": "true"}
    )


async def idempotent(
    conn: Connection,
    principal: Principal,
    key: str | None,
    path: str,
    body: object,
    out: type[T],
    status: int,
    act: Callable[[], Awaitable[T]],
) -> Response[T]:
    """Answer a retried request from the first answer, or act once and keep the answer."""
    if (stored := await replay(conn, principal, key, fingerprint(path, body), out)) is not None:
        return stored
    return await remember(conn, principal, key, await act(), status)


async def remember(
    conn: Connection, principal: Principal, key: str | None, answer: T, status: int
) -> Response[T]:
    if key is not None:
        await request_keys.keep_answer(conn, principal.user_id, key, status, msgspec.json.encode(answer))
    return Response(answer, status_code=status)
