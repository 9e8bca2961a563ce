"""A real OSRM router on a small bundled OpenStreetMap extract (central Helsinki), built and started
once per test session. Tests that need it skip when the OSRM programs are missing, unless
TRUCKROLL_REQUIRE_ROUTER=1 (CI installs them)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from infra.osrm import OsrmPrograms, RunningRouter, build, find_programs, start_router
from infra.settings import Settings
from tests.factories_matching import at

EXTRACT = Path(__file__).parent / "fixtures" / "osm" / "helsinki.osm.pbf"
REQUIRED = os.environ.get("TRUCKROLL_REQUIRE_ROUTER") == "1"


@dataclass(frozen=True)
class RoadRouter:
    programs: OsrmPrograms
    data: Path
    url: str


def programs_or_skip() -> OsrmPrograms:
    programs = find_programs()
    if programs is None:
        if REQUIRED:
            pytest.fail("TRUCKROLL_REQUIRE_ROUTER=1 but the OSRM programs were not found")
        pytest.skip("the OSRM programs are not installed (CI installs them)")
    return programs


@pytest.fixture(scope="session")
def road_router() -> Iterator[RoadRouter]:
    programs = programs_or_skip()
    work = Path(tempfile.mkdtemp(prefix="truckroll-osrm-"))
    router: RunningRouter | None = None
    try:
        data = build(programs, EXTRACT, work, threads=1)
        router = start_router(programs, data, log=work / "routed.log")
        yield RoadRouter(programs, data, router.url)
    finally:
        if router is not None:
            router.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
async def routed_client(
    settings: Settings, dsn: str, road_router: RoadRouter
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """The API with the road router configured, its clock at 8:30 of the test day."""
    app = create_app(msgspec.structs.replace(settings, routing_url=road_router.url), dsn=dsn)
    app.state.clock = lambda: at(8.5)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
