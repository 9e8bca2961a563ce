"""Graceful shutdown of an API process.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections and lets requests in flight finish
(up to its graceful timeout). Live streams never finish by themselves, so they would hold the
shutdown for the whole timeout and then be cut: here the signal also ends every stream at once,
with a retry hint, and the browser reconnects to another process with Last-Event-ID. A stream
whose client stopped reading cannot take that hint (its send waits on a full socket buffer), so
the server drops its connection instead of waiting the whole timeout for it.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import uvicorn

from dispatch.tracking.event_stream import drain_all

SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Every stream that is read ends within milliseconds of the signal; a connection whose writes are
# still held up by its client this long after it is one that will not read its last message.
STALLED_WRITE_S = 1.0


def drain_streams_on_signals() -> Callable[[], None]:
    """Chain stream draining in front of the server's own signal handlers (uvicorn installs
    them before the app starts). Returns a function that puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread; a server in a thread has none
    previous: dict[int, Any] = {}

    def handler(sig: int, frame: FrameType | None) -> None:
        drain_all()
        before = previous.get(sig)
        if callable(before):
            before(sig, frame)
        elif before == signal.SIG_DFL and sig == signal.SIGINT:
            raise KeyboardInterrupt

    for sig in SIGNALS:
        previous[sig] = signal.getsignal(sig)
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, before)

    return restore


class DrainingServer(uvicorn.Server):
    """uvicorn's server, which while shutting down also drops the connections whose client has
    stopped reading: uvicorn would wait its whole graceful timeout for them, then cancel their
    requests and log each one as an error."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        dropping = asyncio.create_task(self._drop_stalled_connections())
        try:
            await super().shutdown(sockets)
        finally:
            dropping.cancel()

    async def _drop_stalled_connections(self) -> None:
        await asyncio.sleep(STALLED_WRITE_S)
        while True:
            for connection in list(self.server_state.connections):
                # uvicorn's HTTP protocols pause writing when the client's buffers are full.
                flow = getattr(connection, "flow", None)
                if flow is not None and flow.write_paused:
                    connection.transport.abort()  # the request sees a disconnect and ends
            await asyncio.sleep(0.25)
