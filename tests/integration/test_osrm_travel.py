"""The road-network travel source against a routing service on loopback that speaks OSRM's table API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch.travel import OsrmTravel, TravelServiceError


class TableHandler(BaseHTTPRequestHandler):
    answer: dict[str, Any] = {}
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        body = json.dumps(type(self).answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def routing_service() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), TableHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    TableHandler.seen = []
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


async def test_durations_come_from_the_table_service_with_the_stop_added(routing_service: str) -> None:
    TableHandler.answer = {"code": "Ok", "durations": [[610.5, None, 0.0]]}
    travel = OsrmTravel(routing_service, stop_overhead_s=120)
    try:
        times = await travel.from_one((44.9778, -93.265), [(44.95, -93.3), (45.5, -93.0), (44.9778, -93.265)])
    finally:
        await travel.close()
    assert times.tolist() == [730.5, float("inf"), 0.0]
    url = urlsplit(TableHandler.seen[0])
    points = "-93.265000,44.977800;-93.300000,44.950000;-93.000000,45.500000;-93.265000,44.977800"
    assert url.path == f"/table/v1/driving/{points}"
    assert parse_qs(url.query) == {"sources": ["0"], "destinations": ["1;2;3"], "annotations": ["duration"]}


async def test_a_refusal_from_the_service_is_an_error_not_a_zero(routing_service: str) -> None:
    TableHandler.answer = {"code": "InvalidQuery", "message": "Query string malformed"}
    travel = OsrmTravel(routing_service)
    try:
        with pytest.raises(TravelServiceError, match="InvalidQuery"):
            await travel.from_one((44.9, -93.2), [(44.8, -93.1)])
    finally:
        await travel.close()
