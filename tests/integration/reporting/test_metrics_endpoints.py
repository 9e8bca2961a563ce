"""Maintenance due with suggested jobs, and the Prometheus metrics an operator scrapes."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from infra.db import Connection
from tests.conftest import Auth
from tests.factories_assets import insert_asset
from tests.factories_matching import at, job, north, site, territory

Client = AsyncTestClient[Litestar]


@pytest.fixture(autouse=True)
def frozen_clock(app: Litestar) -> None:
    app.state.clock = lambda: at(12)


async def test_assets_due_for_service_come_with_a_suggested_job_unless_one_is_open(
    client: Client, conn: Connection, dispatcher: Auth
) -> None:
    metro = await territory(conn)
    furnace_site = await site(conn, metro, north(1), line="5 Furnace Lane")
    furnace = await insert_asset(
        conn, furnace_site, kind="hvac_unit", make="Carrier", model="59TP6", attributes={}
    )
    await conn.execute(
        "INSERT INTO asset_events (asset_id, kind, occurred_at)"
        " VALUES ($1, 'maintenance', '2025-10-01T15:00:00Z')",
        furnace,
    )
    busy_site = await site(conn, metro, north(2), line="7 Busy Road")
    busy = await insert_asset(conn, busy_site, kind="hvac_unit", make="Trane", model="XR", attributes={})
    await job(conn, busy_site, (8, 12), asset_id=busy)
    fresh_site = await site(conn, metro, north(3), line="9 Fresh Court")
    fresh = await insert_asset(conn, fresh_site, kind="hvac_unit", make="Lennox", model="EL", attributes={})
    await conn.execute(
        "INSERT INTO asset_events (asset_id, kind, occurred_at)"
        " VALUES ($1, 'maintenance', '2026-10-01T15:00:00Z')",
        fresh,
    )
    response = await client.get(
        "/maintenance/due", params={"territory_id": str(metro)}, headers=dispatcher.headers
    )
    assert response.status_code == 200, response.text
    due = response.json()
    assert [d["asset_id"] for d in due] == [str(furnace)]
    assert due[0]["due_on"] == "2026-10-01"
    assert due[0]["suggested_job"] == {
        "site_id": str(furnace_site),
        "asset_id": str(furnace),
        "problem_code": "annual_maintenance",
    }


async def test_prometheus_metrics_are_served_without_a_login(client: Client, dispatcher: Auth) -> None:
    await client.get("/jobs", headers=dispatcher.headers)
    response = await client.get("/metrics")
    assert response.status_code == 200
    text = response.text
    assert "truckroll_outbox_pending" in text
    assert "truckroll_requests_total" in text
    assert 'path="/jobs"' in text
    assert (await client.get("/metrics/service")).status_code == 401
