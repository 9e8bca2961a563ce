"""/health latency on one API process while a flood of wrong sign-ins runs.

    python -m tests.bench.bench_login_flood [--attackers 16] [--seconds 10] [--source DIR]

The API runs as its own process (uvicorn, one worker) from `--source` (default: this tree; point
it at a checkout of an older commit to measure that). Attackers ignore Retry-After and send the
next wrong password as soon as an answer comes: a quarter on one account from one address, a
quarter on that account from rotating addresses, half on many accounts from many addresses
(X-Forwarded-For, which uvicorn trusts from loopback). A probe asks /health every 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np
from argon2 import PasswordHasher

from infra.db import connect
from tests.bench.common import SECRET, scratch_database
from tests.bench.http_load import Connection
from tests.live_server import free_port

ACCOUNTS = 50


async def wait_until_up(base: str, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            probe = await Connection.open(base)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        try:
            if (await probe.request("GET", "/health"))[0] == 200:
                return
        finally:
            await probe.close()
    raise RuntimeError("the API did not start")


async def probe_health(base: str, stop: asyncio.Event) -> list[float]:
    conn = await Connection.open(base)
    samples = []
    try:
        while not stop.is_set():
            started = time.perf_counter()
            status, _ = await conn.request("GET", "/health")
            assert status == 200
            samples.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    return samples


async def attacker(base: str, n: int, attackers: int, stop: asyncio.Event, statuses: Counter[int]) -> None:
    conn = await Connection.open(base)
    sent = 0
    try:
        while not stop.is_set():
            if n < attackers // 4:  # one account, one address
                email, address = "target@example.com", "203.0.113.1"
            elif n < attackers // 2:  # one account, many addresses
                email, address = "target@example.com", f"198.51.100.{sent % 250 + 1}"
            else:  # many accounts, many addresses
                email, address = (
                    f"user{(n * 7 + sent) % ACCOUNTS}@example.com",
                    f"192.0.2.{(n + sent) % 250 + 1}",
                )
            body = msgspec.json.encode({"email": email, "password": f"guess {n} {sent}"})
            status, _ = await conn.request("POST", "/auth/login", body, {"X-Forwarded-For": address})
            statuses[status] += 1
            sent += 1
    finally:
        await conn.close()


def start_api(source: Path, dsn: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "DATABASE_URL": dsn,
        "TRUCKROLL_JWT_SECRET": SECRET,
        "TRUCKROLL_DATA_DIR": data_dir,
        "TRUCKROLL_RISK_SCAN_S": "0",
        "TRUCKROLL_LOG_LEVEL": "WARNING",
    }
    uvicorn = ["-m", "uvicorn", "api.app:app_from_environment", "--factory", "--log-level", "warning"]
    return subprocess.Popen(
        [sys.executable, *uvicorn, "--host", "127.0.0.1", "--port", str(port)], cwd=source, env=env
    )


def summary(samples_s: list[float]) -> str:
    ms = np.asarray(samples_s) * 1000
    return (
        f"p50 {np.percentile(ms, 50):7.1f} ms   p99 {np.percentile(ms, 99):7.1f} ms   "
        f"max {ms.max():7.1f} ms   ({len(ms)} probes)"
    )


async def run(source: Path, attackers: int, seconds: float) -> None:
    async with scratch_database() as dsn:
        conn = await connect(dsn)
        password_hash = PasswordHasher().hash("the real password, never guessed")
        await conn.executemany(
            "INSERT INTO users (email, password_hash, role) VALUES ($1, $2, 'dispatcher')",
            [(f"user{i}@example.com", password_hash) for i in range(ACCOUNTS)]
            + [("target@example.com", password_hash)],
        )
        await conn.close()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        data_dir = tempfile.TemporaryDirectory(prefix="truckroll-bench-data-")
        server = start_api(source, dsn, port, data_dir.name)
        try:
            await wait_until_up(base)
            stop = asyncio.Event()
            quiet = asyncio.create_task(probe_health(base, stop))
            await asyncio.sleep(seconds / 2)
            stop.set()
            quiet_samples = await quiet

            stop = asyncio.Event()
            statuses: Counter[int] = Counter()
            flood = [
                asyncio.create_task(attacker(base, n, attackers, stop, statuses)) for n in range(attackers)
            ]
            await asyncio.sleep(1)  # the flood is in full swing
            probe = asyncio.create_task(probe_health(base, stop))
            await asyncio.sleep(seconds)
            stop.set()
            flood_samples = await probe
            await asyncio.gather(*flood)
        finally:
            server.terminate()
            server.wait(timeout=30)
            data_dir.cleanup()
    elapsed = seconds + 1
    print(f"source: {source}")
    print(f"/health, no attack:            {summary(quiet_samples)}")
    print(f"/health, {attackers:>2} attackers:        {summary(flood_samples)}")
    answers = ", ".join(
        f"{code}: {count} ({count / elapsed:.0f}/s)" for code, count in sorted(statuses.items())
    )
    print(f"sign-in answers during the flood: {answers}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--attackers", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--source", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args()
    asyncio.run(run(args.source.resolve(), args.attackers, args.seconds))


if __name__ == "__main__":
    main()
