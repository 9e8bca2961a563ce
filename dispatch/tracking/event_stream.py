"""Live job events for the board and the tracking page, from any API process.

PostgreSQL notifies `truckroll_events` after each statement that wrote job events, once it is
committed; one listener per process wakes every open stream, and each stream reads its events
after the last id it read to, from the table. A wake-up is only a hint: a stream also polls now
and then, so a lost notification or a reconnecting listener delays an event but never drops it,
and `Last-Event-ID` resumes exactly.

Ids are handed out at insert but become visible at commit, so a lower id can appear after a
higher one. Which ids are still missing is a fact about the table, not about any one stream: each
process follows it once, for all its streams, as a few ranges of ids (`_Horizon`). A stream reads
the new ids up to the highest committed one, plus the ranges that were missing when it last read;
so what it keeps is those ranges and the few ids it sent from them, however busy the history
between its events.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import re
import weakref
from collections.abc import AsyncGenerator, Iterator, Sequence
from dataclasses import dataclass
from typing import cast
from uuid import UUID

from dispatch.models import JobEvent
from dispatch.tracking import board_queries, stream_queries
from dispatch.tracking.stream_queries import IdRange
from infra.db import Connection, Pool
from infra.errors import DomainError
from infra.listen import listen

log = logging.getLogger("truckroll.event_stream")

CHANNEL = "truckroll_events"
MAX_EVENT_ID = 2**63 - 1  # job_events.id is a bigint
# An insert takes its id a moment before its transaction has an id of its own (the instant in
# which it would be missing from the snapshot's running transactions): a missing id is given up
# no sooner than this, however quiet the database.
GAP_MIN_AGE_S = 1.0
# A process that starts following events looks this many ids back for ones still uncommitted.
FIRST_LOOK_BACK = 100_000
# A stream that wakes by its own timer (no notification) accepts a look this recent.
POLL_FRESH_S = 1.0
_EVENT_ID = re.compile(r"[0-9]{1,19}")


def parse_event_id(raw: str, field: str = "Last-Event-ID") -> int:
    """An event id as a client sends it back (`Last-Event-ID`): a whole number within bigint.
    Anything else is malformed (400), not an id we merely do not have."""
    text = raw.strip()
    if not _EVENT_ID.fullmatch(text) or int(text) > MAX_EVENT_ID:
        raise DomainError(f"{field}: an event id is a whole number from 0 to {MAX_EVENT_ID}", field=field)
    return int(text)


@dataclass(frozen=True, slots=True)
class _Gap:
    """Ids lo..hi, not committed when first seen missing, and the transactions then running (it
    is one of them that holds these ids, if any does)."""

    lo: int
    hi: int
    running: frozenset[int]
    since: float


@dataclass(frozen=True, slots=True)
class Seen:
    """Every id up to `top` has committed, except those in `missing` (ascending, disjoint), which
    still may."""

    top: int
    missing: tuple[IdRange, ...]


class _Horizon:
    """Which event ids have committed, and which below the highest are missing, for one process.

    A missing id is given up once every transaction that was running when it was first missed has
    ended: by then it either committed (and shows) or never will. So an event of a transaction that
    stays open for minutes still reaches the streams when it commits. At most `gaps_max` ranges are
    followed; past that the oldest are given up (and said so in the log)."""

    def __init__(self, gaps_max: int) -> None:
        self._gaps_max = gaps_max
        self._gaps: list[_Gap] = []
        self._top: int | None = None
        self.seen: Seen | None = None
        self.looked_for = -1  # the hub's wake count when the last look began
        self.looked_at = float("-inf")

    async def look(self, conn: Connection, now: float) -> Seen:
        if self._top is None:
            self._top = max(0, await board_queries.latest_event_id(conn) - FIRST_LOOK_BACK)
        old_top = self._top
        found = await stream_queries.committed_since(conn, old_top, [IdRange(g.lo, g.hi) for g in self._gaps])
        running = _running(found.snapshot)
        starts = [g.lo for g in self._gaps]
        gaps: list[_Gap] = []
        for hole in found.missing:
            if hole.lo > old_top:
                gaps.append(_Gap(hole.lo, hole.hi, running, now))
                continue
            # What is left of a range asked about keeps when, and under which transactions, it was missed.
            first = self._gaps[bisect.bisect_right(starts, hole.lo) - 1]
            if running.isdisjoint(first.running) and now - first.since >= GAP_MIN_AGE_S:
                continue  # rolled back, or never written: it will not show any more
            gaps.append(_Gap(hole.lo, hole.hi, first.running, first.since))
        gaps.sort(key=lambda g: g.lo)
        if len(gaps) > self._gaps_max:
            dropped = gaps[: len(gaps) - self._gaps_max]
            gaps = gaps[len(dropped) :]
            log.warning(
                "following at most %d ranges of uncommitted event ids: gave up ids %d..%d (%d ranges);"
                " streams will not send them if they commit",
                self._gaps_max,
                dropped[0].lo,
                dropped[-1].hi,
                len(dropped),
            )
        self._gaps = gaps
        self._top = old_top if found.top is None else found.top
        self.seen = Seen(self._top, tuple(IdRange(g.lo, g.hi) for g in gaps))
        return self.seen


def _running(snapshot: str) -> frozenset[int]:
    """The transactions in progress in a `pg_current_snapshot()` (`xmin:xmax:xip,...`)."""
    listed = snapshot.split(":")[2]
    return frozenset(int(x) for x in listed.split(",")) if listed else frozenset()


# Every hub in this process, so a shutdown signal can end every open stream.
_HUBS: weakref.WeakSet[EventHub] = weakref.WeakSet()


class EventHub:
    def __init__(self, *, gap_ranges_max: int = 1000) -> None:
        self._waiters: set[asyncio.Event] = set()
        self.draining = False
        self.wakes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._horizon = _Horizon(gap_ranges_max)
        self._looking = asyncio.Lock()
        _HUBS.add(self)

    def wake(self, *_: object) -> None:
        self.wakes += 1
        for waiter in self._waiters:
            waiter.set()

    def drain(self) -> None:
        """End every open stream (the process is shutting down): each ends after the events it
        has, and its listener reconnects to another process with Last-Event-ID."""
        self.draining = True
        self.wake()

    @contextlib.contextmanager
    def waiter(self) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            yield event
        finally:
            self._waiters.discard(event)

    async def seen(self, pool: Pool, *, wake: int, since: float | None = None) -> Seen:
        """What has committed, as of a look begun after wake-up number `wake` (and no earlier
        than `since`): one look serves every stream woken together."""
        async with self._looking:
            horizon = self._horizon
            fresh = horizon.looked_for >= wake and (since is None or horizon.looked_at >= since)
            if fresh and horizon.seen is not None:
                return horizon.seen
            began, now = self.wakes, asyncio.get_running_loop().time()
            async with pool.acquire() as proxy:
                seen = await horizon.look(cast(Connection, proxy), now)
            horizon.looked_for, horizon.looked_at = began, now
            return seen

    async def follow(self, dsn: str, *, retry_s: float = 1.0) -> None:
        """Listen until cancelled, reconnecting after a lost connection."""
        self._loop = asyncio.get_running_loop()
        await listen(dsn, CHANNEL, self.wake, retry_s=retry_s)


def drain_all() -> None:
    """From a signal handler or another thread: drain every hub on its own loop."""
    for hub in list(_HUBS):
        if hub._loop is not None and not hub._loop.is_closed():
            hub._loop.call_soon_threadsafe(hub.drain)
        else:
            hub.drain()


async def stream(
    pool: Pool,
    hub: EventHub,
    *,
    after: int,
    territory_id: UUID | None,
    job_id: UUID | None = None,
    poll_s: float = 15.0,
    ended: asyncio.Event | None = None,
    link_hash: bytes | None = None,
    batch: int = 500,
) -> AsyncGenerator[JobEvent, None]:
    """Events after `after` (no later than the newest event), then each new one as it commits,
    until the hub drains or `ended` is set. A stream followed through a tracking link sends
    nothing written after the link stopped working, even before `ended` tells it so."""
    loop = asyncio.get_running_loop()
    last = after
    missing: tuple[IdRange, ...] | None = None  # ids at or below `last` that may still commit
    sent: set[int] = set()  # what was sent from `missing`
    since: float | None = None
    with hub.waiter() as woken:
        while not _over(hub, ended):
            woken.clear()
            seen = await hub.seen(pool, wake=hub.wakes, since=since)
            if missing is None:
                last = min(last, seen.top)
                missing = _upto(seen.missing, last)
            async with pool.acquire() as proxy:
                events = await stream_queries.stream_events(
                    cast(Connection, proxy),
                    after=last,
                    upto=seen.top,
                    missing=missing,
                    skip=sent,
                    territory_id=territory_id,
                    job_id=job_id,
                    limit=batch,
                    link_hash=link_hash,
                )
            for event in events:
                if _over(hub, ended):
                    return
                yield event
            # Read through `mark`: what was missing up to there is what `seen` still misses; past
            # it (a full batch ended early), what was asked for stays asked for.
            full = len(events) == batch
            mark = events[-1].id if full else seen.top
            missing = _upto(seen.missing, mark) + _above(missing, mark)
            last = max(last, mark)
            sent = {i for i in sent.union(e.id for e in events) if _within(i, missing)}
            since = None
            if full:
                continue
            try:
                await asyncio.wait_for(_woken(woken, ended), poll_s)
            except TimeoutError:
                since = loop.time() - POLL_FRESH_S


def _over(hub: EventHub, ended: asyncio.Event | None) -> bool:
    return hub.draining or (ended is not None and ended.is_set())


async def _woken(woken: asyncio.Event, ended: asyncio.Event | None) -> None:
    if ended is None:
        await woken.wait()
        return
    waits = {asyncio.ensure_future(woken.wait()), asyncio.ensure_future(ended.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()


def _upto(ranges: Sequence[IdRange], mark: int) -> tuple[IdRange, ...]:
    return tuple(IdRange(r.lo, min(r.hi, mark)) for r in ranges if r.lo <= mark)


def _above(ranges: Sequence[IdRange], mark: int) -> tuple[IdRange, ...]:
    return tuple(IdRange(max(r.lo, mark + 1), r.hi) for r in ranges if r.hi > mark)


def _within(event_id: int, ranges: Sequence[IdRange]) -> bool:
    return any(r.lo <= event_id <= r.hi for r in ranges)
