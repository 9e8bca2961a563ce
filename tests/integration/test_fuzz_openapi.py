"""Every operation of the OpenAPI document, fuzzed by schemathesis against the real app on a real
database holding the demo company: no server errors, every response in the documented schema
with a documented status, and invalid input refused.

Each example is sent as one of the roles (nobody, technician, dispatcher, admin), and half of
them aim at records that exist (the seeded job, site, technician...), so the handlers are reached
past their "not found" answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from dispatch.accounts import Role
from infra.db import connect
from infra.settings import Settings
from tests.conftest import JWT_SECRET, Cluster, clone_demo, mint_token
from tests.demo_template import DemoWorld, bearer
from tests.live_server import serving_in_thread

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::ResourceWarning")

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
]


def _document() -> dict[str, Any]:
    # The document needs no database: it is what /schema/openapi.json serves.
    unused = Settings(database_url=None, data_dir=Path("."), jwt_secret=JWT_SECRET)
    return create_app(unused, dsn="postgresql://unused/unused").openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(_document())
# Tokens come from the roles below, never from the generator, so a case never both drops the
# token and gets one.
schema.config.generation.update(with_security_parameters=False)


@dataclass(frozen=True)
class World:
    base_url: str
    dsn: str
    headers: dict[str, dict[str, str]]
    known: dict[str, str]


@pytest.fixture(scope="module")
def world(
    cluster: Cluster, demo_world: DemoWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The demo company behind uvicorn on a loopback port, in a thread of its own."""
    dsn = asyncio.run(clone_demo(cluster))
    settings_ = Settings(
        database_url=None,
        data_dir=tmp_path_factory.mktemp("fuzz"),
        jwt_secret=JWT_SECRET,
        pool_min_size=1,
        pool_max_size=5,
        risk_scan_s=0,
    )
    b = demo_world.technicians["B"]
    headers = {
        "nobody": {},
        "technician": bearer(mint_token(demo_world.technician_users["B"], Role.TECHNICIAN, technician_id=b)),
        "dispatcher": bearer(mint_token(demo_world.dispatcher, Role.DISPATCHER)),
        "admin": bearer(mint_token(demo_world.admin, Role.ADMIN)),
    }
    with serving_in_thread(create_app(settings_, dsn=dsn)) as base_url:
        yield World(base_url, dsn, headers, demo_world.known)


@schema.parametrize()
@schema.given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(case: Any, data: st.DataObject, world: World) -> None:
    role = data.draw(st.sampled_from(sorted(world.headers)), label="role")
    if data.draw(st.booleans(), label="aim at records that exist"):
        for name in list(case.path_parameters or {}):
            if name in world.known:
                case.path_parameters[name] = world.known[name]
    case.call_and_validate(base_url=world.base_url, headers=world.headers[role], checks=CHECKS)
    if case.path == "/auth/logout":
        # Signing out ends every token of the caller: the roles keep theirs for the next cases.
        asyncio.run(_reset_token_versions(world.dsn))


async def _reset_token_versions(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute("UPDATE users SET token_version = 0")
    finally:
        await conn.close()


def test_the_fuzzed_document_is_the_served_one(world: World) -> None:
    served = httpx.get(f"{world.base_url}/schema/openapi.json").json()
    assert served == schema.raw_schema
    operations = [
        m for item in served["paths"].values() for m in item if m in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 110
