"""Demo data lands in a real database, its logins work, and it never lands twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient

from api.app import create_app
from api.cli import main
from dispatch.demo import seed_demo
from dispatch.demo.state import TZ
from dispatch.demo.world import build_world
from infra.db import Connection, connect
from infra.errors import ConflictError
from infra.settings import Settings
from tests.integration.api.test_cli import empty_dsn  # noqa: F401  # the fixture, shared

TODAY = date(2026, 11, 24)
NOW = datetime(2026, 11, 24, 6, 30, tzinfo=TZ).astimezone(UTC)


async def test_seeded_demo_serves_the_garage_door_story_to_its_dispatcher(
    conn: Connection, client: AsyncTestClient[Litestar]
) -> None:
    summary = await seed_demo(conn, seed=7, today=TODAY, now=NOW)

    assert summary.counts["technicians"] == 30
    assert summary.counts["sites"] == 500
    assert summary.counts["users"] == 32
    assert await conn.fetchval("SELECT count(*) FROM jobs WHERE status = 'new'") == 60
    assert await conn.fetchval("SELECT count(*) FROM stock_locations WHERE kind = 'depot'") == 2

    dispatcher = next(login for login in summary.logins if login.role == "dispatcher")
    response = await client.post(
        "/auth/login", json={"email": dispatcher.email, "password": dispatcher.password}
    )
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    site_id = await conn.fetchval("SELECT id FROM sites WHERE address_line = '4217 Xerxes Ave S'")
    history = await client.get(f"/sites/{site_id}/history", headers=headers)
    assert history.status_code == 200, history.text
    summaries = [event["summary"] for event in history.json()["items"]]
    assert summaries == ["Broken torsion spring: replaced 2 × SPR-218", "Installed Clopay Classic Steel 4050"]

    story_job = await conn.fetchval(
        "SELECT j.id FROM jobs j JOIN sites s ON s.id = j.site_id"
        " WHERE s.address_line = '4217 Xerxes Ave S' AND j.status = 'new'"
    )
    job = (await client.get(f"/jobs/{story_job}", headers=headers)).json()
    assert (job["parts"][0]["sku"], job["parts"][0]["quantity"]) == ("SPR-218", 2)
    assert job["parts"][0]["reasons"][0] == "replaced 2 × SPR-218 on this asset in 2019-11"
    learned = await conn.fetchval(
        "SELECT count(*) FROM jobs WHERE status = 'new' AND duration_source = 'history'"
    )
    assert learned >= 50  # years of history: most models have enough completed jobs to learn from
    with_parts = await conn.fetchval(
        "SELECT count(DISTINCT j.id) FROM jobs j JOIN job_parts p ON p.job_id = j.id WHERE j.status = 'new'"
    )
    assert with_parts >= 55

    technician = next(login for login in summary.logins if login.role == "technician")
    response = await client.post(
        "/auth/login", json={"email": technician.email, "password": technician.password}
    )
    assert response.status_code == 200, response.text


async def test_demo_data_goes_only_into_an_empty_database(conn: Connection) -> None:
    await conn.execute("INSERT INTO territories (name) VALUES ('Already here')")

    with pytest.raises(ConflictError, match="already holds data"):
        await seed_demo(conn, seed=7, today=TODAY, now=NOW)

    assert await conn.fetchval("SELECT count(*) FROM territories") == 1
    assert await conn.fetchval("SELECT count(*) FROM parts") == 0


async def _count(dsn: str, table: str) -> int:
    conn = await connect(dsn)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


def test_demo_command_prints_logins_and_refuses_a_second_run(
    empty_dsn: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "Demo data (seed 3)" in out
    assert out.count(" technician ") == 30
    assert "dispatcher@demo.truckroll.test" in out

    assert main(["demo", "--seed", "3"]) == 1
    assert "already holds data" in capsys.readouterr().err
    assert asyncio.run(_count(empty_dsn, "technicians")) == 30


def _login_lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if "@demo.truckroll.test" in line]


def test_demo_logins_print_again_on_a_seeded_database_and_sign_in(
    empty_dsn: str,  # noqa: F811
    settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["demo", "--seed", "3"]) == 0
    first = _login_lines(capsys.readouterr().out)
    assert len(first) == 32

    assert main(["demo", "--logins", "--seed", "3"]) == 0
    again = _login_lines(capsys.readouterr().out)
    assert again == first
    dispatcher = next(line.split() for line in again if line.split()[0].startswith("dispatcher@"))
    with TestClient(app=create_app(settings, dsn=empty_dsn)) as client:
        signed = client.post("/auth/login", json={"email": dispatcher[0], "password": dispatcher[1]})
    assert signed.status_code == 200, signed.text

    assert main(["demo", "--logins", "--seed", "4"]) == 1
    captured = capsys.readouterr()
    assert "another --seed than 4" in captured.err
    assert all("[no longer signs in here]" in line for line in _login_lines(captured.out))


def test_demo_logins_come_from_the_seed_alone_not_the_day() -> None:
    # The open jobs depend on the day and the hour; the logins printed on the first day must
    # still be the ones printed any later day.
    monday = build_world(3, date(2026, 11, 23), datetime(2026, 11, 23, 14, tzinfo=UTC))
    friday = build_world(3, date(2026, 11, 27), datetime(2026, 11, 28, 4, tzinfo=UTC))
    assert [(u.email, u.password) for u in monday.users] == [(u.email, u.password) for u in friday.users]
