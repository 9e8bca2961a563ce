"""A map tile server for tests: every tile is one plain PNG, and each request is remembered (its
path and its Referer), so a test can tell which tiles a page asked for and what it gave away."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def plain_png(size: int = 256, rgb: tuple[int, int, int] = (222, 232, 214)) -> bytes:
    """A square PNG of one colour (8-bit RGB, no filter)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


@dataclass
class TileServer:
    url: str  # a Leaflet URL template
    origin: str
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Referer)


@contextmanager
def serving_tiles() -> Iterator[TileServer]:
    tile = plain_png()
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    tiles = TileServer(url=origin + "/{z}/{x}/{y}.png", origin=origin)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            tiles.requests.append((self.path, self.headers.get("Referer")))
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield tiles
    finally:
        server.shutdown()
        server.server_close()
