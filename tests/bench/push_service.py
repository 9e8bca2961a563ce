"""A local push service for the benchmarks: accepts every message with 201 as fast as it can,
and notes when each arrived. Run in its own process so it does not share the worker's CPU."""

from __future__ import annotations

import asyncio
import sys
import time

from aiohttp import web

RECEIVED: list[tuple[str, float]] = []


async def push(request: web.Request) -> web.Response:
    await request.read()
    RECEIVED.append((request.headers.get("Topic", ""), time.time()))
    return web.Response(status=201)


async def stats(_: web.Request) -> web.Response:
    # Only the latest arrival: the benchmark polls this while the worker runs in its process, and
    # decoding a long list each time took a tenth of the worker's CPU from it.
    return web.json_response({"received": len(RECEIVED), "arrivals": RECEIVED[-1:]})


def main() -> None:
    app = web.Application()
    app.router.add_post("/push/{name}", push)
    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    asyncio.set_event_loop(asyncio.new_event_loop())
    main()
