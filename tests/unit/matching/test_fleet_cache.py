"""The in-memory fleet: used only while changes are heard, never stored when one came meanwhile."""

from __future__ import annotations

from typing import Any

from dispatch.matching.fleet_cache import FleetCache


async def test_nothing_is_kept_while_changes_cannot_be_heard() -> None:
    cache = FleetCache()
    loads: list[int] = []

    async def load() -> Any:
        loads.append(1)
        return object()

    await cache.view("day", load)
    await cache.view("day", load)
    assert len(loads) == 2
    cache.live = True
    first = await cache.view("day", load)
    assert await cache.view("day", load) is first
    assert len(loads) == 3
    cache.invalidate()
    assert await cache.view("day", load) is not first


async def test_a_view_loaded_while_the_fleet_changed_is_used_once_not_kept() -> None:
    cache = FleetCache()
    cache.live = True

    async def changed_meanwhile() -> Any:
        cache.invalidate()  # a notification arrives while the rows are read
        return object()

    stale = await cache.view("day", changed_meanwhile)

    async def fresh() -> Any:
        return object()

    assert await cache.view("day", fresh) is not stale


async def test_an_old_view_is_rebuilt_because_now_moves_on() -> None:
    cache = FleetCache(max_age_s=0.0)
    cache.live = True

    async def load() -> Any:
        return object()

    first = await cache.view("day", load)
    assert await cache.view("day", load) is not first
