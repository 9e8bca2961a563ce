"""Live job events for the board (and later the tracking page), from any API process.

PostgreSQL notifies `truckroll_events` after each statement that wrote job events, once it is
committed; one listener per process wakes every open stream, and each stream reads the events
after the last id it sent, from the table. A wake-up is only a hint: a stream also polls now and
then, so a lost notification or a reconnecting listener delays an event but never drops it, and
`Last-Event-ID` resumes exactly.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import cast
from uuid import UUID

from dispatch import board_queries
from dispatch.models import JobEvent
from infra.db import Connection, Pool
from infra.listen import listen

CHANNEL = "truckroll_events"
GAP_PATIENCE_S = 30.0


# Every hub in this process, so a shutdown signal can end every open stream.
_HUBS: weakref.WeakSet[EventHub] = weakref.WeakSet()


class EventHub:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Event] = set()
        self.draining = False
        self._loop: asyncio.AbstractEventLoop | None = None
        _HUBS.add(self)

    def wake(self, *_: object) -> None:
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
) -> AsyncIterator[JobEvent]:
    """Events after `after`, then each new one as it commits.

    Ids are handed out at insert but become visible at commit, so a lower id can appear after a
    higher one: a skipped id is asked for again until it shows up or is old enough to be a rolled
    back transaction's.
    """
    last = after
    gaps: dict[int, float] = {}  # missing id -> when first missed
    loop = asyncio.get_running_loop()
    with hub.waiter() as woken:
        while not hub.draining:
            woken.clear()
            now = loop.time()
            gaps = {i: t for i, t in gaps.items() if now - t < GAP_PATIENCE_S}
            async with pool.acquire() as proxy:
                events = await board_queries.events_after(
                    cast(Connection, proxy), last, also=sorted(gaps), territory_id=territory_id, job_id=job_id
                )
            for event in events:
                if event.id in gaps:
                    del gaps[event.id]
                elif event.id > last:
                    for missing in range(last + 1, event.id):
                        gaps.setdefault(missing, now)
                    last = event.id
                yield event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), poll_s)
