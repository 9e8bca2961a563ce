"""A TCP proxy in front of a real router that fails the way networks and OSRM do: it closes a
kept-alive connection when the next request arrives on it (osrm-routed closes one after 512
requests, and a client that reuses it at that moment gets no answer), or resets a connection
half-way through a response. `fault(n)` decides for the n-th request through it (from 1)."""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum


class Fault(Enum):
    PASS = "pass"
    DROP = "drop"  # close without an answer
    RESET = "reset"  # half the answer, then a TCP reset


@dataclass
class UnreliableRouter:
    upstream: tuple[str, int]
    fault: Callable[[int], Fault] = lambda _: Fault.PASS
    requests_per_connection: int | None = None  # then the connection is dropped at the next request
    requests: int = 0
    faults: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: socket.socket | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def start(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    def _accept(self) -> None:
        assert self._server is not None
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        served = 0
        with client, socket.create_connection(self.upstream) as upstream:
            reader = client.makefile("rb")
            answers = upstream.makefile("rb")
            while True:
                request = _read_head(reader)
                if request is None:
                    return
                with self._lock:
                    self.requests += 1
                    fault = self.fault(self.requests)
                    if self.requests_per_connection is not None and served >= self.requests_per_connection:
                        fault = Fault.DROP
                    self.faults.append(fault)
                if fault is Fault.DROP:
                    return
                upstream.sendall(request)
                head = _read_head(answers)
                if head is None:
                    return
                length = int(_header(head, b"content-length") or b"0")
                body = answers.read(length)
                if fault is Fault.RESET:
                    client.sendall(head + body[: length // 2])
                    # SO_LINGER with a zero timeout: close() sends a reset, not a polite FIN.
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                client.sendall(head + body)
                served += 1


def _read_head(stream: io.BufferedReader) -> bytes | None:
    lines: list[bytes] = []
    while True:
        line = stream.readline()
        if not line:
            return None
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(lines)


def _header(head: bytes, name: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return None


@contextlib.contextmanager
def unreliable(
    upstream_url: str,
    *,
    fault: Callable[[int], Fault] = lambda _: Fault.PASS,
    requests_per_connection: int | None = None,
) -> Iterator[UnreliableRouter]:
    host, port = upstream_url.removeprefix("http://").rsplit(":", 1)
    proxy = UnreliableRouter((host, int(port)), fault, requests_per_connection)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()
