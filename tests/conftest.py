"""One throw-away PostgreSQL cluster per test session; a fresh database per test, cloned from a
migrated template (real commits, so NOTIFY and SKIP LOCKED behave as in production)."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import jwt
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from dispatch.access.accounts import Role
from infra.db import Connection, connect, migrate
from infra.local_postgres import LocalPostgres
from infra.settings import Settings
from tests.demo_template import DEMO_TEMPLATE, DemoWorld, build_demo_template
from tests.road_router import road_router, routed_client  # noqa: F401  (fixtures for every test module)

TEMPLATE = "truckroll_template"
JWT_SECRET = "test-secret-" + "x" * 40


@dataclass(frozen=True)
class Cluster:
    pg: LocalPostgres

    def dsn(self, database: str) -> str:
        return self.pg.dsn(database)


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    base = Path(tempfile.mkdtemp(prefix="truckroll-test-"))
    base.chmod(0o755)  # the postgres user must enter it when we run as root
    pg = LocalPostgres(base, fast_unsafe=True)
    pg.start()

    async def make_template() -> None:
        admin = await connect(pg.dsn("postgres"))
        try:
            await admin.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await admin.close()
        conn = await connect(pg.dsn(TEMPLATE))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    try:
        asyncio.run(make_template())
        yield Cluster(pg)
    finally:
        pg.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
async def dsn(cluster: Cluster) -> AsyncIterator[str]:
    name = f"t_{uuid4().hex[:16]}"
    admin = await connect(cluster.dsn("postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        yield cluster.dsn(name)
        await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        await admin.close()


@pytest.fixture
async def conn(dsn: str) -> AsyncIterator[Connection]:
    """A direct connection to the test's database, for arranging data and checking what was written."""
    connection = await connect(dsn)
    try:
        yield connection
    finally:
        await connection.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=None, data_dir=tmp_path, jwt_secret=JWT_SECRET, pool_min_size=1, pool_max_size=5
    )


@pytest.fixture
def app(settings: Settings, dsn: str) -> Litestar:
    return create_app(settings, dsn=dsn)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


# One argon2 hash for every test user: hashing is deliberately slow.
_PASSWORD = "correct horse battery staple"
_HASH: str | None = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        from dispatch.access.accounts import hash_password

        _HASH = hash_password(_PASSWORD)
    return _HASH


@dataclass(frozen=True)
class Auth:
    user_id: UUID
    headers: dict[str, str]


def mint_token(
    user_id: UUID,
    role: Role,
    *,
    technician_id: UUID | None = None,
    territory_id: UUID | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    # Encoded directly, as the app's JWTAuth encodes them, so tests can also mint expired tokens.
    now = datetime.now(UTC)
    extras = {
        "role": role.value,
        "technician_id": str(technician_id) if technician_id else None,
        "territory_id": str(territory_id) if territory_id else None,
    }
    claims = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "extras": extras,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


async def make_user(
    conn: Connection,
    role: Role,
    *,
    technician_id: UUID | None = None,
    territory_id: UUID | None = None,
    email: str | None = None,
) -> Auth:
    user_id = await conn.fetchval(
        "INSERT INTO users (email, password_hash, role, technician_id, territory_id)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING id",
        email or f"{role.value}-{uuid4().hex[:8]}@example.com",
        password_hash(),
        role.value,
        technician_id,
        territory_id,
    )
    token = mint_token(user_id, role, technician_id=technician_id, territory_id=territory_id)
    return Auth(user_id, {"Authorization": f"Bearer {token}"})


@pytest.fixture
async def admin(conn: Connection) -> Auth:
    return await make_user(conn, Role.ADMIN)


@pytest.fixture
async def dispatcher(conn: Connection) -> Auth:
    return await make_user(conn, Role.DISPATCHER)


os.environ.setdefault("TRUCKROLL_LOG_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def demo_world(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> DemoWorld:
    """The demo company in a template database (seeded once; clone it with `clone_demo`)."""
    return asyncio.run(build_demo_template(cluster.dsn, tmp_path_factory.mktemp("demo-template")))


async def new_database(cluster: Cluster, template: str | None = None) -> str:
    """A new database (empty, or a copy of `template`); returns its DSN."""
    name = f"d_{uuid4().hex[:16]}"
    admin = await connect(cluster.dsn("postgres"))
    try:
        await admin.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
    finally:
        await admin.close()
    return cluster.dsn(name)


async def clone_demo(cluster: Cluster) -> str:
    """A fresh database holding the demo template's data; returns its DSN."""
    return await new_database(cluster, DEMO_TEMPLATE)
