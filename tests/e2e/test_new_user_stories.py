"""The walk of tests/bench/new_user_stories.py as a test: the README's stories driven through the
HTTP API of a `truckroll serve` process, on data made from scratch, every step passing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.bench.new_user_stories import run_stories
from tests.bench.story_walk import PASSWORD
from tests.live_server import free_port, serve_command, wait_until_healthy

ADMIN = "admin@example.com"


def _create_admin(dsn: str, data_dir: Path) -> None:
    env = {**os.environ, "DATABASE_URL": dsn, "TRUCKROLL_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "api.cli", "create-user", ADMIN, "--role", "admin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )


async def test_a_new_user_walks_the_garage_door_windshield_and_dispatcher_stories(
    dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await asyncio.to_thread(_create_admin, dsn, tmp_path)
    # The customers' browsers subscribe with a push endpoint on this machine; no worker sends.
    monkeypatch.setenv("TRUCKROLL_PUSH_ALLOW_INSECURE", "1")
    port = free_port()
    api = serve_command(dsn, tmp_path, port)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            await wait_until_healthy(http)
            walk = await run_stories(http, ADMIN, PASSWORD, echo=False)
    finally:
        api.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(api.wait, 30)
        except subprocess.TimeoutExpired:
            api.kill()
            api.wait()
    failed = [f"{step.name}: {step.status} {step.problem}" for step in walk.steps if not step.passed]
    assert failed == []
    assert len(walk.steps) >= 150
