"""The road-network travel source against a routing service on loopback that speaks OSRM's table API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from dispatch.travel.sources import OsrmTravel, TravelServiceError

UNREACHABLE_LAT = 45.5


def fake_duration(a: tuple[float, float], b: tuple[float, float]) -> float | None:
    """Seconds a road service might answer: 1000 s per degree, one island no road reaches."""
    if UNREACHABLE_LAT in (a[1], b[1]) and a != b:
        return None
    return round(1000 * (abs(a[0] - b[0]) + abs(a[1] - b[1])), 1)


class TableHandler(BaseHTTPRequestHandler):
    answer: dict[str, Any] | None = None  # a fixed answer, else durations computed from the query
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        answer = type(self).answer
        if answer is None:
            url = urlsplit(self.path)
            coordinates = url.path.rsplit("/", 1)[1].split(";")
            points = [(float(c.split(",")[0]), float(c.split(",")[1])) for c in coordinates]
            query = parse_qs(url.query)
            sources = [int(i) for i in query["sources"][0].split(";")]
            destinations = [int(i) for i in query["destinations"][0].split(";")]
            answer = {
                "code": "Ok",
                "durations": [[fake_duration(points[s], points[d]) for d in destinations] for s in sources],
            }
        body = json.dumps(answer).encode()
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
    TableHandler.answer = None
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


async def test_durations_come_from_the_table_service_with_the_stop_added(routing_service: str) -> None:
    travel = OsrmTravel(routing_service, stop_overhead_s=120)
    try:
        times = await travel.from_one((44.9778, -93.265), [(44.95, -93.3), (45.5, -93.0), (44.9778, -93.265)])
    finally:
        await travel.close()
    # 0.0278 + 0.035 degrees -> 62.8 s, plus the stop; the island is unreachable, not free.
    assert times.tolist() == [62.8 + 120, float("inf"), 0.0]
    url = urlsplit(TableHandler.seen[0])
    assert url.path.startswith("/table/v1/driving/-93.265000,44.977800;")
    query = parse_qs(url.query)
    assert query["sources"] == ["0"]
    assert query["annotations"] == ["duration"]


async def test_each_pair_and_many_to_one_are_read_from_one_matrix_request(routing_service: str) -> None:
    travel = OsrmTravel(routing_service, stop_overhead_s=0)
    a, b, c = (44.9, -93.2), (44.95, -93.25), (45.0, -93.1)
    try:
        # Not a chain (a chain asks the route service for its legs): pairs read from one matrix.
        legs = await travel.between(np.array([a, b, c, a]), np.array([b, a, a, a]))
        inbound = await travel.to_one([a, b, c, b], c)
    finally:
        await travel.close()
    assert legs.tolist() == [fake_duration(a, b), fake_duration(b, a), fake_duration(c, a), 0.0]
    assert inbound.tolist() == [fake_duration(a, c), fake_duration(b, c), 0.0, fake_duration(b, c)]
    assert len(TableHandler.seen) == 2  # repeated places are asked for once


async def test_a_refusal_from_the_service_is_an_error_not_a_zero(routing_service: str) -> None:
    TableHandler.answer = {"code": "InvalidQuery", "message": "Query string malformed"}
    travel = OsrmTravel(routing_service)
    try:
        with pytest.raises(TravelServiceError, match="InvalidQuery"):
            await travel.from_one((44.9, -93.2), [(44.8, -93.1)])
    finally:
        await travel.close()
