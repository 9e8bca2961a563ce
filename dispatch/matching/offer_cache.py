"""Answers worth keeping a little while: the windows offered on a tracking link.

Anyone holding a link may ask for its windows as often as they like, and each answer is a search
of the fleet over the coming days. A customer reloading the page, or an attacker looping, gets
the answer computed in the last `ttl_s` seconds, and requests that arrive while one is being
computed wait for it rather than start their own. Nothing is decided on a kept answer: booking a
window checks it against the day as it is then.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class RecentAnswers(Generic[T]):
    """Per key, the last answer for `ttl_s` seconds; at most `size` keys (the oldest go first)."""

    def __init__(self, *, ttl_s: float, size: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.size = size
        self.computed = 0  # answers worked out, not served from here
        self._answers: OrderedDict[Hashable, tuple[asyncio.Future[T], float]] = OrderedDict()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The kept answer, or `compute()`'s. It runs as a task of its own, so a caller that goes
        away (a closed page) does not take the answer from those waiting for it."""
        loop = asyncio.get_running_loop()
        kept = self._answers.get(key)
        if kept is not None and kept[1] > loop.time():
            return await asyncio.shield(kept[0])
        task: asyncio.Future[T] = asyncio.ensure_future(compute())
        task.add_done_callback(self._forget_failure(key))
        self._answers[key] = (task, loop.time() + self.ttl_s)
        self._answers.move_to_end(key)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)
        self.computed += 1
        return await asyncio.shield(task)

    def _forget_failure(self, key: Hashable) -> Callable[[asyncio.Future[T]], None]:
        def done(task: asyncio.Future[T]) -> None:
            # A failed answer is not kept: the next request computes again. Reading the
            # exception also marks it seen when every caller has gone.
            if task.cancelled() or task.exception() is not None:
                kept = self._answers.get(key)
                if kept is not None and kept[0] is task:
                    del self._answers[key]

        return done
