"""Pings from every phone on the road, written together.

Each request's pings are stored before it is answered, but requests that arrive while a write
is under way wait for the next one and go in together: one read and one write for all of
them. Under load this turns thousands of tiny statements a second into a few hundred larger
ones (the database's cost is per statement far more than per row); when the API is quiet a
request is written at once, alone, with no timer to wait for.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from dispatch.positions import Batch, PingsResult, record_many
from dispatch.travel import TravelTimes
from infra.db import Pool, acquire

FLUSHES = 2  # writes in flight at once: one can be judged while the other waits on the database


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
            self.flushes += 1
            try:
                async with acquire(self.pool) as conn:
                    results = await record_many(conn, [batch for batch, _ in taken], routing=self.routing)
            except Exception as error:  # every request of the flush hears why, and answers for itself
                for _, done in taken:
                    if not done.done():
                        done.set_exception(error)
                continue
            for (_, done), result in zip(taken, results, strict=True):
                if not done.done():
                    done.set_result(result)

    async def close(self) -> None:
        """Let the writes under way finish (at shutdown)."""
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)
