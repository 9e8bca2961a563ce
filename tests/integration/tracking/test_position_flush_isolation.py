"""Pings of many technicians are written together (dispatch.tracking.position_intake): one technician's
bad upload must fail only their own request. The attack: a heading the API accepted but the
`real` column rounds up to 360, sent among hundreds of honest uploads, failed most of them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar import Litestar

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_dispatch import login_of
from tests.factories_matching import north, technician, territory
from tests.live_server import serving

HONEST = 40
ROUNDS = 3


async def _fleet(conn: Connection, size: int) -> list[Auth]:
    metro = await territory(conn)
    return [await login_of(conn, await technician(conn, metro, f"Tech {i}", north(i))) for i in range(size)]


def _ping(at: datetime, km: float, **extra: Any) -> dict[str, Any]:
    latitude, longitude = north(km)
    return {"recorded_at": at.isoformat(), "latitude": latitude, "longitude": longitude, **extra}


async def _in_a_crowd(
    app: Litestar, honest: list[Auth], culprit: Auth, bad_ping: dict[str, Any]
) -> list[httpx.Response]:
    """ROUNDS times: every honest technician and the culprit upload at the same moment, the
    culprit in the middle of the crowd. Every honest upload must be answered 200; the culprit's
    answers are returned."""
    honest_answers: list[httpx.Response] = []
    culprit_answers: list[httpx.Response] = []
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        for round_ in range(ROUNDS):
            at = datetime.now(UTC) - timedelta(minutes=10 - round_)

            def upload(auth: Auth, pings: list[dict[str, Any]]) -> Any:
                return http.post("/technicians/me/positions", json={"pings": pings}, headers=auth.headers)

            calls = [upload(a, [_ping(at, i * 0.01)]) for i, a in enumerate(honest)]
            calls.insert(len(calls) // 2, upload(culprit, [bad_ping | {"recorded_at": at.isoformat()}]))
            answers = await asyncio.gather(*calls)
            culprit_answers.append(answers.pop(len(answers) // 2))
            honest_answers += answers
    failed = [a.text for a in honest_answers if a.status_code != 200]
    assert failed == [], f"{len(failed)} honest uploads failed, e.g. {failed[:1]}"
    return culprit_answers


async def test_a_heading_the_real_column_rounds_to_360_is_refused_and_fails_nobody_else(
    app: Litestar, conn: Connection
) -> None:
    # 359.99999999999994 < 360 as a double, but as a real (float32) it is 360.0: the column's
    # CHECK (heading_deg < 360) would refuse it inside a write shared with everyone else.
    *honest, culprit = await _fleet(conn, HONEST + 1)
    bad = _ping(datetime.now(UTC), 0, heading_deg=359.99999999999994)
    for answer in await _in_a_crowd(app, honest, culprit, bad):
        assert answer.status_code == 400, answer.text
        assert answer.json()["extra"][0]["key"] == "pings[0].heading_deg"
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == HONEST * ROUNDS
    stored_for_culprit = await conn.fetchval(
        "SELECT count(*) FROM technician_positions WHERE technician_id = $1",
        await _technician_of(conn, culprit),
    )
    assert stored_for_culprit == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        # Each float field stored in a `real` column, at the double just inside the API's bound
        # that the column rounds onto (or past) the bound its CHECK holds.
        ("/technicians/me/positions", {"heading_deg": 359.99999999999994}, "pings[0].heading_deg"),
        ("/plans", {"time_limit_s": 1e-46}, "time_limit_s"),
        ("/plans/replan", {"time_limit_s": 1e-46}, "time_limit_s"),
    ],
)
async def test_every_float_stored_as_real_is_checked_as_the_column_will_hold_it(
    app: Litestar, conn: Connection, dispatcher: Auth, path: str, body: dict[str, Any], field: str
) -> None:
    metro = await territory(conn)
    tech = await login_of(conn, await technician(conn, metro, "Ann Springs", north(0)))
    if path.startswith("/plans"):
        payload: dict[str, Any] = {"territory_id": str(metro), **body}
        if path == "/plans":
            payload["date"] = "2026-12-01"
        headers = dispatcher.headers
    else:
        payload = {"pings": [_ping(datetime.now(UTC), 0, **body)]}
        headers = tech.headers
    async with serving(app) as base, httpx.AsyncClient(base_url=base) as http:
        answer = await http.post(path, json=payload, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["extra"][0]["key"] == field
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == 0
    assert await conn.fetchval("SELECT count(*) FROM day_plans") == 0


async def test_a_write_only_the_database_refuses_fails_only_the_request_that_sent_it(
    app: Litestar, conn: Connection
) -> None:
    # A rule the API does not know, as a later migration or an operator might add one: the
    # database alone refuses fixes at this latitude. The upload carrying one hears why, in the
    # API's words; everyone written alongside it is stored.
    *honest, culprit = await _fleet(conn, HONEST + 1)
    forbidden = 12.5
    await conn.execute(
        "ALTER TABLE technician_positions ADD CONSTRAINT technician_positions_latitude_check1"
        f" CHECK (latitude <> {forbidden})"
    )
    bad = {"recorded_at": "", "latitude": forbidden, "longitude": 10.0}
    for answer in await _in_a_crowd(app, honest, culprit, bad):
        assert answer.status_code == 422, answer.text
        assert answer.json()["extra"][0]["key"] == "latitude"
        assert "technician_positions" not in answer.text  # no constraint or table names
    assert await conn.fetchval("SELECT count(*) FROM technician_positions") == HONEST * ROUNDS


async def _technician_of(conn: Connection, auth: Auth) -> UUID:
    technician_id: UUID = await conn.fetchval("SELECT technician_id FROM users WHERE id = $1", auth.user_id)
    return technician_id
