"""A flood of wrong sign-ins: it must neither stall the API process nor let a guesser go on
unchecked, and it must not tell which emails have accounts."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.access.accounts import Role, create_user
from infra.db import Connection
from infra.settings import Settings
from tests.live_server import serving

Client = AsyncTestClient[Litestar]
PASSWORD = "a long enough secret"


def login(email: str, password: str) -> dict[str, str]:
    return {"email": email, "password": password}


async def test_wrong_sign_ins_in_flight_do_not_hold_up_other_requests(
    settings: Settings, dsn: str, conn: Connection
) -> None:
    # argon2 takes ~90 ms of CPU a check. On the event loop, a /health sent while the first of
    # eight wrong sign-ins was being checked was answered only after it (and after several more).
    # Off the loop, /health is answered while the checks are still running.
    for n in range(8):
        await create_user(conn, email=f"user{n}@example.com", password=PASSWORD, role=Role.ADMIN)
    app = create_app(settings, dsn=dsn)  # one argon2 thread, the default
    finished: list[str] = []
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        await http.get("/health")  # connections and the pool are warm

        async def wrong(n: int) -> None:
            response = await http.post("/auth/login", json=login(f"user{n}@example.com", "wrong password"))
            assert response.status_code == 401
            finished.append("login")

        attackers = [asyncio.create_task(wrong(n)) for n in range(8)]
        await asyncio.sleep(0.05)  # the first check is running by now
        assert (await http.get("/health")).status_code == 200
        finished.append("health")
        await asyncio.gather(*attackers)
    assert finished[0] == "health", finished


async def test_failed_sign_ins_on_one_account_back_off_with_retry_after(
    client: Client, conn: Connection
) -> None:
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.ADMIN)
    for _ in range(5):  # five are free (typos)
        assert (await client.post("/auth/login", json=login("dee@example.com", "guess"))).status_code == 401
    refused = await client.post("/auth/login", json=login("dee@example.com", "guess"))
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert "try again in 1 s" in refused.json()["detail"]
    # While the account backs off even the right password waits: checking it would give the
    # guesser an answer.
    assert (await client.post("/auth/login", json=login("dee@example.com", PASSWORD))).status_code == 429
    await asyncio.sleep(1.1)
    assert (await client.post("/auth/login", json=login("dee@example.com", PASSWORD))).status_code == 200
    # A success starts the account afresh.
    assert await conn.fetchval("SELECT count(*) FROM login_throttle WHERE key LIKE 'account:%'") == 0


async def test_the_wait_grows_then_stops_at_the_cap_and_the_right_password_works_after_it(
    settings: Settings, dsn: str, conn: Connection
) -> None:
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.ADMIN)
    capped = msgspec.structs.replace(settings, login_free_failures_account=1, login_backoff_max_s=2)
    async with AsyncTestClient(app=create_app(capped, dsn=dsn)) as client:
        waits = []
        for _ in range(3):
            wrong = await client.post("/auth/login", json=login("dee@example.com", "guess"))
            assert wrong.status_code == 401
            # The wait runs from the failed answer, however long the check took.
            refused = await client.post("/auth/login", json=login("dee@example.com", PASSWORD))
            assert refused.status_code == 429
            waits.append(int(refused.headers["Retry-After"]))
            await asyncio.sleep(waits[-1] + 0.1)
        # After failures 1, 2, 3: 1 s, 2 s, then 4 s capped at 2 s.
        assert waits == [1, 2, 2]
        assert (await client.post("/auth/login", json=login("dee@example.com", PASSWORD))).status_code == 200


async def test_one_address_trying_many_accounts_backs_off_too(client: Client) -> None:
    # 20 failures from one address are free, whatever the accounts; the 21st waits.
    for n in range(20):
        response = await client.post("/auth/login", json=login(f"victim{n}@example.com", "guess"))
        assert response.status_code == 401
    refused = await client.post("/auth/login", json=login("victim99@example.com", "guess"))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


async def test_an_unknown_email_is_answered_exactly_as_a_wrong_password(
    client: Client, conn: Connection
) -> None:
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.ADMIN)
    for _ in range(7):
        known = await client.post("/auth/login", json=login("dee@example.com", "guess"))
        unknown = await client.post("/auth/login", json=login("nobody@example.com", "guess"))
        assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
        assert known.headers.get("Retry-After") == unknown.headers.get("Retry-After")
    assert known.status_code == 429  # both reached the backoff together


async def test_the_backoff_holds_across_api_processes(settings: Settings, dsn: str, conn: Connection) -> None:
    # Two API processes (as `truckroll serve --workers 2` runs them) share only the database.
    await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.ADMIN)
    async with AsyncTestClient(app=create_app(settings, dsn=dsn)) as first:
        for _ in range(5):
            assert (
                await first.post("/auth/login", json=login("dee@example.com", "guess"))
            ).status_code == 401
    async with AsyncTestClient(app=create_app(settings, dsn=dsn)) as second:
        assert (await second.post("/auth/login", json=login("dee@example.com", "guess"))).status_code == 429


async def test_a_full_verification_queue_answers_503_at_once(settings: Settings, dsn: str) -> None:
    # One check at a time and none waiting: the other concurrent sign-ins are told to come back
    # instead of queueing behind argon2 without bound.
    narrow = msgspec.structs.replace(settings, login_verify_threads=1, login_verify_queue=0)
    async with serving(create_app(narrow, dsn=dsn)) as base, httpx.AsyncClient(base_url=base) as http:
        responses = await asyncio.gather(
            *(http.post("/auth/login", json=login(f"u{n}@example.com", "guess")) for n in range(4))
        )
    statuses = sorted(r.status_code for r in responses)
    assert 401 in statuses
    assert 503 in statuses
    assert all(r.headers["Retry-After"] == "1" for r in responses if r.status_code == 503)


async def test_a_password_hashed_with_older_parameters_is_rehashed_and_sessions_stay(
    client: Client, conn: Connection
) -> None:
    user = await create_user(conn, email="dee@example.com", password=PASSWORD, role=Role.ADMIN)
    old = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    await conn.execute("UPDATE users SET password_hash = $2, token_version = 3 WHERE id = $1", user.id, old)
    assert (await client.post("/auth/login", json=login("dee@example.com", PASSWORD))).status_code == 200
    stored = await conn.fetchrow("SELECT password_hash, token_version FROM users WHERE id = $1", user.id)
    assert stored is not None
    assert stored["password_hash"] != old
    assert stored["token_version"] == 3
