"""Graceful shutdown of an API process.

On SIGTERM (or Ctrl-C) uvicorn stops accepting connections and lets requests in flight finish
(up to its graceful timeout). Live streams never finish by themselves, so they would hold the
shutdown for the whole timeout and then be cut: here the signal also ends every stream at once,
with a retry hint, and the browser reconnects to another process with Last-Event-ID.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from dispatch.event_stream import drain_all

SIGNALS = (signal.SIGTERM, signal.SIGINT)


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
