"""What the request edges cost (CPU of this process, median of repeats): the protections added to
every answer's headers, the nesting check on bodies with free-form objects (typical, and the
worst a 1 MB body can make it do), and how many writes a flush of pings makes when one request
in it fails.

    python -m tests.bench.bench_edges [--repeats 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from api.http_edge import add_protections
from api.strict_body import nesting_depth


def _median_us(run: Callable[[], Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        began = time.process_time_ns()
        run()
        samples.append((time.process_time_ns() - began) / 1000)
    return statistics.median(samples)


def _ms(run: Callable[[], Any]) -> float:
    return _median_us(run, 20) / 1000


def _headers_us(repeats: int) -> float:
    scope: Any = {"type": "http", "state": {}}
    headers = [(b"content-type", b"application/json"), (b"content-length", b"354")]

    async def many() -> float:
        began = time.process_time_ns()
        for _ in range(repeats):
            await add_protections({"type": "http.response.start", "status": 200, "headers": headers}, scope)
        return (time.process_time_ns() - began) / 1000 / repeats

    return asyncio.run(many())


def _writes_for_one_failure(requests: int, culprit: int) -> int:
    """The writes PositionIntake._write makes when request `culprit` of `requests` fails."""

    def write(first: int, last: int) -> int:
        if not first <= culprit < last or last - first == 1:
            return 1
        middle = first + (last - first) // 2
        return 1 + write(first, middle) + write(middle, last)

    return write(0, requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2000)
    args = parser.parse_args()
    asset = json.dumps(
        {"site_id": "x", "kind": "garage_door", "attributes": {f"k{i}": "v" * 20 for i in range(50)}}
    ).encode()
    hostile = ('{"attributes": {"a": [' + "[]," * 349_000 + "[]]}}").encode()  # ~1 MB, depth 4
    deep = ('{"attributes": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    figures = {
        "protections on an answer's headers": f"{_headers_us(args.repeats):.1f} µs",
        f"nesting check, asset with 50 attributes ({len(asset)} B)": (
            f"{_median_us(lambda: nesting_depth(asset), args.repeats):.1f} µs"
        ),
        "nesting check, 1 MB of shallow brackets": f"{_ms(lambda: nesting_depth(hostile)):.1f} ms",
        f"nesting check, 100,000 levels ({len(deep)} B)": f"{_ms(lambda: nesting_depth(deep)):.1f} ms",
    }
    for what, figure in figures.items():
        print(f"{what}: {figure}")
    for n in (2, 50, 400):
        print(f"writes for a flush of {n} requests with one failing: {_writes_for_one_failure(n, n // 2)}")


if __name__ == "__main__":
    main()
