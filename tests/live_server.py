"""The app behind uvicorn on a loopback port, for tests and benchmarks that need requests truly
in flight together (the in-process test client hands them to the app one at a time)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx
import uvicorn
from litestar import Litestar
from litestar.types import ASGIApp


def free_port() -> int:
    """A loopback port nothing listens on (for now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Yields the base URL while the app (ours, or ours wrapped) serves."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextmanager
def serving_in_thread(app: Litestar) -> Iterator[str]:
    """Yields the base URL while the app serves from a thread with its own event loop, for
    synchronous tests (schema fuzzing, the authorization matrix) that share one server."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def serve_command(
    dsn: str, data_dir: Path, port: int, *, log_level: str = "WARNING", capture: bool = False
) -> subprocess.Popen[bytes]:
    """`truckroll serve` as an operator starts it, in a process of its own (for signals and logs)."""
    from tests.conftest import JWT_SECRET

    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(data_dir),
        "TRUCKROLL_JWT_SECRET": JWT_SECRET,
        "TRUCKROLL_LOG_LEVEL": log_level,
        "TRUCKROLL_RISK_SCAN_S": "0",
    }
    command = [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--skip-migrations"]
    output = subprocess.PIPE if capture else None
    return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT if capture else None)


async def wait_until_healthy(http: httpx.AsyncClient) -> None:
    for _ in range(200):
        try:
            if (await http.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the API did not come up")
