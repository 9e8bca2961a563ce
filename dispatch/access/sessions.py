"""Is a signed token still good? Its user must exist, be active, and still be at the token's version.

Signatures prove who a token was given to, not that they may still act: a deactivated admin's
token kept creating records until it expired. Each process keeps users' token versions for a
short TTL, so a revocation takes effect within that TTL at the cost of one indexed SELECT per
user per TTL per process.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from uuid import UUID

from dispatch.access import account_queries
from dispatch.access.account_queries import TokenState
from infra.db import Pool, acquire


class TokenVersions:
    KEEP = 50_000  # users remembered per process; the least recently seen go first

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._known: OrderedDict[UUID, tuple[float, TokenState | None]] = OrderedDict()
        # One lookup per user at a time: a technician's phone sends bursts with one token.
        self._loading: dict[UUID, asyncio.Future[TokenState | None]] = {}

    async def is_current(self, pool: Pool, user_id: UUID, token_version: int) -> bool:
        state = await self._state(pool, user_id)
        return state is not None and state.active and state.token_version == token_version

    def forget(self, user_id: UUID) -> None:
        """This process revoked the user's tokens: stop trusting what it remembered at once."""
        self._known.pop(user_id, None)

    async def _state(self, pool: Pool, user_id: UUID) -> TokenState | None:
        known = self._known.get(user_id)
        if known is not None and time.monotonic() - known[0] < self._ttl_s:
            self._known.move_to_end(user_id)
            return known[1]
        loading = self._loading.get(user_id)
        if loading is None:
            loading = self._loading[user_id] = asyncio.ensure_future(self._load(pool, user_id))
        # Shielded: a client that hangs up does not cancel the lookup others are waiting for.
        return await asyncio.shield(loading)

    async def _load(self, pool: Pool, user_id: UUID) -> TokenState | None:
        try:
            async with acquire(pool) as conn:
                state = await account_queries.get_token_state(conn, user_id)
        finally:
            del self._loading[user_id]
        self._known[user_id] = (time.monotonic(), state)
        self._known.move_to_end(user_id)
        if len(self._known) > self.KEEP:
            self._known.popitem(last=False)
        return state
