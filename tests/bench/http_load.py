"""A load generator light enough not to starve the server it measures.

A full HTTP client library spends more CPU per request than our handlers do, and on a 2-core
machine the benchmark's clients share the cores with the API and PostgreSQL. This one keeps
HTTP/1.1 connections alive and sends prepared bytes; it reads only the status line and
Content-Length, which is all a benchmark needs.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        url = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        return cls(reader, writer, f"{url.hostname}:{url.port}")

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(body)}"]
        if body:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
            elif name.strip().lower() == b"transfer-encoding":
                raise ValueError("chunked responses are not read by this client")
        return status, await self._reader.readexactly(length) if length else b""

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
