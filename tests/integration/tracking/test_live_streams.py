"""The live streams (tracking page, board) against what an anonymous caller can send them: a busy
history between a job's events, resume ids out of range, a link revoked while its page is open;
and transactions committing out of order. Real HTTP (uvicorn on loopback), real PostgreSQL."""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import httpx
import msgspec
import pytest
from litestar import Litestar

from api.app import create_app
from dispatch.tracking.event_stream import GAP_MIN_AGE_S, EventHub
from dispatch.tracking.links import create_link
from dispatch.tracking.stream_queries import IdRange
from infra.db import Connection, connect, create_pool
from infra.settings import Settings
from tests.conftest import Auth
from tests.factories_matching import at, job, north, site, territory
from tests.live_server import serving

# Enough foreign events for the old per-stream gap dict to show (it held ~100 bytes an id), few
# enough to write in a second with one statement.
FOREIGN = 200_000
BIGINT_MAX = 2**63 - 1  # job_events.id
INSERT_ID = "INSERT INTO job_events (job_id, kind) VALUES ($1, 'note') RETURNING id"


@dataclass(frozen=True)
class Sse:
    id: int | None
    event: str | None
    data: str | None


class Reader:
    """The messages of one SSE response, with the end of the stream as None."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.aiter_lines()

    async def next(self, timeout_s: float = 10) -> Sse | None:
        fields: dict[str, str] = {}
        async with asyncio.timeout(timeout_s):
            async for line in self._lines:
                if line.startswith(":"):
                    continue
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = value.strip()
                elif "data" in fields:
                    return Sse(
                        int(fields["id"]) if "id" in fields else None, fields.get("event"), fields["data"]
                    )
                else:
                    fields = {}
        return None

    async def events(self, count: int, timeout_s: float = 10) -> list[Sse]:
        found: list[Sse] = []
        while len(found) < count:
            message = await self.next(timeout_s)
            assert message is not None, f"the stream ended after {found}"
            found.append(message)
        return found


@dataclass(frozen=True)
class Tracked:
    job_id: UUID
    other_job_id: UUID
    token: str


@pytest.fixture
async def tracked(conn: Connection) -> Tracked:
    metro = await territory(conn)
    job_id = await job(conn, await site(conn, metro, north(1)), (8, 12))
    other = await job(conn, await site(conn, metro, north(2)), (8, 12))
    link = await create_link(conn, job_id, window_end_at=at(12), ttl=timedelta(days=30))
    return Tracked(job_id, other, link.token)


async def event(dsn: str, job_id: UUID, kind: str = "intake") -> int:
    conn = await connect(dsn)
    try:
        new_id: int = await conn.fetchval(
            "INSERT INTO job_events (job_id, kind) VALUES ($1, $2) RETURNING id", job_id, kind
        )
        return new_id
    finally:
        await conn.close()


async def busy_history(conn: Connection, job_id: UUID, count: int = FOREIGN) -> None:
    await conn.execute(
        "INSERT INTO job_events (job_id, kind) SELECT $1, 'note' FROM generate_series(1, $2)", job_id, count
    )


@asynccontextmanager
async def api(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        yield http


def traced_kib() -> int:
    return tracemalloc.get_traced_memory()[0] // 1024


@pytest.mark.parametrize("opened", ["resumed from 0", "open before the history"])
async def test_a_tracking_stream_keeps_nothing_of_the_busy_history_between_its_events(
    app: Litestar, conn: Connection, dsn: str, tracked: Tracked, opened: str
) -> None:
    # The attack: one anonymous GET with Last-Event-ID: 0 over a busy history (or just an open
    # tracking page while the company is busy). The stream kept every other job's id between two
    # of this job's events as "missing", ~100 bytes each, and asked PostgreSQL for all of them on
    # every wake-up. What a stream keeps must not grow with other jobs' events.
    first = await event(dsn, tracked.job_id)
    if opened == "resumed from 0":
        await busy_history(conn, tracked.other_job_id)
        last = await event(dsn, tracked.job_id, "assigned")
    tracemalloc.start()
    try:
        async with api(app) as http:
            before_kib = traced_kib()
            headers = {"Last-Event-ID": "0"} if opened == "resumed from 0" else {}
            async with http.stream("GET", f"/track/{tracked.token}/events", headers=headers) as response:
                assert response.status_code == 200
                reader = Reader(response)
                await asyncio.sleep(0.3)  # the stream has read what there was
                if opened == "open before the history":
                    await busy_history(conn, tracked.other_job_id)
                    last = await event(dsn, tracked.job_id, "assigned")
                    got = await reader.events(1)
                else:
                    got = await reader.events(2)
                # Another change after the history: the stream is still live, and what it holds
                # now is all it keeps.
                newest = await event(dsn, tracked.job_id, "status")
                (live,) = await reader.events(1)
                grown_kib = traced_kib() - before_kib
    finally:
        tracemalloc.stop()
    expected = [first, last] if opened == "resumed from 0" else [last]
    assert [e.id for e in got] == expected
    assert live.id == newest
    # The old stream held 200,000 ids (~20 MB); a few hundred KiB is the server's own churn.
    assert grown_kib < 2048, f"the stream grew the API by {grown_kib} KiB"


async def test_a_resume_id_past_the_newest_event_starts_from_the_newest(
    app: Litestar, dsn: str, tracked: Tracked
) -> None:
    # A client (or a forger) resuming from an id that does not exist yet would otherwise hear
    # nothing until the table caught up with it: the id is taken as the newest one there is.
    async with (
        api(app) as http,
        http.stream(
            "GET", f"/track/{tracked.token}/events", headers={"Last-Event-ID": str(10**18)}
        ) as response,
    ):
        assert response.status_code == 200
        await asyncio.sleep(0.3)
        new_id = await event(dsn, tracked.job_id)
        (got,) = await Reader(response).events(1)
    assert got.id == new_id


# b"\xb2" is "²" in Latin-1, how HTTP headers are read: a digit to str.isdigit, not to int().
@pytest.mark.parametrize("sent", [str(BIGINT_MAX + 1), "9" * 40, b"\xb2", "-1", "1e3", "0x10", ""])
async def test_a_resume_id_that_is_no_event_id_is_refused(
    app: Litestar, tracked: Tracked, dispatcher: Auth, sent: str | bytes
) -> None:
    async with api(app) as http:
        for path, headers in (
            (f"/track/{tracked.token}/events", {}),
            ("/board/stream", dispatcher.headers),
        ):
            raw = sent if isinstance(sent, bytes) else sent.encode()
            sending = [(k.encode(), v.encode()) for k, v in headers.items()] + [(b"Last-Event-ID", raw)]
            response = await http.get(path, headers=sending)
            assert response.status_code == 400, (path, sent, response.text)
            body = response.json()
            assert "Last-Event-ID" in body["detail"]
            assert "9223372036854775807" in body["detail"]


async def test_a_board_start_id_past_bigint_is_refused(app: Litestar, dispatcher: Auth) -> None:
    async with api(app) as http:
        response = await http.get(
            "/board/stream", params={"after": str(BIGINT_MAX + 1)}, headers=dispatcher.headers
        )
    assert response.status_code == 400, response.text
    assert "after" in response.text


async def test_events_committed_out_of_order_all_reach_the_streams(
    app: Litestar, conn: Connection, dsn: str, tracked: Tracked, dispatcher: Auth
) -> None:
    # Ids are taken at insert and seen at commit. `slow` takes the lower id and commits last,
    # after more than the second a missing id is at least waited for, and after a rolled-back
    # insert left a hole of its own: every committed event still reaches both kinds of stream.
    metro = await conn.fetchval(
        "SELECT s.territory_id FROM jobs j JOIN sites s ON s.id = j.site_id WHERE j.id = $1", tracked.job_id
    )
    async with (
        api(app) as http,
        http.stream("GET", f"/track/{tracked.token}/events") as page,
        http.stream(
            "GET", "/board/stream", params={"territory_id": str(metro)}, headers=dispatcher.headers
        ) as board,
    ):
        await asyncio.sleep(0.3)
        slow, dropped = await connect(dsn), await connect(dsn)
        try:
            slow_tx, dropped_tx = slow.transaction(), dropped.transaction()
            await slow_tx.start()
            held = await slow.fetchval(
                "INSERT INTO job_events (job_id, kind) VALUES ($1, 'assigned') RETURNING id", tracked.job_id
            )
            await dropped_tx.start()
            await dropped.execute(
                "INSERT INTO job_events (job_id, kind) VALUES ($1, 'status')", tracked.job_id
            )
            await dropped_tx.rollback()
            quick = await event(dsn, tracked.job_id, "status")
            page_reader, board_reader = Reader(page), Reader(board)
            (quick_on_page,) = await page_reader.events(1)
            (quick_on_board,) = await board_reader.events(1)
            await asyncio.sleep(1.5)
            note = await event(dsn, tracked.other_job_id, "note")  # wakes the streams; `slow` still open
            (note_on_board,) = await board_reader.events(1)
            await slow_tx.commit()
            (held_on_page,) = await page_reader.events(1)
            (held_on_board,) = await board_reader.events(1)
        finally:
            await slow.close()
            await dropped.close()
    assert held < quick
    assert [quick_on_page.id, held_on_page.id] == [quick, held]
    assert [quick_on_board.id, note_on_board.id, held_on_board.id] == [quick, note, held]
    assert msgspec.json.decode(held_on_page.data or "") == {"status": None}


async def test_revoking_a_link_ends_the_stream_open_on_it(
    settings: Settings, dsn: str, tracked: Tracked, dispatcher: Auth
) -> None:
    # The page stays open after the dispatcher revokes the link (sent to the wrong person): its
    # stream must end, and the browser's reconnection finds the link gone.
    app = create_app(msgspec.structs.replace(settings, track_link_check_s=0.2), dsn=dsn)
    url = f"/track/{tracked.token}/events"
    async with api(app) as http, http.stream("GET", url) as response:
        assert response.status_code == 200
        reader = Reader(response)
        await asyncio.sleep(0.3)
        revoked = await http.delete(f"/jobs/{tracked.job_id}/tracking-links", headers=dispatcher.headers)
        assert revoked.json() == {"revoked": 1}
        await event(dsn, tracked.job_id, "status")  # what the holder must no longer hear
        assert await reader.next(timeout_s=5) is None
        assert (await http.get(url)).status_code == 404


async def test_a_link_expiring_ends_the_stream_open_on_it(
    settings: Settings, conn: Connection, dsn: str, tracked: Tracked
) -> None:
    app = create_app(msgspec.structs.replace(settings, track_link_check_s=0.2), dsn=dsn)
    async with api(app) as http, http.stream("GET", f"/track/{tracked.token}/events") as response:
        reader = Reader(response)
        await asyncio.sleep(0.3)
        await conn.execute(
            "UPDATE tracking_tokens SET created_at = now() - interval '2 days',"
            " expires_at = now() - interval '1 second'"
        )
        assert await reader.next(timeout_s=5) is None


async def test_a_process_follows_uncommitted_ids_as_a_bounded_number_of_ranges(
    conn: Connection, dsn: str, tracked: Tracked, caplog: pytest.LogCaptureFixture
) -> None:
    # Four transactions each hold an id, with committed ids between them: four missing ranges,
    # followed while a transaction that may hold them runs (however long that is), at most
    # `gap_ranges_max` of them, the newest.
    hub = EventHub(gap_ranges_max=3)
    pool = await create_pool(dsn, min_size=1, max_size=2)
    holders = [await connect(dsn) for _ in range(4)]
    try:
        seen = await hub.seen(pool, wake=0)
        held = []
        for holder in holders:
            await holder.execute("BEGIN")
            held.append(await holder.fetchval(INSERT_ID, tracked.job_id))
            await conn.fetchval(INSERT_ID, tracked.job_id)
        hub.wake()
        seen = await hub.seen(pool, wake=hub.wakes)
        assert seen.missing == tuple(IdRange(i, i) for i in held[1:])
        assert "gave up ids" in caplog.text
        await asyncio.sleep(GAP_MIN_AGE_S)
        hub.wake()
        assert (await hub.seen(pool, wake=hub.wakes)).missing == seen.missing  # still running
        await holders[1].execute("COMMIT")
        await holders[2].execute("ROLLBACK")
        hub.wake()
        # Which open transaction holds which id is unknown: a rolled-back id is given up once
        # every transaction running when it went missing has ended.
        assert (await hub.seen(pool, wake=hub.wakes)).missing == tuple(IdRange(i, i) for i in held[2:])
        await holders[0].execute("COMMIT")
        await holders[3].execute("ROLLBACK")
        hub.wake()
        assert (await hub.seen(pool, wake=hub.wakes)).missing == ()
    finally:
        for holder in holders:
            await holder.close()
        await pool.close()
