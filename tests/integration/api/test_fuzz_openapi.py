"""Every operation of the OpenAPI document, fuzzed by schemathesis against the real app on a real
database holding the demo company: no server errors, every response in the documented schema
with a documented status, invalid input refused, and no constraint or index name of the schema
in any answer. Every example's path is also asked OPTIONS, which HTTP answers without a token.

Each example is sent with one of the credentials (nobody, a tracking link, a technician, a
dispatcher, a dispatcher scoped to one territory, an admin), and half of them aim at records
that exist (the seeded job, site, technician...), so the handlers are reached past their "not
found" answers.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

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
from dispatch.access.accounts import Role
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
class Credential:
    """What a caller holds: a bearer token, or a tracking link (its token goes in the path)."""

    headers: dict[str, str]
    path_values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class World:
    base_url: str
    dsn: str
    credentials: dict[str, Credential]
    known: dict[str, str]
    schema_names: re.Pattern[str]  # constraint and index names: the schema's words, never an answer's
    http: httpx.Client


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
    b_territory = UUID(demo_world.known["territory_id"])
    credentials = {
        "nobody": Credential({}),
        "tracking link": Credential({}, {"token": demo_world.links["B"]}),
        "technician": Credential(
            bearer(mint_token(demo_world.technician_users["B"], Role.TECHNICIAN, technician_id=b))
        ),
        "dispatcher": Credential(bearer(mint_token(demo_world.dispatcher, Role.DISPATCHER))),
        "scoped dispatcher": Credential(
            bearer(mint_token(demo_world.dispatcher, Role.DISPATCHER, territory_id=b_territory))
        ),
        "admin": Credential(bearer(mint_token(demo_world.admin, Role.ADMIN))),
    }
    names = sorted(asyncio.run(_schema_names(dsn)), key=len, reverse=True)
    with (
        serving_in_thread(create_app(settings_, dsn=dsn)) as base_url,
        httpx.Client(base_url=base_url) as http,
    ):
        yield World(
            base_url, dsn, credentials, demo_world.known, re.compile("|".join(map(re.escape, names))), http
        )


async def _schema_names(dsn: str) -> frozenset[str]:
    conn = await connect(dsn)
    try:
        rows = await conn.fetch(
            """
            SELECT conname AS name FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
            WHERE n.nspname = 'public'
            UNION SELECT indexname FROM pg_indexes WHERE schemaname = 'public'
            """
        )
    finally:
        await conn.close()
    return frozenset(r["name"] for r in rows)


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
    credential = world.credentials[data.draw(st.sampled_from(sorted(world.credentials)), label="credential")]
    if data.draw(st.booleans(), label="aim at records that exist"):
        for name in list(case.path_parameters or {}):
            if name in world.known:
                case.path_parameters[name] = world.known[name]
    for name, value in credential.path_values.items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = value
    response = case.call_and_validate(base_url=world.base_url, headers=credential.headers, checks=CHECKS)
    if case.path == "/auth/logout":
        # Signing out ends every token of the caller: the credentials keep theirs for the next cases.
        asyncio.run(_reset_token_versions(world.dsn))
    if response.status_code >= 400:  # only a refusal could tell of a broken rule
        leaked = world.schema_names.search(response.text)
        assert leaked is None, f"the answer names the schema's {leaked.group()}: {response.text[:300]}"
    _options_answer_as_http_says(case, credential, world, response.status_code)


async def _reset_token_versions(dsn: str) -> None:
    conn = await connect(dsn)
    try:
        await conn.execute("UPDATE users SET token_version = 0")
    finally:
        await conn.close()


def _options_answer_as_http_says(case: Any, credential: Credential, world: World, status: int) -> None:
    options = world.http.options(case.formatted_path, headers=credential.headers)
    if options.status_code == 404:  # no route has this path: the operation itself was a 404
        assert status == 404, f"OPTIONS {case.formatted_path}: 404, but {case.method}: {status}"
        return
    allowed = {m.strip() for m in options.headers.get("Allow", "").split(",")}
    assert options.status_code == 204, f"OPTIONS {case.formatted_path}: {options.status_code} {options.text}"
    assert case.method.upper() in allowed, f"OPTIONS {case.formatted_path}: Allow {allowed}"
    assert options.content == b""


def test_the_fuzzed_document_is_the_served_one(world: World) -> None:
    served = httpx.get(f"{world.base_url}/schema/openapi.json").json()
    assert served == schema.raw_schema
    operations = [
        m for item in served["paths"].values() for m in item if m in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 110
