"""Every operation x every kind of caller: only those the API documents for it get through, and a
refused write changes nothing in the database.

The callers: nobody; a customer holding the tracking link of another job (sent as a bearer
token, which it is not); technician A on technician B's records; technician B on their own; a
dispatcher; a dispatcher bound to B's territory; an admin. Paths name B's job, shift, van and
subscription wherever records have an owner. A bound dispatcher is also sent at the other
territory's records, every operation of the app (SCOPED says what each must answer). Every
operation runs on one clone of the demo company: refusals first, then reads, then writes.
"""

from __future__ import annotations

import asyncio
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from litestar.routes import HTTPRoute

from api.app import create_app
from api.static_files import STATIC
from dispatch.access.accounts import Role
from infra.db import connect
from infra.settings import Settings
from tests.conftest import JWT_SECRET, Cluster, clone_demo, mint_token
from tests.demo_template import DemoWorld, bearer
from tests.live_server import serving_in_thread

# Each operation: who may call it, as the README's endpoint table says,
#   public      anyone (the tracking routes: whoever holds the link)
#   staff       admin and dispatcher (bound to a territory or not)
#   admin       admin only
#   signed_in   any signed-in user; no record has an owner to check (catalogue, own lists)
#   own         staff, and a technician on their own records (another's is 404)
#   technician  a technician, about themselves (`/me`)
# and what a dispatcher bound to one territory (theirs: the one where B works) meets on each
# operation, when it names a record of the other territory:
#   hidden      a record in the path: 404, word for word the answer to an id that does not
#               exist, and nothing changes (the guard in api/scope.py; other records it names
#               are their own, checked alike)
#   listed      a list: only their territory's records; asking for another territory is 422
#   refused     a body or query naming the other territory or one of its records: refused and
#               nothing changes (the cases are in `_refusals`)
#   shared      the company's, with no territory: the catalogue, a new customer (nobody's until
#               they move in or are booked), one's own push subscriptions
#   not_theirs  no dispatcher may call it (admin's or a technician's own)
#   public      the customer's link and the operators' probes
OPERATIONS: dict[str, tuple[str, str]] = {
    "GET /health": ("public", "public"),
    "GET /ready": ("public", "public"),
    "GET /metrics": ("public", "public"),
    "POST /auth/logout": ("signed_in", "shared"),
    "POST /auth/password": ("signed_in", "shared"),
    "POST /users": ("staff", "refused"),
    "GET /users": ("admin", "not_theirs"),
    "POST /users/{user_id}/deactivate": ("admin", "not_theirs"),
    "POST /users/{user_id}/password": ("admin", "not_theirs"),
    "GET /customers": ("staff", "listed"),
    "POST /customers": ("staff", "shared"),
    "PATCH /customers/{customer_id}": ("staff", "hidden"),
    "GET /customers/{customer_id}": ("staff", "hidden"),
    "POST /sites": ("staff", "refused"),
    "GET /sites": ("staff", "listed"),
    "GET /sites/{site_id}": ("staff", "hidden"),
    "PATCH /sites/{site_id}": ("staff", "hidden"),
    "POST /sites/{site_id}/occupancies": ("staff", "hidden"),
    "GET /sites/{site_id}/occupancies": ("staff", "hidden"),
    "GET /sites/{site_id}/assets": ("staff", "hidden"),
    "GET /sites/{site_id}/history": ("staff", "hidden"),
    "POST /assets": ("staff", "refused"),
    "GET /assets": ("staff", "listed"),
    "GET /assets/{asset_id}": ("staff", "hidden"),
    "PATCH /assets/{asset_id}": ("staff", "hidden"),
    "GET /assets/{asset_id}/history": ("staff", "hidden"),
    "GET /assets/{asset_id}/attribute-history": ("staff", "hidden"),
    "GET /assets/{asset_id}/fitting-parts": ("staff", "hidden"),
    "POST /assets/{asset_id}/events": ("staff", "hidden"),
    "GET /parts/{part_id}/fitments": ("staff", "shared"),
    "POST /parts/{part_id}/fitments": ("staff", "shared"),
    "GET /parts": ("signed_in", "shared"),
    "POST /parts": ("staff", "shared"),
    "PATCH /parts/{part_id}": ("staff", "shared"),
    "GET /parts/{part_id}": ("signed_in", "shared"),
    "DELETE /fitments/{fitment_id}": ("staff", "shared"),
    "POST /territories": ("admin", "not_theirs"),
    "GET /territories": ("staff", "listed"),
    "PATCH /territories/{territory_id}": ("admin", "not_theirs"),
    "GET /territories/{territory_id}": ("staff", "hidden"),
    "POST /territories/{territory_id}/days/{date}/publish": ("staff", "hidden"),
    "POST /technicians/{technician_id}/days/{date}/publish": ("staff", "hidden"),
    "GET /skills": ("signed_in", "shared"),
    "GET /technicians/{technician_id}/shifts": ("own", "hidden"),
    "POST /technicians/{technician_id}/shifts": ("staff", "hidden"),
    "GET /technicians": ("staff", "listed"),
    "POST /technicians": ("staff", "refused"),
    "GET /technicians/me": ("technician", "not_theirs"),
    "GET /technicians/{technician_id}": ("own", "hidden"),
    "PATCH /technicians/{technician_id}": ("staff", "hidden"),
    "DELETE /shifts/{shift_id}": ("staff", "hidden"),
    "PUT /shifts/{shift_id}": ("staff", "hidden"),
    "GET /shifts/{shift_id}": ("own", "hidden"),
    "PUT /customers/{customer_id}/technician-preferences/{technician_id}": ("staff", "hidden"),
    "DELETE /customers/{customer_id}/technician-preferences/{technician_id}": ("staff", "hidden"),
    "GET /customers/{customer_id}/technician-preferences": ("staff", "hidden"),
    "PUT /technicians/{technician_id}/stock/{part_id}": ("staff", "hidden"),
    "GET /technicians/{technician_id}/stock": ("own", "hidden"),
    "POST /stock-locations/{location_id}/adjustments": ("staff", "hidden"),
    "PUT /stock-locations/{location_id}/stock/{part_id}": ("staff", "hidden"),
    "GET /stock-locations/{location_id}": ("staff", "hidden"),
    "GET /stock-locations/{location_id}/stock": ("staff", "hidden"),
    "POST /depots": ("staff", "refused"),
    "GET /depots": ("staff", "listed"),
    "GET /depots/{depot_id}": ("staff", "hidden"),
    "PATCH /depots/{depot_id}": ("staff", "hidden"),
    "GET /parts/{part_id}/availability": ("staff", "listed"),
    "POST /jobs/intake": ("staff", "refused"),
    "PUT /problems/{code}": ("admin", "not_theirs"),
    "GET /problems/{code}": ("signed_in", "shared"),
    "GET /problems": ("signed_in", "shared"),
    "POST /jobs/{job_id}/cancel": ("staff", "hidden"),
    "GET /jobs": ("signed_in", "listed"),
    "POST /jobs": ("staff", "refused"),
    "DELETE /jobs/{job_id}/tracking-links": ("staff", "hidden"),
    "POST /jobs/{job_id}/tracking-links": ("staff", "hidden"),
    "GET /jobs/{job_id}": ("own", "hidden"),
    "PATCH /jobs/{job_id}": ("staff", "hidden"),
    "GET /jobs/{job_id}/events": ("own", "hidden"),
    "GET /jobs/{job_id}/parts": ("own", "hidden"),
    "POST /jobs/{job_id}/parts/prediction": ("staff", "hidden"),
    "POST /jobs/{job_id}/assignment": ("staff", "hidden"),
    "GET /jobs/{job_id}/candidates": ("staff", "hidden"),
    "POST /slots/book": ("staff", "refused"),
    "GET /slots": ("staff", "refused"),
    "POST /jobs/{job_id}/notes": ("own", "hidden"),
    "GET /jobs/{job_id}/notes": ("own", "hidden"),
    "POST /jobs/{job_id}/status": ("own", "hidden"),
    "POST /jobs/{job_id}/parts-used": ("own", "hidden"),
    "POST /technicians/me/events": ("technician", "not_theirs"),
    "GET /technicians/me/day": ("technician", "not_theirs"),
    "GET /technicians/{technician_id}/day": ("own", "hidden"),
    "POST /technicians/me/sick": ("technician", "not_theirs"),
    "POST /technicians/me/shift-reports": ("technician", "not_theirs"),
    "POST /technicians/me/running-late": ("technician", "not_theirs"),
    "POST /jobs/{job_id}/window": ("staff", "hidden"),
    "POST /jobs/{job_id}/pin": ("staff", "hidden"),
    "POST /jobs/{job_id}/reassign": ("staff", "hidden"),
    "POST /jobs/{job_id}/unassign": ("staff", "hidden"),
    "POST /jobs/{job_id}/unpin": ("staff", "hidden"),
    "GET /audit": ("staff", "listed"),
    "GET /board": ("staff", "listed"),
    "GET /board/stream": ("staff", "listed"),
    "GET /maintenance/due": ("staff", "listed"),
    "POST /jobs/{job_id}/rating": ("staff", "hidden"),
    "GET /metrics/service": ("staff", "listed"),
    "POST /technicians/me/positions": ("technician", "not_theirs"),
    "GET /push/public-key": ("public", "public"),
    "POST /push/subscriptions": ("signed_in", "shared"),
    "DELETE /push/subscriptions/{subscription_id}": ("own", "shared"),
    "POST /track/{token}/subscriptions": ("public", "public"),
    "GET /t/{token}": ("public", "public"),
    "GET /t/sw.js": ("public", "public"),
    "GET /app": ("public", "public"),
    "GET /app/manifest.webmanifest": ("public", "public"),
    "GET /app/worker.js": ("public", "public"),
    "GET /jobs/{job_id}/contact": ("own", "hidden"),
    "GET /static/{digest}/{file_name}": ("public", "public"),
    "GET /static/favicon.svg": ("public", "public"),
    "GET /favicon.ico": ("public", "public"),
    "POST /track/{token}/cancel": ("public", "public"),
    "GET /track/{token}/events": ("public", "public"),
    "POST /track/{token}/rating": ("public", "public"),
    "POST /track/{token}/reschedule": ("public", "public"),
    "GET /track/{token}/slots": ("public", "public"),
    "GET /track/{token}": ("public", "public"),
    "POST /plans/{plan_id}/apply": ("staff", "hidden"),
    "GET /plans/{plan_id}": ("staff", "hidden"),
    "POST /plans": ("staff", "refused"),
    "POST /plans/replan": ("staff", "refused"),
    "GET /console": ("public", "public"),
    "GET /console/session": ("staff", "shared"),
    "DELETE /console/session": ("staff", "shared"),
    "GET /console/board": ("staff", "listed"),
    "GET /console/board/jobs/{job_id}": ("staff", "hidden"),
    "GET /console/board/jobs/{job_id}/suggestions": ("staff", "hidden"),
}
ACCESS = {operation: who for operation, (who, _) in OPERATIONS.items()}
SCOPED = {operation: met for operation, (_, met) in OPERATIONS.items()}
# Reachable only with records the matrix does not make (a plan), or with no record at all: an
# allowed caller may get 404 or 409 there, but never 401 or 403.
NO_RECORD = {"GET /plans/{plan_id}", "POST /plans/{plan_id}/apply", "GET /push/public-key"}
STREAMS = {"GET /board/stream", "GET /track/{token}/events"}
PATH_DATE = "2026-12-02"
CALLERS = ["nobody", "customer", "technician A", "technician B", "dispatcher", "scoped dispatcher", "admin"]
STAFF = {"dispatcher", "scoped dispatcher", "admin"}
ALLOWED = {
    "public": set(CALLERS),
    "staff": STAFF,
    "admin": {"admin"},
    "signed_in": {"technician A", "technician B", *STAFF},
    "own": {"technician B", *STAFF},
    "technician": {"technician A", "technician B"},
}
# Path parameters that name a record of one territory.
PATH_RECORDS = {
    "site_id",
    "job_id",
    "asset_id",
    "technician_id",
    "shift_id",
    "customer_id",
    "location_id",
    "depot_id",
    "territory_id",
    "plan_id",
}
PATH_TYPE = re.compile(r"{(\w+):[^}]+}")  # "{site_id:uuid}" is "{site_id}" in the document
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_the_matrix_covers_every_route_of_the_app_and_every_documented_operation(
    app_document: dict[str, Any],
) -> None:
    unused = Settings(database_url=None, data_dir=Path("."), jwt_secret=JWT_SECRET)
    routes = {
        f"{method} {PATH_TYPE.sub(_untyped, route.path)}"
        for route in create_app(unused, dsn="postgresql://unused/unused").routes
        if isinstance(route, HTTPRoute) and not route.path.startswith("/schema")
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    }
    documented = {
        f"{method.upper()} {path}"
        for path, item in app_document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete") and not path.startswith("/schema")
    }
    # A new route answers to both columns of OPERATIONS, or this fails.
    # The sign-ins take no token: what they answer is tested with their own (test_auth, test_console_session).
    sign_ins = {"POST /auth/login", "POST /console/session"}
    assert routes - sign_ins == set(OPERATIONS)
    assert documented - sign_ins == set(OPERATIONS)


def _untyped(parameter: re.Match[str]) -> str:
    return "{" + parameter.group(1) + "}"


def test_every_operation_says_what_a_dispatcher_bound_to_a_territory_meets() -> None:
    for operation, kind in SCOPED.items():
        names = set(_names(operation))
        dispatchers = "dispatcher" in ALLOWED[ACCESS[operation]]
        assert (kind == "not_theirs") == (not dispatchers and ACCESS[operation] != "public"), operation
        if kind == "hidden":
            assert names & set(PATH_RECORDS), f"{operation}: no record in its path to hide"
        if dispatchers and kind not in ("hidden", "public"):
            # A record of a territory in the path is always checked by the guard.
            assert not names & set(PATH_RECORDS), f"{operation} names a record: it is hidden"
        if kind == "listed":
            assert operation.startswith("GET "), operation
    refused = {case.operation for case in _refusals(_FAKE, _FAKE).values()}
    assert {op for op, kind in SCOPED.items() if kind == "refused"} <= refused


@pytest.fixture(scope="module")
def app_document() -> dict[str, Any]:
    unused = Settings(database_url=None, data_dir=Path("."), jwt_secret=JWT_SECRET)
    return create_app(unused, dsn="postgresql://unused/unused").openapi_schema.to_schema()


def _window(days: int = 2) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "window_start_at": (now + timedelta(days=days)).isoformat(),
        "window_end_at": (now + timedelta(days=days, hours=2)).isoformat(),
    }


def _bodies(known: dict[str, str]) -> dict[str, Any]:
    """Bodies a caller who may do it would send, so a refusal is about who, not what."""
    now = datetime.now(UTC)
    window = _window()
    shift = {
        "starts_at": (now + timedelta(days=20, hours=1)).isoformat(),
        "ends_at": (now + timedelta(days=20, hours=9)).isoformat(),
    }
    return {
        "POST /jobs/{job_id}/status": {"status": "dispatched"},
        "POST /jobs/{job_id}/notes": {"text": "Gate code 4471"},
        "POST /jobs/{job_id}/parts-used": {"parts": [{"part_id": known["part_id"], "quantity": 1}]},
        "POST /jobs/{job_id}/cancel": {"reason": "The customer called to cancel"},
        "POST /jobs/{job_id}/reassign": {"technician_id": known["other_technician_id"], "reason": "Closer"},
        "POST /jobs/{job_id}/unassign": {"reason": "Sick"},
        "POST /jobs/{job_id}/pin": {"reason": "Customer asked for B"},
        "POST /jobs/{job_id}/unpin": {"reason": "No longer needed"},
        "POST /jobs/{job_id}/window": {**window, "reason": "Customer asked"},
        "POST /jobs/{job_id}/rating": {"stars": 5},
        "POST /jobs/{job_id}/assignment": {"auto": True},
        "PATCH /jobs/{job_id}": {"priority": 2},
        "PATCH /technicians/{technician_id}": {"active": False},
        "PATCH /territories/{territory_id}": {"name": "Renamed"},
        "PATCH /customers/{customer_id}": {"name": "Renamed Customer"},
        "PUT /technicians/{technician_id}/stock/{part_id}": {"quantity": 3},
        "PUT /customers/{customer_id}/technician-preferences/{technician_id}": {"preference": "excluded"},
        "POST /technicians/{technician_id}/shifts": shift,
        "PUT /shifts/{shift_id}": shift,
        "POST /sites/{site_id}/occupancies": {
            "customer_id": known["customer_id"],
            "started_at": now.isoformat(),
        },
        "POST /assets/{asset_id}/events": {"kind": "inspection", "occurred_at": now.isoformat()},
        "PUT /stock-locations/{location_id}/stock/{part_id}": {"quantity": 3},
        "POST /stock-locations/{location_id}/adjustments": {
            "part_id": known["part_id"],
            "delta": 1,
            "reason": "Found one",
        },
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
        "POST /users": {
            "email": f"invited-{uuid4().hex[:8]}@example.com",
            "password": "a ladder, two springs and a van",
            "technician_id": known["technician_id"],
        },
        "POST /users/{user_id}/password": {"new_password": "the new spring is left-wound"},
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


@dataclass(frozen=True)
class Attempt:
    """One request a bound dispatcher makes with their own records and the other territory's."""

    operation: str
    path: dict[str, str]
    body: Any = None
    params: dict[str, str] | None = None
    expected: frozenset[int] = frozenset({422})
    # What the answer must be about, so a refusal for another reason does not pass.
    about: str = "territory_id"


def _refusals(mine: dict[str, str], theirs: dict[str, str]) -> dict[str, Attempt]:
    """Every way a body or query can name the other territory: creating there, moving there,
    pointing at its records, or asking for its lists."""
    now = datetime.now(UTC)
    window = _window()
    site = {"address_line": "1 Elsewhere Road", "latitude": 44.9, "longitude": -93.1}
    job = {"problem_code": mine["code"], "duration_s": 3600, **window}
    intake = {"problem_code": mine["code"], **window}
    day = (now + timedelta(days=1)).date().isoformat()
    attempts = {
        "site in their territory": Attempt(
            "POST /sites", {}, {**site, "territory_id": theirs["territory_id"]}
        ),
        # The attack of the finding: the dispatcher moved another territory's site into theirs,
        # then read and cancelled its jobs; a dispatcher moves no site, not even their own away.
        "their site moved here": Attempt(
            "PATCH /sites/{site_id}",
            theirs,
            {"territory_id": mine["territory_id"]},
            expected=frozenset({404}),
            about="no site with this id",
        ),
        "my site moved there": Attempt(
            "PATCH /sites/{site_id}",
            mine,
            {"territory_id": theirs["territory_id"]},
            expected=frozenset({403}),
        ),
        "my site out of every territory": Attempt(
            "PATCH /sites/{site_id}", mine, {"territory_id": None}, expected=frozenset({403})
        ),
        "technician hired there": Attempt(
            "POST /technicians",
            {},
            {
                "name": "New Hire",
                "territory_id": theirs["territory_id"],
                "home_latitude": 44.9,
                "home_longitude": -93.1,
            },
        ),
        "my technician moved there": Attempt(
            "PATCH /technicians/{technician_id}",
            mine,
            {"territory_id": theirs["territory_id"]},
            expected=frozenset({403}),
        ),
        "depot opened there": Attempt(
            "POST /depots",
            {},
            {
                "name": "Their Depot",
                "territory_id": theirs["territory_id"],
                "latitude": 44.9,
                "longitude": -93.1,
            },
        ),
        "asset at their site": Attempt(
            "POST /assets", {}, {"site_id": theirs["site_id"], "kind": "garage_door"}, about="site_id"
        ),
        "history naming their job": Attempt(
            "POST /assets/{asset_id}/events",
            mine,
            {"kind": "inspection", "occurred_at": now.isoformat(), "job_id": theirs["job_id"]},
            about="job_id",
        ),
        "history naming their technician": Attempt(
            "POST /assets/{asset_id}/events",
            mine,
            {"kind": "inspection", "occurred_at": now.isoformat(), "technician_id": theirs["technician_id"]},
            about="technician_id",
        ),
        "their customer moving in here": Attempt(
            "POST /sites/{site_id}/occupancies",
            mine,
            {"customer_id": theirs["customer_id"], "started_at": now.isoformat()},
            about="customer_id",
        ),
        "job at their site": Attempt(
            "POST /jobs", {}, {**job, "site_id": theirs["site_id"]}, about="site_id"
        ),
        "job here for their customer": Attempt(
            "POST /jobs",
            {},
            {**job, "site_id": mine["site_id"], "customer_id": theirs["customer_id"]},
            about="customer_id",
        ),
        "intake at their site": Attempt(
            "POST /jobs/intake", {}, {**intake, "site_id": theirs["site_id"]}, about="site_id"
        ),
        "intake at their site's door": Attempt(
            "POST /jobs/intake",
            {},
            {**intake, "latitude": float(theirs["latitude"]), "longitude": float(theirs["longitude"])},
            about="latitude",
        ),
        "booking at their site": Attempt(
            "POST /slots/book", {}, {**intake, "site_id": theirs["site_id"]}, about="site_id"
        ),
        "windows at their site": Attempt(
            "GET /slots",
            {},
            params={"site_id": theirs["site_id"], "problem_code": mine["code"]},
            about="site_id",
        ),
        "my job given to their technician": Attempt(
            "POST /jobs/{job_id}/assignment",
            {**mine, "job_id": mine["new_job_id"]},
            {"technician_id": theirs["technician_id"]},
            about="technician_id",
        ),
        "my job moved to their technician": Attempt(
            "POST /jobs/{job_id}/reassign",
            mine,
            {"technician_id": theirs["technician_id"], "reason": "Closer"},
            about="technician_id",
        ),
        "my job pinned to their technician": Attempt(
            "POST /jobs/{job_id}/pin",
            mine,
            {"technician_id": theirs["technician_id"], "reason": "Asked for"},
            about="technician_id",
        ),
        "login for their technician": Attempt(
            "POST /users",
            {},
            {
                "email": "their-technician@example.com",
                "password": "a ladder, two springs and a van",
                "technician_id": theirs["technician_id"],
            },
            about="technician_id",
        ),
        "their day planned": Attempt(
            "POST /plans", {}, {"territory_id": theirs["territory_id"], "date": day, "time_limit_s": 0.1}
        ),
        "their day re-planned": Attempt(
            "POST /plans/replan", {}, {"territory_id": theirs["territory_id"], "time_limit_s": 0.1}
        ),
    }
    for operation in sorted(SCOPED):
        if SCOPED[operation] == "listed" and _takes_territory(operation):
            attempts[f"{operation} of their territory"] = Attempt(
                operation, mine, params={"territory_id": theirs["territory_id"]}
            )
    return attempts


def _takes_territory(operation: str) -> bool:
    return operation in {
        "GET /sites",
        "GET /assets",
        "GET /technicians",
        "GET /depots",
        "GET /parts/{part_id}/availability",
        "GET /jobs",
        "GET /audit",
        "GET /board",
        "GET /board/stream",
        "GET /maintenance/due",
        "GET /metrics/service",
    }


_FAKE: dict[str, str] = defaultdict(lambda: "0")


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
class Territories:
    """The bound dispatcher's territory (B's) and the other one, as path values and ids."""

    mine: dict[str, str]
    theirs: dict[str, str]
    forbidden: frozenset[str]  # the id of every record of the other territory


@dataclass(frozen=True)
class Server:
    base_url: str
    dsn: str
    world: DemoWorld
    callers: dict[str, dict[str, str]]
    territories: Territories

    spare_user: str  # a login of nobody in the matrix, to deactivate and reset

    def values(self, caller: str) -> dict[str, str]:
        if caller == "scoped dispatcher":
            return {**self.territories.mine, "user_id": self.spare_user, **_A_STATIC_FILE}
        return {
            **self.world.known,
            "other_technician_id": str(self.world.technicians["A"]),
            "user_id": self.spare_user,
            **_A_STATIC_FILE,
        }


# The pages' files are everyone's: one of them, at its hashed URL.
_A_STATIC_FILE = dict(zip(("digest", "file_name"), STATIC.url("track.js").split("/")[2:], strict=True))


@pytest.fixture(scope="module")
def server(
    cluster: Cluster, demo_world: DemoWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One clone of the demo company for the whole matrix. Refusals are checked first, for every
    operation; then allowed reads; then allowed writes, which may change what later ones find
    (so those are only checked for getting past authorization)."""
    dsn = asyncio.run(clone_demo(cluster))
    territories, scoped_user = asyncio.run(_territories(dsn, demo_world))
    settings = Settings(
        database_url=None, data_dir=tmp_path_factory.mktemp("matrix"), jwt_secret=JWT_SECRET, risk_scan_s=0
    )
    callers = _callers(demo_world)
    callers["scoped dispatcher"] = bearer(
        mint_token(scoped_user, Role.DISPATCHER, territory_id=UUID(territories.mine["territory_id"]))
    )
    spare_user = asyncio.run(_spare_user(dsn))
    with serving_in_thread(create_app(settings, dsn=dsn)) as base_url:
        yield Server(base_url, dsn, demo_world, callers, territories, spare_user)


async def _spare_user(dsn: str) -> str:
    conn = await connect(dsn)
    try:
        return str(
            await conn.fetchval(
                "INSERT INTO users (email, password_hash, role) VALUES ('spare@example.com', 'not-a-hash',"
                " 'dispatcher') RETURNING id"
            )
        )
    finally:
        await conn.close()


def _send(
    server: Server,
    operation: str,
    caller: str,
    values: dict[str, str] | None = None,
    *,
    body: Any = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    method, path = operation.split(" ", 1)
    values = values if values is not None else server.values(caller)
    url = server.base_url + _filled(path, values)
    if params is None and operation == "GET /slots":
        params = {"site_id": values["site_id"], "problem_code": values["code"]}
    if body is None:
        body = _bodies(values).get(operation, {} if method in ("POST", "PUT", "PATCH") else None)
    headers = {**server.callers[caller], **asyncio.run(_if_match(server.dsn, operation, values))}
    response = httpx.request(method, url, params=params, json=body, headers=headers, timeout=60)
    if operation == "POST /auth/logout":
        # Signing out ends every token of the caller: the matrix's callers keep theirs.
        asyncio.run(_execute(server.dsn, "UPDATE users SET token_version = 0"))
    return response


def _filled(path: str, values: dict[str, str]) -> str:
    # A calendar date in a path belongs to no territory: any day will do.
    return path.format(
        **{name: values.get(name, PATH_DATE if name == "date" else "") for name in _names(path)}
    )


def _request(server: Server, operation: str, caller: str) -> int:
    if operation in STREAMS:
        # Only refusals are asked for here: an allowed stream answers 200 and stays open.
        method, path = operation.split(" ", 1)
        values = server.values(caller)
        url = server.base_url + _filled(path, values)
        with httpx.stream(method, url, headers=server.callers[caller], timeout=10) as response:
            return response.status_code
    return _send(server, operation, caller).status_code


async def _execute(dsn: str, sql: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


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


@pytest.mark.parametrize("operation", sorted(op for op, kind in SCOPED.items() if kind == "hidden"))
def test_another_territorys_record_answers_as_one_that_does_not_exist(server: Server, operation: str) -> None:
    mine, theirs = server.territories.mine, server.territories.theirs
    before = asyncio.run(_snapshot(server.dsn)) if not operation.startswith("GET") else None
    for name in _names(operation):
        if name not in PATH_RECORDS:
            continue
        hidden = _send(server, operation, "scoped dispatcher", {**mine, name: theirs[name]})
        missing = _send(server, operation, "scoped dispatcher", {**mine, name: str(uuid4())})
        assert hidden.status_code == 404, f"{operation} with their {name}: {hidden.status_code} {hidden.text}"
        assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json()), (
            f"{operation}: their {name} answers otherwise than a missing one"
        )
    if before is not None:
        assert asyncio.run(_snapshot(server.dsn)) == before, f"{operation}: a hidden record was changed"


@pytest.mark.parametrize(
    "operation",
    sorted(
        op
        for op, kind in SCOPED.items()
        if op.startswith("GET ") and kind in ("hidden", "listed", "shared") and op not in STREAMS
    ),
)
def test_what_a_bound_dispatcher_reads_holds_nothing_of_another_territory(
    server: Server, operation: str
) -> None:
    response = _send(server, operation, "scoped dispatcher")
    assert 200 <= response.status_code < 300 or operation in NO_RECORD, f"{operation}: {response.text}"
    leaked = set(UUID_TEXT.findall(response.text)) & server.territories.forbidden
    assert not leaked, f"{operation} shows {len(leaked)} record(s) of another territory"


@pytest.mark.parametrize("case", sorted(_refusals(_FAKE, _FAKE)))
def test_no_record_goes_to_or_comes_from_another_territory(server: Server, case: str) -> None:
    attempt = _refusals(server.territories.mine, server.territories.theirs)[case]
    before = asyncio.run(_snapshot(server.dsn))
    if attempt.operation in STREAMS:
        method, path = attempt.operation.split(" ", 1)
        with httpx.stream(
            method,
            server.base_url + path,
            params=attempt.params,
            headers=server.callers["scoped dispatcher"],
            timeout=10,
        ) as streamed:
            status, text = streamed.status_code, streamed.read().decode()
    else:
        response = _send(
            server,
            attempt.operation,
            "scoped dispatcher",
            {**server.territories.mine, **attempt.path},
            body=attempt.body,
            params=attempt.params,
        )
        status, text = response.status_code, response.text
    assert status in attempt.expected, f"{case}: {status} {text}"
    assert attempt.about in text, f"{case}: refused for another reason: {text}"
    assert asyncio.run(_snapshot(server.dsn)) == before, f"{case}: the refused request changed the database"


@pytest.mark.parametrize(
    "operation", sorted(op for op in ACCESS if op.startswith("GET ") and op not in STREAMS)
)
def test_documented_callers_read(server: Server, operation: str) -> None:
    for caller in sorted(ALLOWED[ACCESS[operation]]):
        status = _request(server, operation, caller)
        # The bound dispatcher's values name a plan of their territory.
        if operation in NO_RECORD and not (caller == "scoped dispatcher" and "{plan_id}" in operation):
            assert status in (200, 404), f"{operation} as {caller}: {status}"
        else:
            assert 200 <= status < 300, f"{operation} as {caller}: {status}"


@pytest.mark.parametrize("operation", sorted(op for op in ACCESS if not op.startswith("GET ")))
def test_documented_callers_get_past_authorization_to_write(server: Server, operation: str) -> None:
    for caller in sorted(ALLOWED[ACCESS[operation]]):
        response = _send(server, operation, caller)
        status = response.status_code
        assert status not in (401, 403), f"{operation} as {caller}: {status}"
        assert status < 500, f"{operation} as {caller}: {status}"
        if caller == "scoped dispatcher":
            leaked = set(UUID_TEXT.findall(response.text)) & server.territories.forbidden
            assert not leaked, f"{operation} answered with {len(leaked)} record(s) of another territory"


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


_IF_MATCH = {
    "PATCH /jobs/{job_id}",
    "POST /jobs/{job_id}/reassign",
    "POST /jobs/{job_id}/unassign",
    "POST /jobs/{job_id}/pin",
    "POST /jobs/{job_id}/unpin",
    "POST /jobs/{job_id}/window",
}


async def _if_match(dsn: str, operation: str, values: dict[str, str]) -> dict[str, str]:
    if operation not in _IF_MATCH:
        return {}
    conn = await connect(dsn)
    try:
        version = await conn.fetchval("SELECT version FROM jobs WHERE id = $1::text::uuid", values["job_id"])
    finally:
        await conn.close()
    return {"If-Match": f'"{version}"'} if version is not None else {}


# Records of a territory: the territory, its sites and what stands or happens there, its
# technicians with their shifts, vans and logins, its depots and day plans, and the customers
# it alone has (one who also lives or is served in the other territory is that one's too).
_OF_TERRITORY = """
    SELECT $1::uuid AS id
    UNION ALL SELECT id FROM sites WHERE territory_id = $1
    UNION ALL SELECT o.id FROM site_occupancies o JOIN sites s ON s.id = o.site_id WHERE s.territory_id = $1
    UNION ALL SELECT j.id FROM jobs j JOIN sites s ON s.id = j.site_id WHERE s.territory_id = $1
    UNION ALL SELECT a.id FROM assets a JOIN sites s ON s.id = a.site_id WHERE s.territory_id = $1
    UNION ALL SELECT e.id FROM asset_events e JOIN assets a ON a.id = e.asset_id
        JOIN sites s ON s.id = a.site_id WHERE s.territory_id = $1
    UNION ALL SELECT id FROM technicians WHERE territory_id = $1
    UNION ALL SELECT sh.id FROM shifts sh JOIN technicians t ON t.id = sh.technician_id
        WHERE t.territory_id = $1
    UNION ALL SELECT u.id FROM users u JOIN technicians t ON t.id = u.technician_id WHERE t.territory_id = $1
    UNION ALL SELECT l.id FROM stock_locations l LEFT JOIN technicians t ON t.id = l.technician_id
        WHERE coalesce(l.territory_id, t.territory_id) = $1
    UNION ALL SELECT id FROM day_plans WHERE territory_id = $1
    UNION ALL SELECT c.id FROM customers c WHERE
        EXISTS (SELECT 1 FROM site_occupancies o JOIN sites s ON s.id = o.site_id
                WHERE o.customer_id = c.id AND s.territory_id = $1)
        OR EXISTS (SELECT 1 FROM jobs j JOIN sites s ON s.id = j.site_id
                   WHERE j.customer_id = c.id AND s.territory_id = $1)
"""


async def _territories(dsn: str, world: DemoWorld) -> tuple[Territories, UUID]:
    """Their records and mine, read from the clone; a day plan in each, and the bound
    dispatcher's login."""
    conn = await connect(dsn)
    try:
        known = world.known
        mine_t = await conn.fetchval(
            "SELECT s.territory_id FROM jobs j JOIN sites s ON s.id = j.site_id WHERE j.id = $1",
            world.jobs["B"],
        )
        theirs_t = await conn.fetchval(
            "SELECT id FROM territories WHERE id <> $1 ORDER BY name LIMIT 1", mine_t
        )
        # The demo crosses no border: every record of mine names only records of mine.
        crossing = await conn.fetchval(
            """
            SELECT count(*) FROM jobs j JOIN sites s ON s.id = j.site_id
            JOIN technicians t ON t.id = j.technician_id
            WHERE s.territory_id <> t.territory_id
            """
        )
        assert crossing == 0, (
            "the demo company sends technicians across territories; the matrix needs it not to"
        )
        assert (
            await conn.fetchval("SELECT territory_id FROM technicians WHERE id = $1", world.technicians["B"])
            == mine_t
        )

        async def one(sql: str, *args: object) -> str:
            value = await conn.fetchval(sql, *args)
            assert value is not None, sql
            return str(value)

        plans = {}
        for territory in (mine_t, theirs_t):
            plans[territory] = await conn.fetchval(
                """
                INSERT INTO day_plans (territory_id, day, kind, status, time_limit_s, seed, error)
                VALUES ($1, current_date, 'day', 'failed', 1, 0, 'made by the test') RETURNING id
                """,
                territory,
            )

        async def records(territory: UUID, base: dict[str, str]) -> dict[str, str]:
            site = base.get("site_id") or await one(
                """
                SELECT s.id FROM sites s WHERE s.territory_id = $1
                  AND EXISTS (SELECT 1 FROM assets a WHERE a.site_id = s.id)
                  AND EXISTS (SELECT 1 FROM jobs j WHERE j.site_id = s.id)
                ORDER BY s.id LIMIT 1
                """,
                territory,
            )
            point = await conn.fetchrow("SELECT latitude, longitude FROM sites WHERE id = $1::uuid", site)
            assert point is not None
            technician = base.get("technician_id") or await one(
                "SELECT id FROM technicians WHERE territory_id = $1 AND active ORDER BY id LIMIT 1", territory
            )
            found = {
                "job_id": ("SELECT id FROM jobs WHERE site_id = $1::uuid ORDER BY id LIMIT 1", site),
                "customer_id": (
                    "SELECT customer_id FROM site_occupancies WHERE site_id = $1::uuid"
                    " ORDER BY started_at DESC LIMIT 1",
                    site,
                ),
                "shift_id": (
                    "SELECT id FROM shifts WHERE technician_id = $1::uuid ORDER BY starts_at LIMIT 1",
                    technician,
                ),
                "location_id": ("SELECT id FROM stock_locations WHERE technician_id = $1::uuid", technician),
            }
            return {
                **known,
                **{key: base.get(key) or await one(sql, arg) for key, (sql, arg) in found.items()},
                "territory_id": str(territory),
                "site_id": site,
                "technician_id": technician,
                "latitude": str(point["latitude"]),
                "longitude": str(point["longitude"]),
                "asset_id": await one(
                    "SELECT a.id FROM assets a JOIN sites s ON s.id = a.site_id WHERE s.territory_id = $1"
                    " ORDER BY a.id LIMIT 1",
                    territory,
                ),
                "other_technician_id": await one(
                    "SELECT id FROM technicians WHERE territory_id = $1 AND id <> $2::uuid AND active"
                    " ORDER BY id LIMIT 1",
                    territory,
                    technician,
                ),
                "depot_id": await one(
                    "SELECT id FROM stock_locations WHERE kind = 'depot' AND territory_id = $1 LIMIT 1",
                    territory,
                ),
                "plan_id": str(plans[territory]),
                "new_job_id": await one(
                    "SELECT j.id FROM jobs j JOIN sites s ON s.id = j.site_id"
                    " WHERE s.territory_id = $1 AND j.status = 'new' ORDER BY j.window_start_at DESC LIMIT 1",
                    territory,
                ),
            }

        b_keys = ("job_id", "site_id", "customer_id", "technician_id", "shift_id", "location_id")
        mine = await records(mine_t, {key: known[key] for key in b_keys})
        theirs = await records(theirs_t, {})
        forbidden = {str(r["id"]) for r in await conn.fetch(_OF_TERRITORY, theirs_t)}
        forbidden -= {str(r["id"]) for r in await conn.fetch(_OF_TERRITORY, mine_t)}
        assert theirs["customer_id"] in forbidden, "their customer is also mine"
        scoped_user = await conn.fetchval(
            """
            INSERT INTO users (email, password_hash, role, territory_id)
            VALUES ('bound-dispatcher@example.com', 'not-a-hash', 'dispatcher', $1) RETURNING id
            """,
            mine_t,
        )
    finally:
        await conn.close()
    return Territories(mine=mine, theirs=theirs, forbidden=frozenset(forbidden)), scoped_user
