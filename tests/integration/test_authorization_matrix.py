"""Every operation x every kind of caller: only those the API documents for it get through, and a
refused write changes nothing in the database.

The callers: nobody; a customer holding the tracking link of another job (sent as a bearer
token, which it is not); technician A on technician B's records; technician B on their own; a
dispatcher; an admin. Paths name B's job, shift, van and subscription wherever records have an
owner. Each operation runs on its own clone of the demo company, so one's writes never decide
another's answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from dispatch.accounts import Role
from infra.db import connect
from infra.settings import Settings
from tests.conftest import JWT_SECRET, Cluster, clone_demo, mint_token
from tests.demo_template import DemoWorld, bearer
from tests.live_server import serving_in_thread

# Who may call what, as the README's endpoint table says:
#   public      anyone (the tracking routes: whoever holds the link)
#   staff       admin and dispatcher
#   admin       admin only
#   signed_in   any signed-in user; no record has an owner to check (catalogue, own lists)
#   own         staff, and a technician on their own records (another's is 404)
#   technician  a technician, about themselves (`/me`)
ACCESS: dict[str, str] = {
    "GET /health": "public",
    "GET /ready": "public",
    "GET /metrics": "public",
    "GET /customers": "staff",
    "POST /customers": "staff",
    "PATCH /customers/{customer_id}": "staff",
    "GET /customers/{customer_id}": "staff",
    "POST /sites": "staff",
    "GET /sites": "staff",
    "GET /sites/{site_id}": "staff",
    "PATCH /sites/{site_id}": "staff",
    "POST /sites/{site_id}/occupancies": "staff",
    "GET /sites/{site_id}/occupancies": "staff",
    "GET /sites/{site_id}/assets": "staff",
    "GET /sites/{site_id}/history": "staff",
    "POST /assets": "staff",
    "GET /assets/{asset_id}": "staff",
    "PATCH /assets/{asset_id}": "staff",
    "GET /assets/{asset_id}/history": "staff",
    "GET /assets/{asset_id}/attribute-history": "staff",
    "GET /assets/{asset_id}/fitting-parts": "staff",
    "POST /assets/{asset_id}/events": "staff",
    "GET /parts/{part_id}/fitments": "staff",
    "POST /parts/{part_id}/fitments": "staff",
    "GET /parts": "signed_in",
    "POST /parts": "staff",
    "PATCH /parts/{part_id}": "staff",
    "GET /parts/{part_id}": "signed_in",
    "DELETE /fitments/{fitment_id}": "staff",
    "POST /territories": "admin",
    "GET /territories": "staff",
    "PATCH /territories/{territory_id}": "admin",
    "GET /territories/{territory_id}": "staff",
    "GET /skills": "signed_in",
    "GET /technicians/{technician_id}/shifts": "own",
    "POST /technicians/{technician_id}/shifts": "staff",
    "GET /technicians": "staff",
    "POST /technicians": "staff",
    "GET /technicians/me": "technician",
    "GET /technicians/{technician_id}": "own",
    "PATCH /technicians/{technician_id}": "staff",
    "DELETE /shifts/{shift_id}": "staff",
    "PUT /shifts/{shift_id}": "staff",
    "GET /shifts/{shift_id}": "own",
    "PUT /customers/{customer_id}/technician-preferences/{technician_id}": "staff",
    "DELETE /customers/{customer_id}/technician-preferences/{technician_id}": "staff",
    "GET /customers/{customer_id}/technician-preferences": "staff",
    "PUT /technicians/{technician_id}/stock/{part_id}": "staff",
    "GET /technicians/{technician_id}/stock": "own",
    "POST /stock-locations/{location_id}/adjustments": "staff",
    "PUT /stock-locations/{location_id}/stock/{part_id}": "staff",
    "GET /stock-locations/{location_id}": "staff",
    "GET /stock-locations/{location_id}/stock": "staff",
    "POST /depots": "staff",
    "GET /depots": "staff",
    "GET /depots/{depot_id}": "staff",
    "PATCH /depots/{depot_id}": "staff",
    "GET /parts/{part_id}/availability": "staff",
    "POST /jobs/intake": "staff",
    "PUT /problems/{code}": "admin",
    "GET /problems/{code}": "signed_in",
    "GET /problems": "signed_in",
    "POST /jobs/{job_id}/cancel": "staff",
    "GET /jobs": "signed_in",
    "POST /jobs": "staff",
    "DELETE /jobs/{job_id}/tracking-links": "staff",
    "POST /jobs/{job_id}/tracking-links": "staff",
    "GET /jobs/{job_id}": "own",
    "PATCH /jobs/{job_id}": "staff",
    "GET /jobs/{job_id}/events": "own",
    "GET /jobs/{job_id}/parts": "own",
    "POST /jobs/{job_id}/parts/prediction": "staff",
    "POST /jobs/{job_id}/assignment": "staff",
    "GET /jobs/{job_id}/candidates": "staff",
    "POST /slots/book": "staff",
    "GET /slots": "staff",
    "POST /jobs/{job_id}/notes": "own",
    "GET /jobs/{job_id}/notes": "own",
    "POST /jobs/{job_id}/status": "own",
    "POST /jobs/{job_id}/parts-used": "own",
    "POST /technicians/me/events": "technician",
    "GET /technicians/me/day": "technician",
    "GET /technicians/{technician_id}/day": "own",
    "POST /technicians/me/sick": "technician",
    "POST /technicians/me/shift-reports": "technician",
    "POST /technicians/me/running-late": "technician",
    "POST /jobs/{job_id}/window": "staff",
    "POST /jobs/{job_id}/pin": "staff",
    "POST /jobs/{job_id}/reassign": "staff",
    "POST /jobs/{job_id}/unassign": "staff",
    "POST /jobs/{job_id}/unpin": "staff",
    "GET /audit": "staff",
    "GET /board": "staff",
    "GET /board/stream": "staff",
    "GET /maintenance/due": "staff",
    "POST /jobs/{job_id}/rating": "staff",
    "GET /metrics/service": "staff",
    "POST /technicians/me/positions": "technician",
    "GET /push/public-key": "public",
    "POST /push/subscriptions": "signed_in",
    "DELETE /push/subscriptions/{subscription_id}": "own",
    "POST /track/{token}/subscriptions": "public",
    "GET /t/{token}": "public",
    "GET /t/sw.js": "public",
    "GET /static/track.js": "public",
    "GET /static/track.css": "public",
    "POST /track/{token}/cancel": "public",
    "GET /track/{token}/events": "public",
    "POST /track/{token}/rating": "public",
    "POST /track/{token}/reschedule": "public",
    "GET /track/{token}/slots": "public",
    "GET /track/{token}": "public",
    "POST /plans/{plan_id}/apply": "staff",
    "GET /plans/{plan_id}": "staff",
    "POST /plans": "staff",
    "POST /plans/replan": "staff",
}
# Reachable only with records the matrix does not make (a plan), or with no record at all: an
# allowed caller may get 404 or 409 there, but never 401 or 403.
NO_RECORD = {"GET /plans/{plan_id}", "POST /plans/{plan_id}/apply", "GET /push/public-key"}
STREAMS = {"GET /board/stream", "GET /track/{token}/events"}
CALLERS = ["nobody", "customer", "technician A", "technician B", "dispatcher", "admin"]
ALLOWED = {
    "public": set(CALLERS),
    "staff": {"dispatcher", "admin"},
    "admin": {"admin"},
    "signed_in": {"technician A", "technician B", "dispatcher", "admin"},
    "own": {"technician B", "dispatcher", "admin"},
    "technician": {"technician A", "technician B"},
}


def test_the_matrix_covers_every_documented_operation(app_document: dict[str, Any]) -> None:
    documented = {
        f"{method.upper()} {path}"
        for path, item in app_document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete") and not path.startswith("/schema")
    }
    assert documented - {"POST /auth/login"} == set(ACCESS)


@pytest.fixture(scope="module")
def app_document() -> dict[str, Any]:
    unused = Settings(database_url=None, data_dir=Path("."), jwt_secret=JWT_SECRET)
    return create_app(unused, dsn="postgresql://unused/unused").openapi_schema.to_schema()


def _bodies(world: DemoWorld, known: dict[str, str]) -> dict[str, Any]:
    """Bodies a caller who may do it would send, so a refusal is about who, not what."""
    now = datetime.now(UTC)
    window = {
        "window_start_at": (now + timedelta(days=2)).isoformat(),
        "window_end_at": (now + timedelta(days=2, hours=2)).isoformat(),
    }
    return {
        "POST /jobs/{job_id}/status": {"status": "dispatched"},
        "POST /jobs/{job_id}/notes": {"text": "Gate code 4471"},
        "POST /jobs/{job_id}/parts-used": {"parts": [{"part_id": known["part_id"], "quantity": 1}]},
        "POST /jobs/{job_id}/cancel": {"reason": "The customer called to cancel"},
        "POST /jobs/{job_id}/reassign": {"technician_id": str(world.technicians["A"]), "reason": "Closer"},
        "POST /jobs/{job_id}/unassign": {"reason": "Sick"},
        "POST /jobs/{job_id}/pin": {"reason": "Customer asked for B"},
        "POST /jobs/{job_id}/unpin": {"reason": "No longer needed"},
        "POST /jobs/{job_id}/window": {**window, "reason": "Customer asked"},
        "POST /jobs/{job_id}/rating": {"stars": 5},
        "PATCH /jobs/{job_id}": {"priority": 2},
        "PATCH /technicians/{technician_id}": {"active": False},
        "PATCH /territories/{territory_id}": {"name": "Renamed"},
        "PATCH /customers/{customer_id}": {"name": "Renamed Customer"},
        "PUT /technicians/{technician_id}/stock/{part_id}": {"quantity": 3},
        "PUT /customers/{customer_id}/technician-preferences/{technician_id}": {"preference": "excluded"},
        "POST /technicians/me/positions": {
            "pings": [{"recorded_at": now.isoformat(), "latitude": 44.95, "longitude": -93.25}]
        },
        "POST /technicians/me/sick": {"reason": "Flu"},
        "POST /technicians/me/running-late": {"minutes": 15},
        "POST /technicians/me/shift-reports": {"kind": "shift_start"},
        "POST /technicians/me/events": {"events": []},
        "POST /push/subscriptions": {
            "endpoint": "https://push.example.com/another",
            "keys": {"p256dh": "B" + "A" * 86, "auth": "A" * 22},
        },
        "POST /track/{token}/cancel": {"reason": "Not needed"},
        "POST /track/{token}/rating": {"stars": 4},
        "POST /track/{token}/reschedule": window,
        "POST /plans": {
            "territory_id": known["territory_id"],
            "date": (now + timedelta(days=1)).date().isoformat(),
            "time_limit_s": 0.1,
        },
        "POST /plans/replan": {"territory_id": known["territory_id"], "time_limit_s": 0.1},
    }


async def _snapshot(dsn: str) -> dict[str, str]:
    conn = await connect(dsn)
    try:
        tables = [
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return {
            table: await conn.fetchval(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {table} t"
            )
            for table in tables
        }
    finally:
        await conn.close()


@dataclass(frozen=True)
class Server:
    base_url: str
    dsn: str
    world: DemoWorld
    callers: dict[str, dict[str, str]]


@pytest.fixture(scope="module")
def server(
    cluster: Cluster, demo_world: DemoWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One clone of the demo company for the whole matrix. Refusals are checked first, for every
    operation; then allowed reads; then allowed writes, which may change what later ones find
    (so those are only checked for getting past authorization)."""
    dsn = asyncio.run(clone_demo(cluster))
    settings = Settings(
        database_url=None, data_dir=tmp_path_factory.mktemp("matrix"), jwt_secret=JWT_SECRET, risk_scan_s=0
    )
    with serving_in_thread(create_app(settings, dsn=dsn)) as base_url:
        yield Server(base_url, dsn, demo_world, _callers(demo_world))


def _request(server: Server, operation: str, caller: str) -> int:
    method, path = operation.split(" ", 1)
    known = server.world.known
    url = server.base_url + path.format(**{name: known.get(name, "") for name in _names(path)})
    query = (
        {"site_id": known["site_id"], "problem_code": known["code"]} if operation == "GET /slots" else None
    )
    body = _bodies(server.world, known).get(operation, {} if method in ("POST", "PUT", "PATCH") else None)
    headers = {**server.callers[caller], **asyncio.run(_extra_headers(server.dsn, operation, server.world))}
    if operation in STREAMS:
        # Only refusals are asked for here: an allowed stream answers 200 and stays open.
        with httpx.stream(method, url, params=query, headers=headers, timeout=10) as response:
            return response.status_code
    return httpx.request(method, url, params=query, json=body, headers=headers, timeout=30).status_code


@pytest.mark.parametrize("operation", sorted(ACCESS))
def test_callers_not_documented_are_refused_and_change_nothing(server: Server, operation: str) -> None:
    allowed = ALLOWED[ACCESS[operation]]
    before = asyncio.run(_snapshot(server.dsn)) if not operation.startswith("GET") else None
    for caller in CALLERS:
        if caller in allowed:
            continue
        status = _request(server, operation, caller)
        expected = {401} if caller in ("nobody", "customer") else {403, 404}
        assert status in expected, f"{operation} as {caller}: {status}, expected one of {expected}"
    if before is not None:
        assert asyncio.run(_snapshot(server.dsn)) == before, (
            f"{operation}: a refused write changed the database"
        )


@pytest.mark.parametrize(
    "operation", sorted(op for op in ACCESS if op.startswith("GET ") and op not in STREAMS)
)
def test_documented_callers_read(server: Server, operation: str) -> None:
    for caller in sorted(ALLOWED[ACCESS[operation]]):
        status = _request(server, operation, caller)
        if operation in NO_RECORD:
            assert status in (200, 404), f"{operation} as {caller}: {status}"
        else:
            assert 200 <= status < 300, f"{operation} as {caller}: {status}"


@pytest.mark.parametrize("operation", sorted(op for op in ACCESS if not op.startswith("GET ")))
def test_documented_callers_get_past_authorization_to_write(server: Server, operation: str) -> None:
    for caller in sorted(ALLOWED[ACCESS[operation]]):
        status = _request(server, operation, caller)
        assert status not in (401, 403), f"{operation} as {caller}: {status}"
        assert status < 500, f"{operation} as {caller}: {status}"


def _names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def _callers(world: DemoWorld) -> dict[str, dict[str, str]]:
    def technician(who: str) -> dict[str, str]:
        return bearer(
            mint_token(world.technician_users[who], Role.TECHNICIAN, technician_id=world.technicians[who])
        )

    return {
        "nobody": {},
        "customer": bearer(world.links["A"]),
        "technician A": technician("A"),
        "technician B": technician("B"),
        "dispatcher": bearer(mint_token(world.dispatcher, Role.DISPATCHER)),
        "admin": bearer(mint_token(world.admin, Role.ADMIN)),
    }


async def _extra_headers(dsn: str, operation: str, world: DemoWorld) -> dict[str, str]:
    if operation != "PATCH /jobs/{job_id}":
        return {}
    conn = await connect(dsn)
    try:
        version = await conn.fetchval("SELECT version FROM jobs WHERE id = $1", world.jobs["B"])
    finally:
        await conn.close()
    return {"If-Match": f'"{version}"'}
