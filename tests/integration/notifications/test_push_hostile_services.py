"""Push services that answer like an attacker's, against `truckroll worker` itself: a browser's
endpoint is the subscriber's choice, so whoever holds a tracking link chooses a server the worker
talks to. Whatever that server answers costs the worker little and fails only its own delivery;
and a job flooded with deliveries holds no one else's back."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from uuid import UUID

import httpx
import pytest

from infra.db import Connection
from tests.factories_matching import job, north, site, technician, territory
from tests.integration.notifications.test_push import Browser
from tests.integration.notifications.test_push_worker_faults import queue, subscribe, worker
from tests.live_server import free_port


@pytest.fixture
def hostile() -> Iterator[str]:
    """tests/hostile_push_service.py in its own process: the path of an endpoint picks its answer."""
    port = free_port()
    service = subprocess.Popen([sys.executable, "-m", "tests.hostile_push_service", str(port)])
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                httpx.get(f"{base}/counts")
                break
            time.sleep(0.05)
        yield base
    finally:
        service.terminate()
        service.wait()


async def counts(base: str) -> dict[str, int]:
    async with httpx.AsyncClient() as client:
        answer: dict[str, int] = (await client.get(f"{base}/counts")).json()
        return answer


async def arrivals(base: str) -> list[tuple[str, float]]:
    async with httpx.AsyncClient() as client:
        return [(path, at) for path, at in (await client.get(f"{base}/arrivals")).json()]


async def a_job(conn: Connection) -> UUID:
    return await job(conn, await site(conn, await territory(conn), north(1)), (8, 12))


async def test_an_absurd_retry_after_delays_its_own_delivery_and_no_honest_push_goes_twice(
    conn: Connection, dsn: str, tmp_path: Path, hostile: str
) -> None:
    job_id = await a_job(conn)
    keys = Browser().keys()
    honest = [f"/push/ok/{i}" for i in range(20)]
    # Each a way to say "later" that no clock can hold, or that is not a number of seconds at all.
    absurd = ["1e12", "inf", "nan", "-1", "9" * 30, "Fri, 31 Dec 9999 23:59:59 GMT"]
    hostile_paths = [f"/push/retry/{quote(value, safe='')}/{i}" for i, value in enumerate(absurd)]
    for path in honest + hostile_paths:
        await subscribe(conn, job_id, hostile + path, keys)
    await queue(conn, job_id)

    assert await asyncio.to_thread(worker(dsn, tmp_path, "--once").wait) == 0
    # Straight away again: what was recorded as sent is not sent again, what waits is not yet due.
    assert await asyncio.to_thread(worker(dsn, tmp_path, "--once").wait) == 0

    arrived = await counts(hostile)
    assert [arrived.get(path, 0) for path in honest] == [1] * 20
    rows = await conn.fetch(
        "SELECT endpoint, status, attempts, next_attempt_at - now() AS wait FROM push_deliveries"
    )
    by_path = {r["endpoint"].removeprefix(hostile): r for r in rows}
    assert {by_path[p]["status"] for p in honest} == {"sent"}
    for path in hostile_paths:
        assert by_path[path]["status"] == "pending"
        # Honoured up to TRUCKROLL_PUSH_MAX_DELAY_S (an hour). A value that is no Retry-After
        # ("nan", "-1", ...) leaves our own backoff: 1-2 s after a first attempt, which a second
        # worker starting on a busy machine may outlast, and then it tries once more.
        tries = by_path[path]["attempts"]
        assert arrived.get(path, 0) == tries
        assert tries in (1, 2)
        assert timedelta(0) < by_path[path]["wait"] <= timedelta(hours=1)


async def test_an_attempt_the_database_refuses_to_record_fails_alone(
    conn: Connection, dsn: str, tmp_path: Path, hostile: str
) -> None:
    job_id = await a_job(conn)
    keys = Browser().keys()
    for path in ["/push/ok/refused"] + [f"/push/ok/{i}" for i in range(4)]:
        await subscribe(conn, job_id, hostile + path, keys)
    await queue(conn, job_id)
    # Whatever makes one row's record fail (here a trigger, standing for any value the database
    # refuses): the batch's other outcomes must still be written.
    await conn.execute(
        """
        CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.endpoint LIKE '%/refused' AND NEW.attempts > OLD.attempts THEN
                RAISE EXCEPTION 'refused';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER refuse BEFORE UPDATE ON push_deliveries FOR EACH ROW EXECUTE FUNCTION refuse();
        """
    )
    assert await asyncio.to_thread(worker(dsn, tmp_path, "--once").wait) == 0
    rows = {
        r["endpoint"].rsplit("/", 1)[1]: r
        for r in await conn.fetch(
            "SELECT endpoint, status, attempts, leased_until > now() AS leased FROM push_deliveries"
        )
    }
    assert [rows[str(i)]["status"] for i in range(4)] == ["sent"] * 4
    # Unrecorded, it stays leased, and is sent again when the lease runs out.
    assert (rows["refused"]["status"], rows["refused"]["attempts"], rows["refused"]["leased"]) == (
        "pending",
        0,
        True,
    )


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Wait for the process, watching its peak resident memory (VmHWM) until it exits."""
    peak = 0.0
    while process.poll() is None:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        time.sleep(0.02)
    return peak


async def test_endless_and_huge_answers_cost_the_worker_a_few_kilobytes_each(
    conn: Connection, dsn: str, tmp_path: Path, hostile: str
) -> None:
    job_id = await a_job(conn)
    keys = Browser().keys()
    paths = (
        [f"/push/endless/{i}" for i in range(3)] + [f"/push/body/300/{i}" for i in range(3)] + ["/push/ok/0"]
    )
    for path in paths:
        await subscribe(conn, job_id, hostile + path, keys)
    await queue(conn, job_id)

    sending = worker(dsn, tmp_path, "--once", env={"TRUCKROLL_PUSH_TIMEOUT_S": "3"})
    peak = await asyncio.to_thread(peak_rss_mb, sending)
    assert sending.returncode == 0
    # At rest the worker holds about 55 MB; reading these answers whole took it to 490 MB.
    assert peak < 150, f"the worker's memory peaked at {peak:.0f} MB"
    # The status is all a push needs: each was accepted, and its body left unread.
    statuses = await conn.fetch("SELECT status, last_error FROM push_deliveries")
    assert [(r["status"], r["last_error"]) for r in statuses] == [("sent", None)] * len(paths)


@pytest.mark.parametrize(
    ("subscriptions", "messages"),
    [(2000, 1), (1, 600)],
    ids=["a job with 2,000 subscriptions", "a job with 600 messages"],
)
async def test_a_technicians_message_is_not_held_back_by_a_flooded_job(
    conn: Connection, dsn: str, tmp_path: Path, hostile: str, subscriptions: int, messages: int
) -> None:
    metro = await territory(conn)
    flooded = await job(conn, await site(conn, metro, north(1)), (8, 12))
    keys = Browser().keys()
    await conn.executemany(
        "INSERT INTO push_subscriptions (job_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)",
        [
            (flooded, f"{hostile}/push/ok/flood-{i}", keys["p256dh"], keys["auth"])
            for i in range(subscriptions)
        ],
    )
    for _ in range(messages):
        await queue(conn, flooded)
    ann = await technician(conn, metro, "Ann Springs", north(2))
    login = await conn.fetchval(
        "INSERT INTO users (email, password_hash, role, technician_id) VALUES ('ann@example.com', 'x',"
        " 'technician', $1) RETURNING id",
        ann,
    )
    await conn.execute(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)",
        login,
        f"{hostile}/push/ok/ann",
        keys["p256dh"],
        keys["auth"],
    )
    # Written last, behind the whole flood.
    await conn.execute(
        "INSERT INTO outbox (kind, audience, job_id, technician_id, payload)"
        " VALUES ('job_added', 'technician', $1, $2, '{}')",
        flooded,
        ann,
    )
    delivering = worker(dsn, tmp_path)
    try:
        for _ in range(600):
            if (await counts(hostile)).get("/push/ok/ann"):
                break
            await asyncio.sleep(0.05)
    finally:
        delivering.send_signal(signal.SIGTERM)
        await asyncio.to_thread(delivering.wait, 30)
    pushes = await arrivals(hostile)
    ann_at = [at for path, at in pushes if path == "/push/ok/ann"]
    assert ann_at, "the technician's message never arrived"
    ahead = sum(1 for path, at in pushes if "/flood-" in path and at < ann_at[0])
    # Two lanes may each have a batch of 200 in flight before hers is claimed; first come, first
    # served, she waited for all 2,000 (or 600).
    assert ahead < 400, f"{ahead} of the flooded job's pushes went before the technician's"
