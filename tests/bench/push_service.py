"""A local push service for the benchmarks: accepts every message with 201 as fast as it can,
and notes when each arrived. Run in its own process so it does not share the worker's CPU."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

from aiohttp import web

RECEIVED: list[tuple[str, float]] = []
# Waiting requests: (how many arrivals each waits for, its future). Checked on each arrival, so a
# waiter costs the service nothing until its count is reached.
WAITERS: list[tuple[int, asyncio.Future[None]]] = []


COUNTS: dict[str, int] = {}  # arrivals per endpoint path


async def push(request: web.Request) -> web.Response:
    await request.read()
    RECEIVED.append((request.headers.get("Topic", ""), time.time()))
    COUNTS[request.path] = COUNTS.get(request.path, 0) + 1
    if WAITERS and WAITERS[0][0] <= len(RECEIVED):
        while WAITERS and WAITERS[0][0] <= len(RECEIVED):
            _, waiter = WAITERS.pop(0)
            if not waiter.done():
                waiter.set_result(None)
    return web.Response(status=201)


async def stats(request: web.Request) -> web.Response:
    """How many arrived and the latest arrival. `?until=N` answers once N have arrived (or after
    `timeout` seconds): the benchmark waits with one request instead of polling, because polling
    from the worker's process took CPU from the worker being measured."""
    until = int(request.query.get("until", "0"))
    if until > len(RECEIVED):
        waiter = asyncio.get_running_loop().create_future()
        WAITERS.append((until, waiter))
        WAITERS.sort(key=lambda w: w[0])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter, float(request.query.get("timeout", "60")))
    return web.json_response({"received": len(RECEIVED), "arrivals": RECEIVED[-1:]})


async def counts(_: web.Request) -> web.Response:
    return web.json_response(COUNTS)


def main() -> None:
    app = web.Application()
    app.router.add_post("/push/{name}", push)
    app.router.add_get("/stats", stats)
    app.router.add_get("/counts", counts)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    main()
