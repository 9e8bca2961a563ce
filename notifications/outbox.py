"""The outbox: what someone must be told, written in the transaction of the change it tells of.

Delivery (Web Push and its retries) reads these rows later, so a message is sent if and only if
the change committed, and a slow push service never slows the request that caused it.
"""

from __future__ import annotations

from infra.db import Connection
from notifications import outbox_queries
from notifications.messages import Audience, Message, job_topic
from notifications.outbox_queries import OutboxHealth

__all__ = ["Audience", "Message", "enqueue", "job_topic"]


async def enqueue(conn: Connection, *messages: Message) -> list[int]:
    return [await outbox_queries.insert(conn, m) for m in messages]


async def health(conn: Connection) -> OutboxHealth:
    """How far behind delivery is: messages waiting and failed, the oldest wait, recent failures."""
    return await outbox_queries.health(conn)
