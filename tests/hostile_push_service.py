"""A push service that answers the way an attacker's endpoint can, for the worker's tests and
tests/bench/bench_hostile_push.py. A subscription's endpoint comes from the browser, so whoever
subscribes chooses the server the worker talks to: the path picks the answer.

    /push/ok/...             201 at once
    /push/body/<MB>/...      201 with a body of that many megabytes
    /push/endless/...        201 with a chunked body that never ends
    /push/drip/...           201 with a body sent a byte at a time, one every half second
    /push/headers/...        201 followed by headers that never end
    /push/retry/<value>/...  429 with `Retry-After: <value>` (the value URL-decoded)
    GET /counts              how many pushes arrived at each path, as JSON
    GET /arrivals            [path, arrival time] of every push, in order, as JSON

Raw HTTP/1.1 on asyncio streams, so it can send what a well-behaved framework would refuse to.
Run in its own process so its memory and CPU are not the worker's:

    python -m tests.hostile_push_service PORT
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from urllib.parse import unquote

ARRIVALS: list[tuple[str, float]] = []
CHUNK = b"x" * 65536


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            if method == "GET":
                await _answer_query(writer, path)
            else:
                ARRIVALS.append((path, time.time()))
                await _answer_push(writer, path)
            await writer.drain()
    writer.close()


async def _answer_query(writer: asyncio.StreamWriter, path: str) -> None:
    if path == "/counts":
        counts: dict[str, int] = {}
        for arrived, _ in ARRIVALS:
            counts[arrived] = counts.get(arrived, 0) + 1
        body = json.dumps(counts).encode()
    else:
        body = json.dumps(ARRIVALS).encode()
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
    writer.write(b"Content-Length: %d\r\n\r\n" % len(body))
    writer.write(body)


async def _answer_push(writer: asyncio.StreamWriter, path: str) -> None:
    parts = path.split("/")  # "", "push", mode, ...
    mode = parts[2] if len(parts) > 2 else "ok"
    if mode == "body":
        size = int(float(parts[3]) * 1024 * 1024)
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n" % size)
        for _ in range(size // len(CHUNK)):
            writer.write(CHUNK)
            await writer.drain()
        writer.write(CHUNK[: size % len(CHUNK)])
    elif mode == "endless":
        writer.write(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n")
        frame = b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)
        while True:
            writer.write(frame)
            await writer.drain()
    elif mode == "drip":
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 1000000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.5)
    elif mode == "headers":
        writer.write(b"HTTP/1.1 201 Created\r\n")
        for n in range(10**9):
            writer.write(b"X-Filler-%d: %s\r\n" % (n, CHUNK[:1000]))
            await writer.drain()
    elif mode == "retry":
        value = unquote(parts[3]).encode()
        writer.write(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: %s\r\n" % value)
        writer.write(b"Content-Length: 0\r\n\r\n")
    else:
        writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")


async def main(port: int) -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
