"""The worker's endpoint guard: a host's verdict is looked up once per batch, and a public name
that resolves to a private address is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from notifications.endpoints import EndpointGuard

pytestmark = pytest.mark.asyncio


async def test_one_lookup_serves_a_batch_to_one_push_service() -> None:
    lookups: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        lookups.append(host)
        await asyncio.sleep(0.01)
        return ["142.250.74.42"]

    guard = EndpointGuard(allow_insecure=False, resolve=resolve)
    endpoints = [f"https://fcm.googleapis.com/fcm/send/{n}" for n in range(200)]
    assert await asyncio.gather(*(guard.problem(e) for e in endpoints)) == [None] * 200
    assert lookups == ["fcm.googleapis.com"]


async def test_a_public_name_pointing_into_our_network_is_refused() -> None:
    async def resolve(host: str, port: int) -> Sequence[str]:
        return ["10.0.0.7"]

    guard = EndpointGuard(allow_insecure=False, resolve=resolve)
    problem = await guard.problem("https://push.attacker.example/x")
    assert problem == "the push service's host resolves to 10.0.0.7, which is not a public address"
