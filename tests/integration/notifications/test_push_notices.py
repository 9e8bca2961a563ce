"""Typed notices through the real worker: a message queued before notices were typed is still
worded, and a message of a kind that is not ours fails loudly instead of going out as a vague
"update"."""

from __future__ import annotations

import logging

import msgspec
import pytest

from infra.db import Connection
from notifications.notices import Delayed
from tests.factories_matching import at, job, north, site, technician, territory
from tests.integration.notifications.test_push import (
    Browser,
    PushService,
    deliver,
    push_service,  # noqa: F401  # the fixture, shared
)
from tests.integration.notifications.test_push_worker_faults import subscribe


async def queue(conn: Connection, job_id: object, kind: str, payload: object) -> None:
    """A customer message written straight into the outbox, as an older version wrote it."""
    await conn.execute(
        "INSERT INTO outbox (kind, audience, job_id, territory_id, payload)"
        " SELECT $1, 'customer', j.id, s.territory_id, $3 FROM jobs j JOIN sites s ON s.id = j.site_id"
        " WHERE j.id = $2",
        kind,
        job_id,
        payload,
    )


async def test_a_message_queued_in_the_untyped_shape_is_still_worded(
    conn: Connection,
    dsn: str,
    push_service: str,  # noqa: F811
) -> None:
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=9)
    browser = Browser()
    await subscribe(conn, job_id, f"{push_service}/push/customer", browser.keys())
    # The payload dispatch wrote before: no kind inside, the time as text, the apology's words.
    old = {"eta_at": at(9).isoformat(), "apology": "We are sorry: your technician is running late."}
    await queue(conn, job_id, "delayed", old)
    tally = await deliver(dsn)
    assert tally.sent == 1
    message = browser.read(PushService.received[0]["body"])
    assert (message["kind"], message["title"]) == ("delayed", "Running late")
    # 9:00 on the clock of the job's territory (Chicago).
    assert message["body"] == "We are sorry: your technician is running late. New arrival about 09:00."
    assert msgspec.convert(message["data"], Delayed) == Delayed(eta_at=at(9))


@pytest.mark.parametrize(
    ("kind", "payload"),
    [("visit_rescheduled", {"technician": "Ann"}), ("on_the_way", {"eta_at": "soon"})],
    ids=["unknown kind", "payload not of its kind"],
)
async def test_a_message_that_is_not_ours_fails_loudly_and_alone(
    conn: Connection,
    dsn: str,
    push_service: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
    kind: str,
    payload: object,
) -> None:
    metro = await territory(conn)
    good, bad = [await job(conn, await site(conn, metro, north(i)), (8, 12)) for i in range(2)]
    browsers = {good: Browser(), bad: Browser()}
    for job_id, browser in browsers.items():
        await subscribe(conn, job_id, f"{push_service}/push/{job_id}", browser.keys())
    await queue(conn, good, "arrived", {})
    await queue(conn, bad, kind, payload)
    with caplog.at_level(logging.ERROR, logger="truckroll.push"):
        tally = await deliver(dsn)
    assert (tally.sent, tally.failed, tally.retried) == (1, 1, 0)
    (sent,) = PushService.received
    assert sent["path"] == f"/push/{good}"
    assert browsers[good].read(sent["body"])["title"] == "Arrived"
    row = await conn.fetchrow(
        "SELECT d.status, d.attempts, d.last_error FROM push_deliveries d JOIN outbox o ON o.id = d.outbox_id"
        " WHERE o.job_id = $1",
        bad,
    )
    assert row is not None
    # Failed for good at the first attempt: no later attempt could word it either.
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"].startswith(f"unreadable '{kind}' message")
    assert any(kind in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
