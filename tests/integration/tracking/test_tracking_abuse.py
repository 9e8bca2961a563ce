"""One tracking link must not amplify: a job keeps a few push subscriptions (a new browser
replaces the oldest), an endpoint never points into our own network, and a customer's
reschedules and cancels are counted per job in PostgreSQL, so the limit holds across every API
process (429 with Retry-After past it, and nothing changes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from infra.db import Connection
from infra.settings import Settings
from tests.conftest import JWT_SECRET, Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at
from tests.integration.notifications.test_push import Browser
from tests.integration.tracking.test_tracking_view import tracked

Client = AsyncTestClient[Litestar]
WINDOW_S = 3600


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=None,
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        pool_min_size=1,
        pool_max_size=5,
        risk_scan_s=0,
        tracking_changes_per_job=3,
        tracking_change_window_s=WINDOW_S,
    )


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(8)


def subscription(endpoint: str) -> dict[str, object]:
    return {"endpoint": endpoint, "keys": Browser().keys(), "expirationTime": None}


async def test_a_job_keeps_five_subscriptions_and_a_new_browser_replaces_the_oldest(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, token = await tracked(client, conn, dispatcher)
    for i in range(8):
        made = await client.post(
            f"/track/{token}/subscriptions", json=subscription(f"https://push.example.com/phone-{i}")
        )
        assert made.status_code == 201, made.text
    kept = await conn.fetch("SELECT endpoint FROM push_subscriptions WHERE job_id = $1", job_id)
    # The customer's newest phone always gets the news; a message fans out to five at most.
    assert sorted(r["endpoint"] for r in kept) == [f"https://push.example.com/phone-{i}" for i in range(3, 8)]


async def test_a_user_keeps_five_subscriptions(client: Client, conn: Connection, dispatcher: Auth) -> None:
    _, tech, _ = await tracked(client, conn, dispatcher)
    ann = await login_of(conn, tech)
    for i in range(7):
        made = await client.post(
            "/push/subscriptions", json=subscription(f"https://push.example.com/ann-{i}"), headers=ann.headers
        )
        assert made.status_code == 201, made.text
    assert await conn.fetchval("SELECT count(*) FROM push_subscriptions WHERE user_id = $1", ann.user_id) == 5


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://10.0.0.1/",
        "https://169.254.169.254/",
        "https://127.0.0.1:5432/",
        "https://[::1]:22/",
        "https://user:pw@push.example.com/",
        "https://push.example.com:8443/",
        "http://127.0.0.1:8080/",
    ],
)
async def test_an_endpoint_into_our_own_network_is_refused_and_nothing_is_stored(
    client: Client, conn: Connection, dispatcher: Auth, endpoint: str
) -> None:
    _, tech, token = await tracked(client, conn, dispatcher)
    ann = await login_of(conn, tech)
    for refused in (
        await client.post(f"/track/{token}/subscriptions", json=subscription(endpoint)),
        await client.post("/push/subscriptions", json=subscription(endpoint), headers=ann.headers),
    ):
        assert refused.status_code == 422, refused.text
        assert refused.json()["extra"][0]["key"] == "endpoint"
    assert await conn.fetchval("SELECT count(*) FROM push_subscriptions") == 0


async def test_the_development_setting_lets_the_local_stand_in_through_and_no_private_address(
    conn: Connection, settings: Settings, dsn: str, dispatcher: Auth
) -> None:
    app = create_app(msgspec.structs.replace(settings, push_allow_insecure=True), dsn=dsn)
    app.state.clock = lambda: at(8)
    async with AsyncTestClient(app=app) as client:
        _, _, token = await tracked(client, conn, dispatcher)
        local = await client.post(
            f"/track/{token}/subscriptions", json=subscription("http://127.0.0.1:8080/push/1")
        )
        assert local.status_code == 201, local.text
        for endpoint in ("http://10.0.0.1/", "http://169.254.169.254/", "http://u:p@127.0.0.1:8080/"):
            refused = await client.post(f"/track/{token}/subscriptions", json=subscription(endpoint))
            assert refused.status_code == 422, (endpoint, refused.text)


@pytest.fixture
async def second_process(settings: Settings, dsn: str) -> AsyncIterator[Client]:
    """Another API process on the same database."""
    app = create_app(settings, dsn=dsn)
    app.state.clock = lambda: at(8)
    async with AsyncTestClient(app=app) as other:
        yield other


async def test_reschedules_past_the_limit_answer_429_on_every_process_and_change_nothing(
    app: Litestar, client: Client, second_process: Client, conn: Connection, dispatcher: Auth
) -> None:
    job_id, _, token = await tracked(client, conn, dispatcher)
    windows = [(at(12), at(14)), (at(14), at(16)), (at(12), at(14))]
    for process, (start, end) in zip((client, second_process, client), windows, strict=True):
        moved = await process.post(
            f"/track/{token}/reschedule",
            json={"window_start_at": start.isoformat(), "window_end_at": end.isoformat()},
        )
        assert moved.status_code == 200, moved.text
    before = await conn.fetchrow(
        "SELECT j.version, (SELECT count(*) FROM outbox o WHERE o.job_id = j.id) AS told FROM jobs j"
        " WHERE j.id = $1",
        job_id,
    )
    for process in (second_process, client):
        refused = await process.post(
            f"/track/{token}/reschedule",
            json={"window_start_at": at(14).isoformat(), "window_end_at": at(16).isoformat()},
        )
        assert refused.status_code == 429, refused.text
        # All three were made at 8:00; the first leaves the hour's window at 9:00.
        assert refused.headers["Retry-After"] == str(WINDOW_S)
        cancel = await process.post(f"/track/{token}/cancel", json={"reason": "changed my mind"})
        assert cancel.status_code == 429, cancel.text
    after = await conn.fetchrow(
        "SELECT j.version, j.status, (SELECT count(*) FROM outbox o WHERE o.job_id = j.id) AS told"
        " FROM jobs j WHERE j.id = $1",
        job_id,
    )
    assert after is not None
    assert before is not None
    assert (after["version"], after["told"], after["status"]) == (
        before["version"],
        before["told"],
        "dispatched",  # moved within today, it went back on the technician's phone
    )

    # An hour later the customer may change the visit again.
    app.state.clock = lambda: at(9) + timedelta(seconds=1)
    cancelled = await client.post(f"/track/{token}/cancel", json={"reason": "changed my mind"})
    assert cancelled.status_code == 200, cancelled.text


async def test_a_refused_reschedule_counts_too(client: Client, conn: Connection, dispatcher: Auth) -> None:
    _, _, token = await tracked(client, conn, dispatcher)
    nobody = {"window_start_at": at(5).isoformat(), "window_end_at": at(6).isoformat()}
    statuses = [(await client.post(f"/track/{token}/reschedule", json=nobody)).status_code for _ in range(4)]
    # Each try searched the fleet for a technician: three are allowed, the fourth is not.
    assert statuses == [409, 409, 409, 429]


async def test_a_link_asking_for_windows_in_a_loop_costs_one_search(
    client: Client, conn: Connection, dispatcher: Auth, app: Litestar
) -> None:
    # Each answer is a search of the fleet over the coming days; forty at once, and forty more
    # after, are one search while the answer is kept.
    _, _, token = await tracked(client, conn, dispatcher)
    first = await asyncio.gather(*(client.get(f"/track/{token}/slots") for _ in range(40)))
    again = [await client.get(f"/track/{token}/slots") for _ in range(40)]
    answers = {r.text for r in first + again}
    assert [r.status_code for r in first + again] == [200] * 80
    assert len(answers) == 1
    assert app.state.slot_offers.computed == 1
