"""Answers kept a little while: one computation per key while kept, none kept when it failed."""

from __future__ import annotations

import asyncio

import pytest

from dispatch.matching.offer_cache import RecentAnswers

pytestmark = pytest.mark.asyncio


async def test_a_failed_answer_is_not_kept_and_a_stale_one_is_computed_again() -> None:
    answers: RecentAnswers[int] = RecentAnswers(ttl_s=0.05)
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("database away")
        return calls

    with pytest.raises(ConnectionError):
        await answers.get("job", flaky)
    assert await answers.get("job", flaky) == 2
    assert await answers.get("job", flaky) == 2  # kept
    await asyncio.sleep(0.06)
    assert await answers.get("job", flaky) == 3


async def test_a_caller_that_goes_away_leaves_the_answer_to_the_others() -> None:
    answers: RecentAnswers[str] = RecentAnswers(ttl_s=10)
    started = asyncio.Event()

    async def slow() -> str:
        started.set()
        await asyncio.sleep(0.05)
        return "windows"

    first = asyncio.create_task(answers.get("job", slow))
    await started.wait()
    second = asyncio.create_task(answers.get("job", slow))
    first.cancel()
    assert await second == "windows"
    assert answers.computed == 1


async def test_the_oldest_keys_go_first() -> None:
    answers: RecentAnswers[int] = RecentAnswers(ttl_s=10, size=2)

    async def one() -> int:
        return 1

    for key in ("a", "b", "c"):
        await answers.get(key, one)
    await answers.get("a", one)
    assert answers.computed == 4  # "a" was pushed out by "c", and computed again
