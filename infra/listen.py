"""Following a PostgreSQL notification channel for the life of a process.

Notifications are hints: whoever listens also reads the tables, so one missed while the
connection was down delays a change but loses nothing. Each time listening (re)starts, `heard`
is called once as if a notification had come, for whatever happened while nobody listened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg

log = logging.getLogger("truckroll.listen")


async def listen(
    dsn: str,
    channel: str,
    heard: Callable[[], None],
    *,
    connected: Callable[[bool], None] | None = None,
    retry_s: float = 1.0,
) -> None:
    """Call `heard` on each notification until cancelled, reconnecting after a lost connection;
    `connected` is told when listening starts and stops."""
    while True:
        conn: asyncpg.Connection[asyncpg.Record] | None = None
        lost = asyncio.Event()
        try:
            conn = await asyncpg.connect(dsn)
            conn.add_termination_listener(lambda _conn, event=lost: event.set())
            await conn.add_listener(channel, lambda *_: heard())
            if connected is not None:
                connected(True)
            heard()
            await lost.wait()
            log.warning("lost the connection listening on %s; reconnecting", channel)
        except asyncio.CancelledError:
            raise
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("cannot listen on %s (%s); retrying", channel, error)
        finally:
            if connected is not None:
                connected(False)
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close()
        await asyncio.sleep(retry_s)
