"""The push worker: hands outbox messages to delivery and delivers them.

Several workers may run: messages and deliveries are claimed with FOR UPDATE SKIP LOCKED, and a
claimed delivery is leased, so one killed mid-batch leaves its rows to the others once the lease
runs out (at worst one in-flight message is sent twice, and its Topic collapses the copies).
Sending happens outside any transaction, so a slow push service holds no database rows. Failed
sends back off exponentially with jitter up to a limit; 429 waits as long as Retry-After says,
within the same limit; 404 and 410 mean the browser unsubscribed, so the subscription is deleted.

The endpoints are the subscribers' choice, so one batch may hold an attacker's push service next
to honest ones: whatever one delivery does (a body without end, an absurd Retry-After, a key that
does not encrypt, an outcome the database refuses) fails that delivery alone, and every other
delivery of the batch is recorded as sent once. Nor can a flood of one recipient's deliveries
hold back the others': each batch is shared out among recipients (push_queries.claim_deliveries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

import asyncpg
import msgspec
from asyncpg import Record

from infra.db import Connection, Pool
from infra.listen import listen
from notifications import push_queries
from notifications.endpoints import EndpointGuard
from notifications.notices import from_row
from notifications.payloads import render
from notifications.webpush import SEND_ERRORS, Sender, Subscription

log = logging.getLogger("truckroll.push")
CHANNEL = "truckroll_outbox"  # notified on each write to the outbox (migration 0017)
# What a batch needs besides its sends (encrypting it, recording it) must fit in its lease too.
LEASE_MARGIN_S = 1.0


@dataclass(frozen=True)
class WorkerSettings:
    batch: int = 200
    lease_s: float = 30.0
    max_attempts: int = 8
    base_backoff_s: float = 2.0
    # The longest a delivery waits for its next attempt, whatever a push service's Retry-After says.
    max_delay_s: float = 3600.0
    # With nothing to do a lane waits this long, or less when a message is written (the worker
    # listens on the outbox's channel); the wait only bounds how late a retry that fell due
    # without a write, or a message written while the listener was down, is picked up.
    idle_s: float = 1.0
    # Batches in flight at once: while one waits on the database (claiming, recording), the other
    # encrypts and sends, so the worker's one core is not idle between phases.
    lanes: int = 2
    # Messages handed to delivery per batch sent, in statements of `batch` messages. Handing over
    # is cheap next to sending, and the claim shares each batch out fairly only among what has
    # been handed over: a technician's message written behind hundreds of one job's then reaches
    # the next batch, not the one after that job's last.
    hand_over_rounds: int = 10
    # http, any port and loopback push services (the development setting); never a private address.
    allow_insecure: bool = False


def shortest_lease_s(send_timeout_s: float) -> float:
    """A claimed batch is this worker's for its lease; its sends may take the whole send timeout
    (waiting for a connection included), so a lease that runs out first hands a batch still being
    sent to another worker, which sends it again (200 deliveries became 470 sends)."""
    return send_timeout_s + LEASE_MARGIN_S


def _check_lease(settings: WorkerSettings, sender: Sender) -> None:
    if not settings.lease_s >= shortest_lease_s(sender.timeout_s):
        raise ValueError(
            f"a lease of {settings.lease_s:g} s is shorter than a batch may take to send"
            f" ({shortest_lease_s(sender.timeout_s):g} s with a send timeout of {sender.timeout_s:g} s)"
        )


def backoff(attempt: int, settings: WorkerSettings, rng: random.Random | None = None) -> float:
    """Exponential with full jitter: attempt 1 waits up to base, 2 up to 2 x base, ..."""
    ceiling = min(settings.max_delay_s, settings.base_backoff_s * 2.0 ** min(attempt - 1, 64))
    return (rng or random).uniform(ceiling / 2, ceiling)


def next_step(
    attempt: int, code: int | None, retry_after_s: float | None, settings: WorkerSettings
) -> tuple[str, float | None]:
    """The delivery's status after this attempt, and how long until the next one if any."""
    if code is not None and 200 <= code < 300:
        return "sent", None
    if code in (404, 410):
        return "gone", None
    if (code is None or code == 429 or code >= 500) and attempt < settings.max_attempts:
        wait = backoff(attempt, settings)
        if code == 429 and retry_after_s is not None:
            # Never sooner than our own backoff, never later than our limit: "Retry-After: 1e12"
            # once overflowed the clock and failed the whole batch's record.
            wait = max(wait, retry_after_s)
        return "pending", min(wait, settings.max_delay_s)
    return "failed", None


@dataclass
class Tally:
    handed: int = 0  # outbox messages turned into deliveries (none when nobody subscribed)
    sent: int = 0
    retried: int = 0
    gone: int = 0
    failed: int = 0

    def count(self, status: str) -> None:
        if status == "sent":
            self.sent += 1
        elif status == "gone":
            self.gone += 1
        elif status == "pending":
            self.retried += 1
        else:
            self.failed += 1


# (delivery, status, HTTP status, error, next attempt at), as push_queries.record_attempts takes it.
Outcome = tuple[int, str, int | None, str | None, datetime | None]


async def run_once(pool: Pool, sender: Sender, settings: WorkerSettings) -> Tally:
    """Hand over new messages, then send one batch of due deliveries."""
    _check_lease(settings, sender)
    tally = Tally()
    for _ in range(settings.hand_over_rounds):
        async with pool.acquire() as conn, conn.transaction():
            handed = await push_queries.expand_outbox(cast(Connection, conn), limit=settings.batch)
        tally.handed += handed
        if handed < settings.batch:
            break
    async with pool.acquire() as conn, conn.transaction():
        claimed = await push_queries.claim_deliveries(
            cast(Connection, conn), limit=settings.batch, lease_s=settings.lease_s
        )
    # Encrypting is most of a push's CPU: it runs on a thread, which overlaps the other lane's
    # sending and database work on the event loop (the ECDH in OpenSSL runs without the GIL).
    bodies = await asyncio.to_thread(_encrypt_all, claimed)
    guard = _guards.setdefault(settings.allow_insecure, EndpointGuard(allow_insecure=settings.allow_insecure))
    results = await asyncio.gather(
        *(_deliver(row, body, sender, guard) for row, body in zip(claimed, bodies, strict=True))
    )
    now = datetime.now(UTC)
    outcomes: list[Outcome] = []
    gone: dict[int, str] = {}  # delivery -> the endpoint whose subscription ends
    for row, (code, error, retry_after, refused) in zip(claimed, results, strict=True):
        status, wait_s = (
            ("failed", None) if refused else next_step(row["attempts"] + 1, code, retry_after, settings)
        )
        tally.count(status)
        if status == "gone":
            gone[row["id"]] = row["endpoint"]
        next_at = None if wait_s is None else now + timedelta(seconds=wait_s)
        outcomes.append((row["id"], status, code, error, next_at))
    await _record(pool, outcomes, gone)
    return tally


async def _record(pool: Pool, outcomes: list[Outcome], gone: dict[int, str]) -> None:
    """The batch's outcomes in one transaction; if the database refuses it, each on its own, so
    a row it refuses leaves the others recorded (that row is sent again once its lease runs out)."""
    async with pool.acquire() as acquired:
        conn = cast(Connection, acquired)
        try:
            async with conn.transaction():
                await push_queries.record_attempts(conn, outcomes)
                await push_queries.forget_subscriptions(conn, list(gone.values()))
        except asyncpg.PostgresError:
            log.exception("could not record a batch of %d push attempts; recording each alone", len(outcomes))
        else:
            return
        for outcome in outcomes:
            try:
                async with conn.transaction():
                    await push_queries.record_attempts(conn, [outcome])
                    if outcome[0] in gone:
                        await push_queries.forget_subscriptions(conn, [gone[outcome[0]]])
            except asyncpg.PostgresError:
                log.exception("could not record the attempt of push delivery %s", outcome[0])


@dataclass(frozen=True)
class Unreadable:
    """A row whose kind or payload is none of ours: no later attempt can word it, so it fails
    at once, loudly, rather than going out as a vague "update"."""

    error: str


def _encrypt_all(rows: list[Record]) -> list[bytes | str | Unreadable]:
    """Each row's encrypted body, or why it could not be made (one bad row fails alone)."""
    bodies: list[bytes | str | Unreadable] = []
    for row in rows:
        try:
            notice = from_row(row["kind"], row["payload"])
        except msgspec.ValidationError as error:
            log.error(
                "push delivery %s: outbox message of kind %r does not read: %s", row["id"], row["kind"], error
            )
            bodies.append(Unreadable(_line(f"unreadable {row['kind']!r} message: {error}")))
            continue
        try:
            payload = msgspec.json.encode(render(notice, row["job_id"], row["timezone"], row["audience"]))
            bodies.append(Sender.encrypt(Subscription(row["endpoint"], row["p256dh"], row["auth"]), payload))
        # A malformed key in one stored subscription, a payload that does not render: that row alone.
        except Exception as error:
            bodies.append(_line(f"could not encrypt: {type(error).__name__}: {error}"))
    return bodies


# One per process and setting, so that a host's verdict outlives the batch that asked for it.
_guards: dict[bool, EndpointGuard] = {}


async def _deliver(
    row: Record, body: bytes | str | Unreadable, sender: Sender, guard: EndpointGuard
) -> tuple[int | None, str | None, float | None, bool]:
    """(HTTP status, error, Retry-After, refused): a refused delivery is never tried again."""
    if isinstance(body, Unreadable):
        return None, body.error, None, True
    if isinstance(body, str):
        return None, body, None, False
    # Rows written before the API checked endpoints, and public names that resolve to private
    # addresses, are refused here rather than called into our own network.
    problem = await guard.problem(row["endpoint"])
    if problem is not None:
        return None, _line(f"refused: {problem}"), None, True
    try:
        result = await sender.post(
            Subscription(row["endpoint"], row["p256dh"], row["auth"]),
            body,
            ttl_s=row["ttl_s"],
            topic=row["topic"],
            urgency=row["urgency"],
        )
    except SEND_ERRORS as error:
        return None, _line(sender.describe(error)), None, False
    except Exception as error:  # whatever else one endpoint provokes must not fail the batch's other sends
        log.exception("push delivery %s failed unexpectedly", row["id"])
        return None, _line(f"{type(error).__name__}: {error}"), None, False
    return result.status, None, result.retry_after_s, False


def _line(error: str) -> str:
    """An error as the attempts log keeps it: bounded, and without the NUL that text columns refuse."""
    return error.replace("\x00", "")[:500]


async def run(
    pool: Pool,
    sender: Sender,
    settings: WorkerSettings,
    *,
    stop: asyncio.Event | None = None,
    dsn: str | None = None,
) -> None:
    """Deliver until stopped, `settings.lanes` batches at a time; with `dsn`, idle lanes wake as
    soon as a message is written."""
    _check_lease(settings, sender)
    written = asyncio.Event()
    listening = asyncio.create_task(listen(dsn, CHANNEL, written.set)) if dsn else None
    try:
        await asyncio.gather(*(_lane(pool, sender, settings, stop, written) for _ in range(settings.lanes)))
    finally:
        if listening is not None:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening


async def _lane(
    pool: Pool, sender: Sender, settings: WorkerSettings, stop: asyncio.Event | None, written: asyncio.Event
) -> None:
    """Batch after batch; when there is nothing to do, wait for a write, a stop or `idle_s`."""
    while stop is None or not stop.is_set():
        try:
            tally = await run_once(pool, sender, settings)
            # A batch of messages nobody subscribed to is work too: a backlog of them (after the
            # worker was down) is handed over batch after batch, not one batch per rest.
            busy = tally.handed + tally.sent + tally.retried + tally.gone + tally.failed
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("push batch failed; trying again")
            busy = 0
        if not busy:
            await _rest(settings.idle_s, written, stop)


async def _rest(idle_s: float, written: asyncio.Event, stop: asyncio.Event | None) -> None:
    wakers = [asyncio.ensure_future(written.wait())]
    if stop is not None:
        wakers.append(asyncio.ensure_future(stop.wait()))
    try:
        await asyncio.wait(wakers, timeout=idle_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waker in wakers:
            waker.cancel()
    written.clear()
