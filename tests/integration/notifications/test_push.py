"""Web Push end to end, offline: a local HTTP server plays the push service, the test plays the
browser (its own key pair and auth secret), and what arrives is decrypted as a browser would."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from uuid import UUID

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from infra.db import Connection, create_pool
from infra.settings import Settings
from notifications import push_queries
from notifications.webpush import Sender, Subscription, generate_vapid_keys
from notifications.worker import WorkerSettings, run, run_once
from tests.conftest import JWT_SECRET, Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import at, job, north, site, technician, territory

Client = AsyncTestClient[Litestar]
KEYS = generate_vapid_keys()


def worker_env(dsn: str, data_dir: Path, **more: str) -> dict[str, str]:
    """The environment of a `truckroll worker` process sending to a stand-in push service."""
    return {
        **os.environ,
        "DATABASE_URL": dsn,
        "TRUCKROLL_DATA_DIR": str(data_dir),
        "TRUCKROLL_VAPID_PRIVATE_KEY": KEYS.private_key,
        "TRUCKROLL_VAPID_PUBLIC_KEY": KEYS.public_key,
        # The stand-in push service listens on this machine, over http.
        "TRUCKROLL_PUSH_ALLOW_INSECURE": "1",
        **more,
    }


class PushService(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    answers: list[tuple[int, dict[str, str]]] = []
    arrived = threading.Event()  # set by the first push, for a test waiting on another thread

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append({"path": self.path, "headers": dict(self.headers), "body": body})
        type(self).arrived.set()
        status, headers = type(self).answers.pop(0) if type(self).answers else (201, {})
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def push_service() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), PushService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    PushService.received, PushService.answers, PushService.arrived = [], [], threading.Event()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=None,
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        pool_min_size=1,
        pool_max_size=5,
        vapid_private_key=KEYS.private_key,
        vapid_public_key=KEYS.public_key,
        vapid_subject="mailto:ops@example.com",
        push_allow_insecure=True,
        risk_scan_s=0,
    )


@pytest.fixture
def app(settings: Settings, dsn: str) -> Litestar:
    app = create_app(settings, dsn=dsn)
    app.state.clock = lambda: at(8)
    return app


class Browser:
    """A browser's side of a push subscription."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self) -> dict[str, str]:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64(public), "auth": b64(self.auth)}

    def read(self, body: bytes) -> dict[str, Any]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        message: dict[str, Any] = json.loads(plain)
        return message


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def deliver(dsn: str, **overrides: Any) -> Any:
    pool = await create_pool(dsn, min_size=1, max_size=2)
    try:
        async with Sender(KEYS.private_key, "mailto:ops@example.com") as sender:
            return await run_once(pool, sender, WorkerSettings(**{"allow_insecure": True, **overrides}))
    finally:
        await pool.close()


async def customer_subscribed(
    client: Client, conn: Connection, dispatcher: Auth, push_service: str, browser: Browser
) -> tuple[UUID, Auth]:
    """A job dispatched to Ann, its customer's browser subscribed; the job and Ann's login."""
    metro = await territory(conn)
    tech = await technician(conn, metro, "Ann Springs", north(1))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=tech, planned=9)
    await conn.execute("UPDATE jobs SET status = 'dispatched', eta_at = $2 WHERE id = $1", job_id, at(9))
    link = (await client.post(f"/jobs/{job_id}/tracking-links", headers=dispatcher.headers)).json()
    subscription = {
        "endpoint": f"{push_service}/push/browser-1",
        "keys": browser.keys(),
        "expirationTime": None,
    }
    response = await client.post(f"/track/{link['token']}/subscriptions", json=subscription)
    assert response.status_code == 201, response.text
    return job_id, await login_of(conn, tech)


async def test_a_customer_hears_the_technician_set_off_encrypted_signed_and_collapsible(
    client: Client, conn: Connection, dsn: str, dispatcher: Auth, push_service: str
) -> None:
    browser = Browser()
    job_id, ann = await customer_subscribed(client, conn, dispatcher, push_service, browser)
    moved = await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers)
    assert moved.status_code == 200
    tally = await deliver(dsn)
    assert tally.sent == 1
    (push,) = PushService.received
    headers = {name.lower(): value for name, value in push["headers"].items()}
    assert push["path"] == "/push/browser-1"
    assert (headers["content-encoding"], headers["ttl"], headers["urgency"]) == ("aes128gcm", "3600", "high")
    assert headers["topic"] == "job-" + job_id.hex[:24]
    message = browser.read(push["body"])
    assert (message["kind"], message["title"]) == ("on_the_way", "On the way")
    # 9:00 in Chicago, where the customer is (15:00 UTC).
    assert message["body"] == "Ann is on the way, arriving about 09:00."
    # VAPID: a JWT for this push service's origin, signed by our key, not expired.
    scheme, params = headers["authorization"].split(" ", 1)
    fields = dict(p.split("=", 1) for p in params.split(","))
    assert scheme == "vapid"
    assert fields["k"] == KEYS.public_key
    public = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), base64.urlsafe_b64decode(fields["k"] + "==")
    )
    claims = jwt.decode(fields["t"], key=public, algorithms=["ES256"], audience=push_service)
    assert claims["sub"] == "mailto:ops@example.com"
    assert time.time() < claims["exp"] <= time.time() + timedelta(hours=24).total_seconds()
    assert await conn.fetchval("SELECT status FROM push_deliveries") == "sent"


@pytest.mark.parametrize("sent", ["15 minutes earlier", "with the set-off"])
async def test_the_on_the_way_push_tells_the_eta_from_where_the_technician_is_and_only_once(
    client: Client, conn: Connection, dsn: str, dispatcher: Auth, push_service: str, sent: str
) -> None:
    browser = Browser()
    job_id, ann = await customer_subscribed(client, conn, dispatcher, push_service, browser)
    # Ann is 9 km from the door, not at home (1 km) as the plan has it. The drive: 9 km x 1.3
    # circuity at 35 km/h is 1,203 s, plus 120 s to park: 22 min, so about 08:22, not 09:00.
    fix = {"latitude": north(9)[0], "longitude": north(9)[1]}
    body: dict[str, Any] = {"status": "en_route"}
    if sent == "15 minutes earlier":
        pings = {"pings": [{**fix, "recorded_at": at(7.75).isoformat()}]}
        sent_before = await client.post("/technicians/me/positions", json=pings, headers=ann.headers)
        assert sent_before.status_code == 200, sent_before.text
    else:
        body["position"] = {**fix, "recorded_at": at(8).isoformat()}
    moved = await client.post(f"/jobs/{job_id}/status", json=body, headers=ann.headers)
    assert moved.status_code == 200, moved.text
    # The phone goes on pinging from where it is: no correcting push follows.
    again = {"pings": [{**fix, "recorded_at": (at(8) + timedelta(seconds=5)).isoformat()}]}
    assert (
        await client.post("/technicians/me/positions", json=again, headers=ann.headers)
    ).status_code == 200
    tally = await deliver(dsn)
    assert tally.sent == 1
    (push,) = PushService.received
    message = browser.read(push["body"])
    assert (message["kind"], message["body"]) == ("on_the_way", "Ann is on the way, arriving about 08:22.")


async def test_a_position_sent_with_a_status_from_the_future_is_refused_and_changes_nothing(
    client: Client, conn: Connection, dispatcher: Auth, push_service: str
) -> None:
    job_id, ann = await customer_subscribed(client, conn, dispatcher, push_service, Browser())
    body = {
        "status": "en_route",
        "position": {"latitude": north(9)[0], "longitude": north(9)[1], "recorded_at": at(9).isoformat()},
    }
    refused = await client.post(f"/jobs/{job_id}/status", json=body, headers=ann.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["extra"][0]["key"] == "position.recorded_at"
    assert await conn.fetchval("SELECT status FROM jobs WHERE id = $1", job_id) == "dispatched"
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 0


async def test_a_failing_push_service_is_retried_once_delivered_and_a_gone_browser_forgotten(
    client: Client, conn: Connection, dsn: str, dispatcher: Auth, push_service: str
) -> None:
    browser = Browser()
    job_id, ann = await customer_subscribed(client, conn, dispatcher, push_service, browser)
    PushService.answers = [(500, {}), (201, {})]
    await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers)
    first = await deliver(dsn, base_backoff_s=0.01)
    assert (first.sent, first.retried) == (0, 1)
    await asyncio.sleep(0.05)
    second = await deliver(dsn, base_backoff_s=0.01)
    assert second.sent == 1
    assert len(PushService.received) == 2
    row = await conn.fetchrow("SELECT status, attempts FROM push_deliveries")
    assert row is not None
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert await conn.fetchval("SELECT count(*) FROM push_attempts") == 2
    # Too many requests: wait as long as the push service says.
    PushService.answers = [(429, {"Retry-After": "120"})]
    await client.post(f"/jobs/{job_id}/status", json={"status": "on_site"}, headers=ann.headers)
    throttled = await deliver(dsn)
    assert throttled.retried == 1
    wait = await conn.fetchval(
        "SELECT extract(epoch FROM next_attempt_at - now()) FROM push_deliveries WHERE status = 'pending'"
    )
    assert 100 < wait <= 120
    await conn.execute("UPDATE push_deliveries SET next_attempt_at = now() WHERE status = 'pending'")
    PushService.answers = [(410, {})]
    gone = await deliver(dsn)
    assert gone.gone == 1
    assert await conn.fetchval("SELECT count(*) FROM push_subscriptions") == 0


async def test_a_bad_subscription_is_refused_naming_the_field(
    client: Client, conn: Connection, dispatcher: Auth, push_service: str
) -> None:
    browser = Browser()
    await customer_subscribed(client, conn, dispatcher, push_service, browser)
    token = (
        await client.post(
            f"/jobs/{await conn.fetchval('SELECT id FROM jobs')}/tracking-links", headers=dispatcher.headers
        )
    ).json()["token"]
    cases = [
        ({"endpoint": "ftp://push.example.com/x", "keys": browser.keys()}, "endpoint"),
        (
            {
                "endpoint": "https://push.example.com/x",
                "keys": {**browser.keys(), "p256dh": b64(b"\x04" * 10)},
            },
            "keys.p256dh",
        ),
        (
            {"endpoint": "https://push.example.com/x", "keys": {**browser.keys(), "auth": b64(b"x" * 8)}},
            "keys.auth",
        ),
    ]
    for body, field in cases:
        response = await client.post(f"/track/{token}/subscriptions", json=body)
        assert response.status_code == 422, response.text
        assert field in response.text
    unknown = await client.post("/track/not-a-token/subscriptions", json=cases[0][0])
    assert unknown.status_code == 404
    key = await client.get("/push/public-key")
    assert key.json() == {"public_key": KEYS.public_key}


async def test_each_message_goes_to_every_browser_of_its_audience_and_no_other(conn: Connection) -> None:
    metro, elsewhere = await territory(conn), await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=9)

    async def user(
        role: str, *, tech: UUID | None = None, area: UUID | None = None, active: bool = True
    ) -> UUID:
        user_id: UUID = await conn.fetchval(
            "INSERT INTO users (email, password_hash, role, technician_id, territory_id, active)"
            " VALUES ($1, 'x', $2, $3, $4, $5) RETURNING id",
            f"{os.urandom(4).hex()}@example.com",
            role,
            tech,
            area,
            active,
        )
        return user_id

    async def browser(name: str, *, job: UUID | None = None, user: UUID | None = None) -> None:
        await conn.execute(
            "INSERT INTO push_subscriptions (job_id, user_id, endpoint, p256dh, auth)"
            " VALUES ($1, $2, $3, 'k', 'a')",
            job,
            user,
            f"https://push.example/{name}",
        )

    await browser("customer", job=job_id)
    await browser("ann-phone", user=await user("technician", tech=ann))
    await browser("metro-desk", user=await user("dispatcher", area=metro))
    await browser("all-desk", user=await user("dispatcher"))
    await browser("other-desk", user=await user("dispatcher", area=elsewhere))
    await browser("left-desk", user=await user("dispatcher", active=False))
    await browser("admin", user=await user("admin"))
    for audience in ("customer", "technician", "dispatcher"):
        await conn.execute(
            "INSERT INTO outbox (kind, audience, job_id, technician_id, territory_id, payload, urgency,"
            " ttl_s) VALUES ('job_at_risk', $1, $2, $3, $4, '{}', 'normal', 60)",
            audience,
            job_id,
            ann,
            metro,
        )
    assert await push_queries.expand_outbox(conn) == 3
    delivered = await conn.fetch(
        "SELECT o.audience, d.endpoint FROM push_deliveries d JOIN outbox o ON o.id = d.outbox_id"
    )
    assert sorted((d["audience"], d["endpoint"].rsplit("/", 1)[1]) for d in delivered) == [
        ("customer", "customer"),
        ("dispatcher", "all-desk"),
        ("dispatcher", "metro-desk"),
        ("technician", "ann-phone"),
    ]
    assert await push_queries.expand_outbox(conn) == 0  # handed over once


async def test_a_cookie_set_by_a_push_service_never_rides_on_another_customers_push(
    push_service: str,
) -> None:
    # "localhost", not an IP: a cookie jar keeps cookies only for host names.
    host = push_service.replace("127.0.0.1", "localhost")
    PushService.answers = [(201, {"Set-Cookie": "visitor=customer-1; Path=/"}), (201, {})]
    first, second = Browser(), Browser()
    async with Sender(KEYS.private_key, "mailto:ops@example.com") as sender:
        for name, browser in (("first", first), ("second", second)):
            subscription = Subscription(f"{host}/push/{name}", **browser.keys())
            result = await sender.send(
                subscription, b'{"kind": "arrived"}', ttl_s=60, topic=None, urgency="normal"
            )
            assert result.status == 201
    assert [r["path"] for r in PushService.received] == ["/push/first", "/push/second"]
    assert "Cookie" not in PushService.received[1]["headers"]
    assert second.read(PushService.received[1]["body"]) == {"kind": "arrived"}


async def test_an_endpoint_that_redirects_is_not_followed(push_service: str) -> None:
    PushService.answers = [(307, {"Location": f"{push_service}/push/elsewhere"})]
    browser = Browser()
    async with Sender(KEYS.private_key, "mailto:ops@example.com") as sender:
        subscription = Subscription(f"{push_service}/push/first", **browser.keys())
        result = await sender.send(
            subscription, b'{"kind": "arrived"}', ttl_s=60, topic=None, urgency="normal"
        )
    assert result.status == 307
    assert [r["path"] for r in PushService.received] == ["/push/first"]


async def test_an_idle_worker_sends_a_new_message_at_once_and_stops_at_once(
    client: Client, conn: Connection, dsn: str, dispatcher: Auth, push_service: str
) -> None:
    browser = Browser()
    job_id, ann = await customer_subscribed(client, conn, dispatcher, push_service, browser)
    pool = await create_pool(dsn, min_size=1, max_size=3)
    stop = asyncio.Event()
    # Resting far longer than the test may take: only the outbox's notification can wake it.
    resting = WorkerSettings(idle_s=60, allow_insecure=True)
    try:
        async with Sender(KEYS.private_key, "mailto:ops@example.com") as sender:
            working = asyncio.create_task(run(pool, sender, resting, stop=stop, dsn=dsn))
            await asyncio.sleep(0.5)  # both lanes have found nothing and rest
            moved = await client.post(
                f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers
            )
            assert moved.status_code == 200
            began = time.monotonic()
            await asyncio.to_thread(PushService.arrived.wait, 10)
            assert browser.read(PushService.received[0]["body"])["kind"] == "on_the_way"
            assert time.monotonic() - began < 5
            await asyncio.sleep(0.2)  # resting again
            stop.set()
            await asyncio.wait_for(working, timeout=5)
    finally:
        await pool.close()


async def test_a_backlog_nobody_subscribed_to_is_handed_over_without_resting_between_batches(
    conn: Connection, dsn: str, push_service: str
) -> None:
    metro = await territory(conn)
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12))
    pool = await create_pool(dsn, min_size=1, max_size=3)
    stop = asyncio.Event()
    try:
        async with Sender(KEYS.private_key, "mailto:ops@example.com") as sender:
            working = asyncio.create_task(
                run(pool, sender, WorkerSettings(idle_s=60, allow_insecure=True), stop=stop, dsn=dsn)
            )
            await asyncio.sleep(0.5)  # resting
            await conn.execute(
                "INSERT INTO outbox (kind, audience, job_id) SELECT 'arrived', 'customer', $1"
                " FROM generate_series(1, 1000)",
                job_id,
            )
            began = time.monotonic()
            waiting = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
            while await conn.fetchval(waiting) and time.monotonic() - began < 10:  # noqa: ASYNC110 - the worker writes
                await asyncio.sleep(0.05)
            assert await conn.fetchval(waiting) == 0
            assert time.monotonic() - began < 5
            stop.set()
            await asyncio.wait_for(working, timeout=5)
    finally:
        await pool.close()
    assert PushService.received == []


async def test_a_stored_endpoint_on_a_private_address_is_never_called(
    client: Client, conn: Connection, dsn: str, dispatcher: Auth, push_service: str
) -> None:
    # Written before the API checked endpoints (or straight into the table): the worker checks
    # again, and the honest browser beside it still gets its push.
    browser = Browser()
    job_id, ann = await customer_subscribed(client, conn, dispatcher, push_service, browser)
    await conn.execute(
        """
        INSERT INTO push_subscriptions (job_id, endpoint, p256dh, auth)
        SELECT job_id, 'http://169.254.169.254/latest/meta-data', p256dh, auth FROM push_subscriptions
        """
    )
    moved = await client.post(f"/jobs/{job_id}/status", json={"status": "en_route"}, headers=ann.headers)
    assert moved.status_code == 200
    tally = await deliver(dsn)
    assert (tally.sent, tally.failed, tally.retried) == (1, 1, 0)
    assert [push["path"] for push in PushService.received] == ["/push/browser-1"]
    error = await conn.fetchval("SELECT last_error FROM push_deliveries WHERE status = 'failed'")
    assert error == "refused: a push service is named by its host name, not an IP address"


async def test_a_phones_subscription_ends_with_its_sign_in_and_a_phone_is_one_users_at_a_time(
    client: Client, conn: Connection, push_service: str
) -> None:
    """Ann subscribes a phone then signs out: her job news no longer reaches it. Bob signs in on
    the same phone and subscribes: it is his alone, so Ann's news would not reach it either."""
    metro = await territory(conn)
    ann = await technician(conn, metro, "Ann Springs", north(1))
    bob = await technician(conn, metro, "Bob Doors", north(2))
    job_id = await job(conn, await site(conn, metro, north(0)), (8, 12), technician_id=ann, planned=9)
    ann_phone, bob_phone = await login_of(conn, ann), await login_of(conn, bob)
    phone = {
        "endpoint": f"{push_service}/push/shared-phone",
        "keys": Browser().keys(),
        "expirationTime": None,
    }

    async def told(tech: UUID) -> int:
        await conn.execute(
            "INSERT INTO outbox (kind, audience, job_id, technician_id, territory_id, payload, urgency,"
            " ttl_s) VALUES ('job_at_risk', 'technician', $1, $2, $3, '{}', 'normal', 60)",
            job_id,
            tech,
            metro,
        )
        await push_queries.expand_outbox(conn)
        reached: int = await conn.fetchval(
            "SELECT count(*) FROM push_deliveries d JOIN outbox o ON o.id = d.outbox_id"
            " WHERE o.technician_id = $1 AND d.endpoint = $2",
            tech,
            phone["endpoint"],
        )
        return reached

    made = await client.post("/push/subscriptions", json=phone, headers=ann_phone.headers)
    assert made.status_code == 201, made.text
    assert await told(ann) == 1
    signed_out = await client.post("/auth/logout", headers=ann_phone.headers)
    assert signed_out.status_code < 300, signed_out.text
    assert await told(ann) == 1  # the message after sign-out went nowhere
    again = await client.post("/push/subscriptions", json=phone, headers=bob_phone.headers)
    assert again.status_code == 201, again.text
    owners = await conn.fetch("SELECT user_id FROM push_subscriptions WHERE endpoint = $1", phone["endpoint"])
    assert [r["user_id"] for r in owners] == [bob_phone.user_id]
    assert await told(bob) == 1
