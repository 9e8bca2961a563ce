"""Pings from every phone on the road, written together.

Each request's pings are stored before it is answered, but requests that arrive while a write
is under way wait for the next one and go in together: one read and one write for all of
them. Under load this turns thousands of tiny statements a second into a few hundred larger
ones (the database's cost is per statement far more than per row); when the API is quiet a
request is written at once, alone, with no timer to wait for. What one request sent never fails
the others written with it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg

from dispatch.tracking.positions import Batch, PingsResult, record_many
from dispatch.travel.sources import TravelTimes
from infra.db import UNREACHABLE, Pool, acquire
from infra.errors import DatabaseUnavailableError

FLUSHES = 2  # writes in flight at once: one can be judged while the other waits on the database
# Failures of the database rather than of what a request sent: writing in halves cannot help.
_UNAVAILABLE = (DatabaseUnavailableError, asyncpg.InterfaceError, asyncpg.InternalClientError, *UNREACHABLE)


@dataclass
class PositionIntake:
    pool: Pool
    routing: TravelTimes | None = None
    flushes: int = 0  # writes made, however many requests each carried
    _waiting: list[tuple[Batch, asyncio.Future[PingsResult]]] = field(default_factory=list)
    _flushing: set[asyncio.Task[None]] = field(default_factory=set)

    async def record(self, batch: Batch) -> PingsResult:
        done: asyncio.Future[PingsResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((batch, done))
        if len(self._flushing) < FLUSHES:
            task = asyncio.create_task(self._flush())
            self._flushing.add(task)
            task.add_done_callback(self._flushing.discard)
        # A client that hangs up cancels only its own wait; the write it shares goes on.
        return await done

    async def _flush(self) -> None:
        while self._waiting:
            taken, self._waiting = self._waiting, []
            await self._write(taken)

    async def _write(self, taken: list[tuple[Batch, asyncio.Future[PingsResult]]]) -> None:
        """One write for all of `taken`. When it fails for something one request sent (a value
        only the database refuses, a technician record that is gone), the requests are written
        again in two halves, and so on down: only the request that caused it hears of it, for
        about 2 log2(n) writes. A database that is away fails everyone at once."""
        self.flushes += 1
        try:
            async with acquire(self.pool) as conn:
                results = await record_many(conn, [batch for batch, _ in taken], routing=self.routing)
        except Exception as error:
            if len(taken) > 1 and not isinstance(error, _UNAVAILABLE):
                half = len(taken) // 2
                await self._write(taken[:half])
                await self._write(taken[half:])
                return
            for _, done in taken:  # each request answers for itself
                if not done.done():
                    done.set_exception(error)
            return
        for (_, done), result in zip(taken, results, strict=True):
            if not done.done():
                done.set_result(result)

    async def close(self) -> None:
        """Let the writes under way finish (at shutdown)."""
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
