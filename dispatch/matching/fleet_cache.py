"""The fleet's days in memory, kept coherent with PostgreSQL.

Ranking needs every technician's day; reading and arranging 2,000 of them takes far longer than
ranking. Views are kept per (travel model, span of days) and dropped the moment the database says
the fleet changed (LISTEN on the channel the triggers of migration 0005 notify, so every API
process hears every change, whichever process made it). While the listener is not connected
nothing is cached, and a view is also never older than `max_age_s` because "now" moves the start
of days already under way. Only ranking reads from here: assigning re-reads the chosen technician
under a lock, so a view a few milliseconds old can reorder a shortlist but never break a day.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from dispatch.matching.fleet_view import FleetView
from infra.listen import listen

log = logging.getLogger("truckroll.fleet")
CHANNEL = "truckroll_fleet"


@dataclass
class _Entry:
    view: FleetView
    generation: int
    built_at: float


class FleetCache:
    def __init__(self, *, max_entries: int = 32, max_age_s: float = 60.0) -> None:
        self.max_entries = max_entries
        self.max_age_s = max_age_s
        self.generation = 0
        self.live = False  # caching only while we hear about changes
        self._entries: dict[Hashable, _Entry] = {}
        self.hits = 0
        self.misses = 0

    def invalidate(self, *_: object) -> None:
        self.generation += 1
        self._entries.clear()

    def set_live(self, live: bool) -> None:
        if not live and self.live and not _stopping():
            log.warning("lost the fleet change listener; ranking reads the database until it is back")
        self.live = live
        self.invalidate()

    async def view(self, key: Hashable, load: Callable[[], Awaitable[FleetView]]) -> FleetView:
        entry = self._entries.get(key)
        now = time.monotonic()
        if (
            self.live
            and entry
            and entry.generation == self.generation
            and now - entry.built_at < self.max_age_s
        ):
            self.hits += 1
            return entry.view
        self.misses += 1
        generation = self.generation
        view = await load()
        # A change heard while loading may not be in what was read: use it once, keep it not.
        if self.live and generation == self.generation:
            if len(self._entries) >= self.max_entries:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = _Entry(view, generation, now)
        return view


def _stopping() -> bool:
    """Whether the listener stops because its task is cancelled: the process is shutting down
    (Ctrl-C, a deploy), which is not losing the listener."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def follow_changes(dsn: str, cache: FleetCache, *, retry_s: float = 1.0) -> None:
    """Listen for fleet changes until cancelled; nothing is cached while not listening."""
    await listen(dsn, CHANNEL, cache.invalidate, connected=cache.set_live, retry_s=retry_s)
